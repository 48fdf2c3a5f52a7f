import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleEvent } from '../../src/export/destination-test.ts';
import { createTransport, type DestinationType } from '../../src/export/destinations/index.ts';
import type { DeliveryError, OutgoingBatch } from '../../src/export/destinations/transport.ts';
import { OutboundConnector, type ResolveHost } from '../../src/network/connector.ts';
import {
  type Canary,
  startHttpCanary,
  startIpv6TcpCanary,
  startTcpCanary,
} from './support/loopback-canary.ts';

// Every transport's own dial path, without a database: refused targets open no connection at all.

const ALLOW = '; allow it with DESTINATION_ALLOW_NETWORKS';

const batch = (): OutgoingBatch => {
  const event = sampleEvent('org_sample');
  return {
    id: 'batch',
    destinationId: 'dst_sample',
    organizationId: 'org_sample',
    format: 'cef',
    events: [event],
    records: ['CEF:0|Auditline|Auditline|1.0|sample|sample|3| externalId=n0'],
    actionOverrides: [],
  };
};

interface TransportCase {
  name: string;
  type: DestinationType;
  url: (authority: string) => string;
  secret: string | null;
  options?: (authority: string) => Record<string, unknown>;
}

const TRANSPORTS: TransportCase[] = [
  {
    name: 'webhook',
    type: 'webhook',
    url: (at) => `http://${at}/hook`,
    secret: `whsec_${randomBytes(32).toString('base64')}`,
  },
  { name: 'Splunk HEC', type: 'splunk-hec', url: (at) => `http://${at}`, secret: 'hec-token' },
  { name: 'syslog over TCP', type: 'syslog', url: (at) => `tcp://${at}`, secret: null },
  { name: 'syslog over TLS', type: 'syslog', url: (at) => `tls://${at}`, secret: null },
  { name: 'syslog over RELP', type: 'syslog', url: (at) => `relp://${at}`, secret: null },
  { name: 'S3', type: 's3', url: (at) => `http://${at}/bucket/prefix`, secret: 'AKID:SECRET' },
  {
    name: 'Sentinel',
    type: 'sentinel',
    url: (at) => `http://${at}/dataCollectionRules/dcr-1/streams/Custom-Audit`,
    secret: 'client-secret',
    options: (at) => ({ tokenUrl: `http://${at}/token`, clientId: 'app' }),
  },
  { name: 'Datadog', type: 'datadog', url: (at) => `http://${at}/api/v2/logs`, secret: 'dd-key' },
];

function transportFor(entry: TransportCase, authority: string, connector: OutboundConnector) {
  return createTransport(entry.type, {
    destinationUuid: '00000000-0000-7000-8000-000000000000',
    url: entry.url(authority),
    format: 'cef',
    options: entry.options?.(authority) ?? {},
    secret: entry.secret,
    timeoutMs: 2000,
    connector,
  });
}

const failure = (promise: Promise<void>) =>
  promise.then(
    () => {
      throw new Error('the send succeeded');
    },
    (error: DeliveryError) => error,
  );

