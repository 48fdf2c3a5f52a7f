import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExportVerificationInput, verifyExport } from '../../src/integrity/verify-export.ts';
import { auditline, type CliEnv } from '../cli/captured-cli.ts';
import { type Backend, backends } from '../support/backends.ts';
import { createTestApp, type Tenant } from '../support/test-app.ts';
import { emitEvents, sealAndSign } from './support.ts';

/** Flips the lowest bit of one UTF-16 code unit. */
const flip = (text: string, at: number) =>
  text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ 1) + text.slice(at + 1);

// Every command that reads the database opens PGlite anew, which takes seconds on a busy machine.
describe.each(backends().map((backend) => backend.name))(
  'auditline integrity commands on %s',
  { timeout: 120_000 },
  (name) => {
    let scratch: string;
    let env: CliEnv;
    let tenant: Tenant;
    const file = (base: string) => join(scratch, base);

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'auditline-integrity-cli-'));
      const backend: Backend =
        name === 'pglite'
          ? { name, config: { kind: 'pglite', dataDir: file('data') } }
          : backends().find((candidate) => candidate.name === 'postgres')!;
      env =
        name === 'pglite' ? { AUDITLINE_DATA_DIR: file('data') } : { DATABASE_URL: process.env.DATABASE_URL };
      // The app writes and seals; it closes before the CLI opens the (single-process) PGlite directory.
      const testApp = await createTestApp(backend);
      try {
        tenant = await testApp.tenant();
        await emitEvents(tenant, 5);
        await sealAndSign(testApp);
        await emitEvents(tenant, 3);
        await sealAndSign(testApp);
        // Stored but not sealed yet when exported: its record says "proof": null.
        await emitEvents(tenant, 1);
      } finally {
        await testApp.close();
      }
    });

    afterAll(async () => {
      await rm(scratch, { recursive: true, force: true });
    });

    /** Runs a command that must succeed and saves what it printed. */
    async function save(base: string, ...argv: string[]) {
      const result = await auditline(env, ...argv);
      expect(result.code, result.stderr).toBe(0);
      await writeFile(file(base), result.stdout);
      return result.stdout;
    }

    const org = () => tenant.organization.id;

    it('exports with proofs, prints checkpoints, consistency proofs and the public key; an auditor verifies offline', async () => {
      const exported = await save('events.jsonl', 'export', '--org', org(), '--format', 'jsonl');
      const records = exported
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(records).toHaveLength(9);
      expect(records.filter((record) => record.proof === null)).toHaveLength(1);
      expect(records[0].proof).toEqual({
        leafIndex: expect.any(Number),
        treeSize: 8,
        hashes: expect.arrayContaining([expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/)]),
      });
      const latest = await save('cp8.txt', 'checkpoint', '--org', org());
      expect(latest).toMatch(
        new RegExp(`^auditline.example/${org()}\\n8\\n[A-Za-z0-9+/]{43}=\\ntime \\d+\\n\\n— `),
      );
      await save('cp5.txt', 'checkpoint', '--org', org(), '--size', '5');
      const proof = JSON.parse(
        await save('consistency.json', 'consistency-proof', '--org', org(), '--from', '5'),
      );
      expect(proof).toMatchObject({ fromSize: 5, toSize: 8 });
      expect(await save('key.txt', 'public-key')).toMatch(
        /^auditline.example\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n$/,
      );

      const verify = (...extra: string[]) =>
        auditline(
          {},
          'verify',
          '--events',
          file('events.jsonl'),
          '--checkpoint',
          file('cp8.txt'),
          '--checkpoint',
          file('cp5.txt'),
          '--consistency',
          file('consistency.json'),
          '--public-key',
          file('key.txt'),
          ...extra,
        );
      const strict = await verify();
      expect(strict).toMatchObject({ code: 1, stdout: '' });
      expect(strict.stderr).toMatch(
        /^error: verification FAILED at line 9 \(evt_[0-9a-f]{32}\): the event has no inclusion proof/,
      );
      expect(await verify('--allow-unproven')).toEqual({
        code: 0,
        stdout:
          'OK: 8 events verified against 2 checkpoints (tree size 5, 8) and 1 consistency proof\n' +
          `log: auditline.example/${org()}\n1 event without a proof skipped (--allow-unproven)\n`,
        stderr: '',
      });
    });

    it('fails, naming what, when any byte of an event, proof, checkpoint, consistency proof or key is flipped', async () => {
      const read = (base: string) => readFile(file(base), 'utf8');
      const lines = (await read('events.jsonl')).split('\n');
      const honest: ExportVerificationInput = {
        lines,
        checkpoints: [
          { name: 'cp5.txt', note: await read('cp5.txt') },
          { name: 'cp8.txt', note: await read('cp8.txt') },
        ],
        consistencyProofs: [JSON.parse(await read('consistency.json'))],
        verifierKey: (await read('key.txt')).trim(),
        allowUnproven: true,
      };
      expect(verifyExport(honest).ok).toBe(true);

      const target = 3;
      const record = lines[target]!;
      for (let at = 0; at < record.length; at++) {
        const mutated = lines.map((line, i) => (i === target ? flip(line, at) : line));
        const result = verifyExport({ ...honest, lines: mutated });
        expect(result.ok, `event byte ${at}: ${record.slice(Math.max(0, at - 20), at + 20)}`).toBe(false);
        expect(result.failure!.subject).toMatch(new RegExp(`^line ${target + 1}\\b|^leaf \\d+`));
      }
      for (const [c, checkpoint] of honest.checkpoints.entries()) {
        for (let at = 0; at < checkpoint.note.length; at++) {
          const checkpoints = honest.checkpoints.map((other, i) =>
            i === c ? { ...other, note: flip(other.note, at) } : other,
          );
          expect(verifyExport({ ...honest, checkpoints }).ok, `${checkpoint.name} byte ${at}`).toBe(false);
        }
      }
      const consistency = JSON.stringify(honest.consistencyProofs![0]);
      for (let at = 0; at < consistency.length; at++) {
        let mutated: unknown;
        try {
          mutated = JSON.parse(flip(consistency, at));
        } catch {
          continue; // the CLI refuses a consistency file that is not JSON before verifying anything
        }
        expect(verifyExport({ ...honest, consistencyProofs: [mutated] }).ok, `consistency byte ${at}`).toBe(
          false,
        );
      }
      for (let at = 0; at < honest.verifierKey.length; at++) {
        expect(
          verifyExport({ ...honest, verifierKey: flip(honest.verifierKey, at) }).ok,
          `key byte ${at}`,
        ).toBe(false);
      }

      // And through the command: a flipped metadata byte fails with exit code 1 and names the event.
      await writeFile(
        file('tampered.jsonl'),
        lines.map((line, i) => (i === target ? line.replace('"n":', '"m":') : line)).join('\n'),
      );
      const tampered = await auditline(
        {},
        'verify',
        '--events',
        file('tampered.jsonl'),
        '--checkpoint',
        file('cp8.txt'),
        '--public-key',
        file('key.txt'),
        '--allow-unproven',
      );
      expect(tampered.code).toBe(1);
      expect(tampered.stderr).toMatch(
        new RegExp(
          `^error: verification FAILED at line ${target + 1} \\(evt_[0-9a-f]{32}, leaf (\\d)\\): event is not leaf \\1 of the tree of size 8`,
        ),
      );
    });

    it('seals and signs on demand, and generates signing keys', async () => {
      const sealed = JSON.parse(await save('seal.json', 'seal', '--json'));
      expect(sealed.sealed).toBeGreaterThanOrEqual(1);
      expect(sealed.checkpointsSigned).toBeGreaterThanOrEqual(1);
      expect(await save('cp9.txt', 'checkpoint', '--org', org())).toMatch(/\n9\n/);

      const generated = await auditline({}, 'signing-key', '--name', 'audit.example.com');
      expect(generated.code).toBe(0);
      const [signing, comment] = generated.stdout.trimEnd().split('\n');
      expect(signing).toMatch(/^SIGNING_KEY=PRIVATE\+KEY\+audit\.example\.com\+[0-9a-f]{8}\+/);
      const configured = await auditline(
        { SIGNING_KEY: signing!.slice('SIGNING_KEY='.length) },
        'public-key',
      );
      expect(configured).toEqual({
        code: 0,
        stdout: `${comment!.slice('# public key for auditors: '.length)}\n`,
        stderr: '',
      });
      const broken = await auditline({ SIGNING_KEY: 'PRIVATE+KEY+nope' }, 'public-key');
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain('SIGNING_KEY: must be an Ed25519 signer key');
    });

    it('explains missing arguments and sizes beyond the log', async () => {
      expect(await auditline({}, 'verify', '--events', file('events.jsonl'))).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('error: missing --checkpoint FILE, --public-key FILE'),
      });
      expect(
        await auditline(env, 'consistency-proof', '--org', org(), '--from', '5', '--to', '99'),
      ).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('--to 99 exceeds'),
      });
    });
  },
);
