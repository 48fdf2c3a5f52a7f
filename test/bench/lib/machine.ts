import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type postgres from 'postgres';

export interface MachineInfo {
  cores: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
  postgres: string;
  os: string;
  /** 1/5/15-minute load averages when the run started: anything near `cores` means a busy machine. */
  loadAverageAtStart: number[];
  postgresSettings: Record<string, string>;
}

const SETTINGS = [
  'shared_buffers',
  'synchronous_commit',
  'fsync',
  'wal_level',
  'max_wal_size',
  'work_mem',
  'effective_cache_size',
  'max_connections',
];

export async function describeMachine(sql: postgres.Sql): Promise<MachineInfo> {
  const [version] = await sql<{ server_version: string }[]>`show server_version`;
  const settings = await sql<{ name: string; setting: string; unit: string | null }[]>`
    select name, setting, unit from pg_settings where name = any(${SETTINGS})`;
  const release = existsSync('/etc/os-release')
    ? /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]
    : undefined;
  return {
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    postgres: version?.server_version ?? 'unknown',
    os: `${release ?? os.type()} (${os.type()} ${os.release()} ${os.arch()})`,
    loadAverageAtStart: os.loadavg().map((load) => Math.round(load * 100) / 100),
    postgresSettings: Object.fromEntries(
      settings.map((row) => [row.name, row.unit ? `${row.setting} ${row.unit}` : row.setting]),
    ),
  };
}
