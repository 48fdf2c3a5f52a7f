import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The file that says which process has a PGlite data directory open. */
export const LOCK_FILE = 'auditline.pid';

export class DataDirectoryInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The PGlite data directory ${dataDir} is in use by process ${pid} (an Auditline server or command). ` +
        'Embedded PostgreSQL can be opened by one process at a time: stop that process first, ' +
        'or run both on PostgreSQL with DATABASE_URL.',
    );
    this.name = 'DataDirectoryInUseError';
  }
}

/**
 * Claims a PGlite data directory for this process. PGlite has no postmaster to refuse a second
 * process, and two processes writing the same files corrupt them, so the CLI started next to a running
 * server must fail instead. A lock left by a process that died is taken over. Returns the release.
 */
export function lockDataDirectory(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return () => {
        if (ownerOf(path) === process.pid) rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = ownerOf(path);
    if (owner !== null && isAlive(owner)) throw new DataDirectoryInUseError(dataDir, owner);
    rmSync(path, { force: true });
  }
  throw new Error(`Could not claim ${path}: other processes keep creating it`);
}

function ownerOf(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