describe('every destination transport dials through the connector', () => {
  let v4: Canary;
  let v6: Canary | null;
  beforeAll(async () => {
    v4 = await startTcpCanary('127.0.0.1', 'drop');
    v6 = await startIpv6TcpCanary('drop');
  });
  afterAll(async () => {
    await Promise.all([v4?.close(), v6?.close()]);
  });

  const refusedTargets = () => [
    { authority: `127.0.0.1:${v4.port}`, reason: /^127\.0\.0\.1 is a loopback address$/ },
    {
      authority: `localhost:${v4.port}`,
      reason: /^localhost resolves to (127\.0\.0\.1|::1), a loopback address$/,
    },
    { authority: `[::1]:${v6?.port ?? v4.port}`, reason: /^::1 is a loopback address$/ },
    { authority: `0.0.0.0:${v4.port}`, reason: /^0\.0\.0\.0 is an unspecified address$/ },
    {
      authority: `[::ffff:127.0.0.1]:${v4.port}`,
      reason: /^::ffff:(7f00:1|127\.0\.0\.1) embeds 127\.0\.0\.1, a loopback address$/,
    },
  ];

  it.each(TRANSPORTS)('$name refuses loopback targets without connecting', async (entry) => {
    const connector = new OutboundConnector('');
    for (const { authority, reason } of refusedTargets()) {
      const error = await failure(transportFor(entry, authority, connector).send(batch()));
      expect(error.name, authority).toBe('DeliveryError');
      expect(error.mayHaveDelivered, authority).toBe(false);
      // Sentinel asks its token endpoint first and says so.
      const message = error.message.replace(/^token request: /, '');
      expect(message.startsWith('refused: '), `${authority}: ${message}`).toBe(true);
      expect(message.endsWith(ALLOW), message).toBe(true);
      expect(message.slice('refused: '.length, -ALLOW.length)).toMatch(reason);
    }
    expect(v4.connections).toBe(0);
    expect(v6?.connections ?? 0).toBe(0);
  });

  it.each(TRANSPORTS)(
    '$name reaches the same target once DESTINATION_ALLOW_NETWORKS allows it',
    async (entry) => {
      const connector = new OutboundConnector('127.0.0.0/8,::1/128');
      const before = v4.connections;
      // The canary drops every connection: most sends fail, but only after connecting.
      const outcome = await transportFor(entry, `127.0.0.1:${v4.port}`, connector)
        .send(batch())
        .then(
          () => 'sent',
          (error: Error) => error.message,
        );
      expect(outcome).not.toMatch(/refused: /);
      expect(v4.connections).toBe(before + 1);
    },
  );
});

describe('the connector resolves once and connects to what it checked', () => {
  let http: Canary;
  beforeAll(async () => {
    http = await startHttpCanary();
  });
  afterAll(async () => {
    await http?.close();
  });

  /** Names only this resolver knows, so a connection to them proves the connector's lookup was used. */
  const fakeDns =
    (answers: Record<string, string[]>): ResolveHost =>
    async (hostname) => {
      const addresses = answers[hostname];
      if (!addresses)
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };

  it('connects a name to the address its check passed, and keeps the name in the Host header', async () => {
    const connector = new OutboundConnector('127.0.0.0/8', {
      resolveHost: fakeDns({ 'receiver.test': ['127.0.0.1'] }),
    });
    const webhook = transportFor(TRANSPORTS[0]!, `receiver.test:${http.port}`, connector);
    const sent = http.requests.length;
    // The webhook path is /hook, which the canary answers with 500: connected, answered, refused.
    const error = await failure(webhook.send(batch()));
    expect(error.message).toMatch(/^The webhook receiver answered 500: internal-service-secret: /);
    expect(http.requests.slice(sent)).toEqual([{ url: '/hook', host: `receiver.test:${http.port}` }]);
  });

  it('does not follow a redirect, so a receiver cannot bounce a batch to another host', async () => {
    const inside = await startHttpCanary();
    try {
      const connector = new OutboundConnector('127.0.0.0/8');
      const target = encodeURIComponent(`http://127.0.0.1:${inside.port}/ok`);
      const webhook = createTransport('webhook', {
        destinationUuid: '00000000-0000-7000-8000-000000000000',
        url: `http://127.0.0.1:${http.port}/redirect?to=${target}`,
        format: 'cef',
        options: {},
        secret: TRANSPORTS[0]!.secret,
        timeoutMs: 2000,
        connector,
      });
      const error = await failure(webhook.send(batch()));
      expect(error.message).toBe('The webhook receiver answered 307');
      expect(error.mayHaveDelivered).toBe(false);
      expect(inside.connections).toBe(0);
    } finally {
      await inside.close();
    }
  });

  it('refuses a name when any of its addresses is refused, and when it rebinds to loopback', async () => {
    let calls = 0;
    const connector = new OutboundConnector('198.51.100.0/24', {
      resolveHost: async (hostname) => {
        if (hostname === 'mixed.test')
          return [
            { address: '198.51.100.7', family: 4 },
            { address: '127.0.0.1', family: 4 },
          ];
        return calls++ === 0 ? [{ address: '198.51.100.7', family: 4 }] : [{ address: '::1', family: 6 }];
      },
    });
    expect(await connector.refusalFor('mixed.test')).toBe(
      `refused: mixed.test resolves to 127.0.0.1, a loopback address${ALLOW}`,
    );
    expect(await connector.refusalFor('rebind.test')).toBeNull();
    const connections = http.connections;
    const error = await failure(
      transportFor(TRANSPORTS[0]!, `rebind.test:${http.port}`, connector).send(batch()),
    );
    expect(error.message).toBe(`refused: rebind.test resolves to ::1, a loopback address${ALLOW}`);
    expect(error.mayHaveDelivered).toBe(false);
    expect(calls).toBe(2);
    expect(http.connections).toBe(connections);
  });

  it('says at save time that a name does not resolve is fine, but localhost is loopback whatever the resolver says', async () => {
    const connector = new OutboundConnector('', { resolveHost: fakeDns({}) });
    expect(await connector.refusalFor('siem.example')).toBeNull();
    expect(await connector.refusalFor('localhost')).toBe(
      `refused: localhost is a loopback name; allow 127.0.0.0/8 with DESTINATION_ALLOW_NETWORKS`,
    );
    expect(await connector.refusalFor('app.localhost')).toMatch(
      /^refused: app\.localhost is a loopback name/,
    );
    expect(
      await new OutboundConnector('127.0.0.0/8', { resolveHost: fakeDns({}) }).refusalFor('localhost'),
    ).toBeNull();
    expect(await connector.refusalFor('10.0.0.1')).toBe(`refused: 10.0.0.1 is a private address${ALLOW}`);
    expect(await connector.refusalFor('169.254.169.254')).toBe(
      `refused: 169.254.169.254 is a cloud metadata address${ALLOW}`,
    );
  });
});

