import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';

/** A server under test, in its own process, listening on 127.0.0.1. */
export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** Resident set size of the server process, in MiB (from /proc). */
  rssMiB(): number;
  /** CPU seconds the server process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Where the child's stderr goes (kept for post-mortems). */
  logFile: string;
  startTimeoutMs?: number;
}

export function rssMiBOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`No VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** CPU time (user + system) the process has used so far, in seconds. */
export function cpuSecondsOf(pid: number): number {
  const fields = statFields(pid);
  // Fields 14 and 15 of /proc/<pid>/stat (utime, stime).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds used so far by PostgreSQL: every running postgres process, plus the postmaster's account
 * of the backends that have exited (a connection closed during a run takes its CPU time with it).
 */
export function postgresCpuSeconds(): number {
  let seconds = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      const fields = statFields(Number(entry));
      // utime, stime, and cutime, cstime: CPU of children it has waited for (only the postmaster has any).
      seconds += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return seconds;
}

/** The fields of /proc/<pid>/stat after the command name (field 3, the state, comes first). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time the whole machine has spent busy and in all, in seconds summed over its cores (from /proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu  user nice system idle iowait irq softirq steal …, in clock ticks (1/100 s).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy: busy / 100, total: (busy + idle! + iowait!) / 100 };
}

/** Share (0 to 1) of the machine's CPU that was busy between two `machineCpuSeconds()` readings. */
export function machineBusyShare(
  before: { busy: number; total: number },
  after: { busy: number; total: number },
) {
  return (after.busy - before.busy) / Math.max(0.01, after.total - before.total);
}

/** Starts a server that prints `LISTENING <port>` on stdout once it accepts connections. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child: ChildProcess = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.pipe(log);
  const port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `${options.name} did not start within ${options.startTimeoutMs ?? 60_000} ms; see ${options.logFile}`,
          ),
        ),
      options.startTimeoutMs ?? 60_000,
    );
    child.stdout!.on('data', (data: Buffer) => {
      seen += data.toString();
      const match = /LISTENING (\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited with ${code} before listening; see ${options.logFile}`));
    });
  });
  child.stdout!.resume();
  const exited = once(child, 'exit');
  return {
    name: options.name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    rssMiB: () => rssMiBOf(child.pid!),
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        process.stderr.write(`[bench] ${options.name} did not stop within 15 s of SIGTERM; killing it\n`);
        child.kill('SIGKILL');
      }, 15_000);
      await exited;
      clearTimeout(timer);
      log.end();
    },
  };
}
