import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirectoryInUseError, LOCK_FILE, lockDataDirectory } from '../../src/db/data-dir-lock.ts';

describe('the PGlite data directory lock', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'auditline-lock-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('lets one holder in at a time, naming the holder to the next', () => {
    const release = lockDataDirectory(dataDir);
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    expect(() => lockDataDirectory(dataDir)).toThrow(DataDirectoryInUseError);
    expect(() => lockDataDirectory(dataDir)).toThrow(`in use by process ${process.pid}`);
    release();
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    lockDataDirectory(dataDir)();
  });

  it('takes over a lock left by a process that died', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(join(dataDir, LOCK_FILE), `${dead.stdout}\n`);
    const release = lockDataDirectory(dataDir);
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
  });

  it('leaves alone a lock that another process took after this one let go', () => {
    const release = lockDataDirectory(dataDir);
    writeFileSync(join(dataDir, LOCK_FILE), '1\n');
    release();
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim()).toBe('1');
  });
});