describe('TLS through the connector', () => {
  let directory: string;
  let server: TlsServer;
  let port: number;
  const serverNames: (string | false | null)[] = [];
  let certificate: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'auditline-sni-'));
    const certFile = join(directory, 'cert.pem');
    const keyFile = join(directory, 'key.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=siem.test'].concat([
        '-addext',
        'subjectAltName=DNS:siem.test',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ]),
      { stdio: 'ignore' },
    );
    certificate = readFileSync(certFile, 'utf8');
    server = createTlsServer({ key: readFileSync(keyFile), cert: certificate }, (socket) => {
      serverNames.push(socket.servername);
      socket.resume();
      socket.on('end', () => socket.end());
      socket.on('error', () => {});
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    rmSync(directory, { recursive: true, force: true });
  });

  it('sends the host name as SNI and checks the certificate against it, not against the address', async () => {
    const connector = new OutboundConnector('127.0.0.0/8', {
      resolveHost: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const syslogTo = (host: string) =>
      createTransport('syslog', {
        destinationUuid: '00000000-0000-7000-8000-000000000000',
        url: `tls://${host}:${port}`,
        format: 'cef',
        options: { caCertificate: certificate },
        secret: null,
        timeoutMs: 3000,
        connector,
      });
    await syslogTo('siem.test').send(batch());
    expect(serverNames).toEqual(['siem.test']);
    expect((await failure(syslogTo('other.test').send(batch()))).message).toMatch(
      /^tls:\/\/other\.test:\d+: Hostname\/IP does not match certificate's altnames: Host: other\.test\. is not in the cert's altnames: DNS:siem\.test$/,
    );
    expect((await failure(syslogTo('127.0.0.1').send(batch()))).message).toMatch(
      /IP: 127\.0\.0\.1 is not in the cert's list/,
    );
  });
});
