import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleEvent } from '../../src/export/destination-test.ts';
import { parseRelpUrl, readRelpFrames, relpFrame } from '../../src/export/destinations/relp.ts';
import { syslogTransport } from '../../src/export/destinations/syslog.ts';
import type { DeliveryError, OutgoingBatch } from '../../src/export/destinations/transport.ts';
import { OutboundConnector } from '../../src/network/connector.ts';
import type { Tenant, TestApp } from '../support/test-app.ts';
import {
  CREATE_DESTINATION,
  DESTINATION,
  isolatedTestApp,
  LOOPBACK_DESTINATIONS,
  oneBackend,
  startDeliveryWorker,
} from './support/delivery.ts';
import { emitNumbered } from './support/emit.ts';
import { waitFor } from './support/receivers.ts';
import { imrelpMissing, type Rsyslog, startRsyslog } from './support/rsyslog.ts';

const missing = imrelpMissing();
if (missing) console.warn(`Skipping the rsyslog RELP receiver tests: ${missing}`);

const BATCH = 100;

const cefExternalId = (line: string) => / externalId=(evt_[0-9a-f]{32})/.exec(line)?.[1];

describe.skipIf(missing !== null).each(oneBackend())(
  'syslog over RELP to a real rsyslog on $name',
  (backend) => {
    let t: TestApp;
    let worker: ReturnType<typeof startDeliveryWorker>;
    const receivers: Rsyslog[] = [];
    beforeAll(async () => {
      t = await isolatedTestApp(backend);
      worker = startDeliveryWorker(t, { DELIVERY_BATCH_SIZE: String(BATCH), DELIVERY_TIMEOUT_MS: '2500' });
    });
    afterAll(async () => {
      await worker.stop();
      for (const receiver of receivers) await receiver.dispose();
      await t.close();
    });

    async function relpDestination(tenant: Tenant, rsyslog: Rsyslog, input: Record<string, unknown> = {}) {
      const url = `relp://127.0.0.1:${rsyslog.port}`;
      const result = await tenant.gql(CREATE_DESTINATION, {
        input: { name: 'siem', type: 'SYSLOG', url, format: 'CEF', ...input },
      });
      expect(result.errors).toBeUndefined();
      const { id } = result.data!.createDestination as { id: string };
      return async () => (await tenant.gql(DESTINATION, { id })).data!.destination;
    }

    it('delivers CEF over RELP; every event is acknowledged, arrives once and parses with mmnormalize', async () => {
      const rsyslog = await startRsyslog({ relp: true });
      receivers.push(rsyslog);
      const tenant = await t.tenant();
      const current = await relpDestination(tenant, rsyslog);
      const ids = await emitNumbered(tenant, 60);
      await waitFor(async () => (await current()).deliveredCount === 60, 'the cursor to pass 60 events');
      // Acknowledged means written: no waiting for the file once the cursor moved.
      expect(rsyslog.lines().map(cefExternalId)).toEqual(ids);
      // `PRI TIMESTAMP HOST APP MSGID MSG` as the test's rsyslog template writes it.
      const [pri, timestamp, , app, msgid] = rsyslog.lines()[0]!.split(' ');
      expect([Number(pri), app, msgid]).toEqual([13 * 8 + 5, 'auditline', 'audit']);
      expect(timestamp).toMatch(/^2026-01-01T00:00:00(\.000)?(Z|\+00:00)$/);
      const parsed = rsyslog.parsed().map((entry) => entry.cef);
      expect(parsed.map((cef) => cef.Extensions.externalId)).toEqual(ids);
      expect(parsed[0]).toMatchObject({
        DeviceVendor: 'Auditline',
        SignatureID: 'user.login_failed',
        Extensions: {
          act: 'user.login_failed',
          suid: 'usr_0',
          duser: 'Plan | Q3 = "final"',
          outcome: 'failure',
        },
      });
      expect(await current()).toMatchObject({ status: 'ACTIVE', lastError: null, duplicatesCount: 0 });
    });

    it('survives the receiver being killed mid-batch: after a restart every event arrived, in order, none skipped', async () => {
      const rsyslog = await startRsyslog({ relp: true });
      receivers.push(rsyslog);
      const tenant = await t.tenant();
      // A backlog first, so batches of exactly BATCH follow each other while more events keep coming.
      const ids = await emitNumbered(tenant, 6 * BATCH);
      const current = await relpDestination(tenant, rsyslog, { fromBeginning: true });
      // Rounds of BATCH events keep coming until three rounds after the kill (or a safety limit).
      let killedAtRound: number | null = null;
      let round = 6;
      const emitting = (async () => {
        for (; round < 400 && (killedAtRound === null || round < killedAtRound + 3); round++) {
          ids.push(...(await emitNumbered(tenant, BATCH, round * BATCH)));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      // Kill rsyslog while it holds part of a batch: stop it when the file shows a batch half written,
      // and kill it if it is still half way (it may have finished the batch between look and stop).
      let linesAtKill = 0;
      for (;;) {
        if (round >= 400) throw new Error('never caught rsyslog in the middle of a batch');
        const written = rsyslog.lines().length;
        if (written >= BATCH && written % BATCH !== 0) {
          rsyslog.freeze();
          await waitFor(() => rsyslog.frozen(), 'rsyslogd to stop');
          linesAtKill = rsyslog.lines().length;
          if (linesAtKill % BATCH !== 0) break;
          rsyslog.thaw();
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      killedAtRound = round;
      await rsyslog.kill();
      expect(rsyslog.lines().length).toBe(linesAtKill);
      await waitFor(async () => (await current()).status === 'FAILING', 'FAILING');
      expect((await current()).lastError).toMatch(/ECONNREFUSED/);
      await emitting;
      await rsyslog.restart();

      const unique = () => new Set(rsyslog.lines().map(cefExternalId)).size;
      await waitFor(() => unique() >= ids.length, 'every event after recovery', 30_000);
      await waitFor(async () => (await current()).lagEvents === 0, 'the cursor to catch up');

      const arrived = rsyslog.lines().map((line) => cefExternalId(line)!);
      const firstSeen = arrived.filter((id, index) => arrived.indexOf(id) === index);
      expect(firstSeen).toEqual(ids);
      const recovered = await current();
      expect(recovered).toMatchObject({ status: 'ACTIVE', attempts: 0, deliveredCount: ids.length });
      // The half-written batch was sent again whole: its written part arrived twice, was counted as
      // possible duplicates, and nothing else was repeated.
      const duplicates = arrived.length - firstSeen.length;
      expect(duplicates).toBe(linesAtKill % BATCH);
      expect(duplicates).toBeLessThanOrEqual(recovered.duplicatesCount);
      const repeated = arrived.filter((id, index) => arrived.indexOf(id) !== index);
      const batchAtKill = ids.slice(linesAtKill - (linesAtKill % BATCH), linesAtKill);
      expect(repeated).toEqual(batchAtKill);
    }, 90_000);
  },
);

/** A batch of `count` sample events as the RELP transport gets it. */
function sampleBatch(count: number): OutgoingBatch {
  const events = Array.from({ length: count }, () => sampleEvent('org_sample'));
  // `as`: actionOverrides joins OutgoingBatch with the per-organization action mappings change.
  return {
    id: 'batch',
    destinationId: 'dst_sample',
    organizationId: 'org_sample',
    format: 'cef',
    events,
    records: events.map((_, index) => `CEF:0|Auditline|Auditline|1.0|sample|sample|3| externalId=n${index}`),
    actionOverrides: [],
  } as OutgoingBatch;
}

const relpTransport = (port: number, timeoutMs = 2000) =>
  syslogTransport({
    destinationUuid: 'uuid',
    url: `relp://127.0.0.1:${port}`,
    format: 'cef',
    options: {},
    secret: null,
    timeoutMs,
    connector: new OutboundConnector(LOOPBACK_DESTINATIONS.DESTINATION_ALLOW_NETWORKS),
  });

const failure = (promise: Promise<void>) =>
  promise.then(
    () => {
      throw new Error('the send succeeded');
    },
    (error: DeliveryError) => error,
  );

describe('the RELP client', () => {
  it('reads frames however they are cut, and refuses what is not RELP', () => {
    const bytes = Buffer.concat([
      relpFrame(1, 'rsp', Buffer.from('200 OK\nrelp_version=0\ncommands=syslog')),
      relpFrame(2, 'rsp', Buffer.from('200 OK')),
      relpFrame(0, 'serverclose'),
    ]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const first = readRelpFrames(bytes.subarray(0, cut));
      const second = readRelpFrames(Buffer.concat([first.rest, bytes.subarray(cut)]));
      const frames = [...first.frames, ...second.frames].map((frame) => [
        frame.txnr,
        frame.command,
        frame.data.toString(),
      ]);
      expect(frames).toEqual([
        [1, 'rsp', '200 OK\nrelp_version=0\ncommands=syslog'],
        [2, 'rsp', '200 OK'],
        [0, 'serverclose', ''],
      ]);
      expect(second.rest.length).toBe(0);
    }
    expect(() => readRelpFrames(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow(/not a RELP frame/);
    expect(() => readRelpFrames(Buffer.from('2 rsp 6 200 OKX'))).toThrow(/malformed/);
    expect(parseRelpUrl('relp://[::1]:2514')).toEqual({ host: '::1', port: 2514 });
    expect(parseRelpUrl('relp://siem:0')).toBeNull();
    expect(parseRelpUrl('tcp://siem:2514')).toBeNull();
  });

  describe('against a fake RELP peer (answers scripted per test)', () => {
    let server: Server;
    let port: number;
    let answer: (socket: Socket, txnr: number, command: string) => void;
    beforeAll(async () => {
      server = createServer((socket) => {
        let pending: Buffer = Buffer.alloc(0);
        socket.on('data', (chunk) => {
          const { frames, rest } = readRelpFrames(Buffer.concat([pending, chunk]));
          pending = rest;
          for (const frame of frames) answer(socket, frame.txnr, frame.command);
        });
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const respond = (socket: Socket, txnr: number, text: string) =>
      socket.write(relpFrame(txnr, 'rsp', Buffer.from(text)));
    const open = (socket: Socket, txnr: number, command: string) => {
      if (command !== 'open') return false;
      respond(socket, txnr, '200 OK\nrelp_version=0\ncommands=syslog');
      return true;
    };

    it('takes a batch as delivered only when every message got 200, even answered a byte at a time', async () => {
      const seen: string[] = [];
      answer = (socket, txnr, command) => {
        seen.push(command);
        if (open(socket, txnr, command) || command === 'close') return;
        const bytes = relpFrame(txnr, 'rsp', Buffer.from('200 OK'));
        for (const byte of bytes) socket.write(Buffer.of(byte));
      };
      await relpTransport(port).send(sampleBatch(300));
      expect(seen.slice(0, 1)).toEqual(['open']);
      expect(seen.filter((command) => command === 'syslog')).toHaveLength(300);
    });

    it('fails the batch when one message is refused, saying it may have delivered the others', async () => {
      answer = (socket, txnr, command) => {
        if (open(socket, txnr, command) || command === 'close') return;
        respond(socket, txnr, txnr === 4 ? '500 queue full' : '200 OK');
      };
      const error = await failure(relpTransport(port).send(sampleBatch(5)));
      expect(error.message).toMatch(/refused message 3 of 5: 500 queue full/);
      expect(error.mayHaveDelivered).toBe(true);
    });

    it('fails the batch when the peer ends the session with serverclose before acknowledging all', async () => {
      answer = (socket, txnr, command) => {
        if (open(socket, txnr, command) || command === 'close') return;
        if (txnr === 3) socket.end(relpFrame(0, 'serverclose'));
        else if (txnr < 3) respond(socket, txnr, '200 OK');
      };
      const error = await failure(relpTransport(port).send(sampleBatch(4)));
      expect(error.message).toMatch(/closed the session \(1 of 4 acknowledged\)/);
    });

    it('fails without having delivered when the session is refused, and when no answer comes in time', async () => {
      answer = (socket, txnr) => respond(socket, txnr, '500 busy');
      const refused = await failure(relpTransport(port).send(sampleBatch(2)));
      expect(refused.message).toMatch(/refused the session: 500 busy/);
      expect(refused.mayHaveDelivered).toBe(false);
      answer = (socket, txnr, command) => {
        open(socket, txnr, command);
      };
      const silent = await failure(relpTransport(port, 300).send(sampleBatch(2)));
      expect(silent.message).toMatch(/did not acknowledge within 300 ms \(0 of 2\)/);
      expect(silent.mayHaveDelivered).toBe(true);
    });
  });
});
