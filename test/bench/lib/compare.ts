import type { LoadResult, LoadSpec } from '../load/load-types.ts';
import { runLoad } from '../load/run-load.ts';
import type { BenchContext } from './context.ts';
import { machineBusyShare, machineCpuSeconds, postgresCpuSeconds, type ServerProcess } from './processes.ts';

export interface Contender {
  name: string;
  server: ServerProcess;
  load: Omit<LoadSpec, 'url' | 'durationSeconds'>;
}

export interface ContenderResults {
  runs: LoadResult[];
  /** Highest server RSS (MiB) seen during each measured run. */
  peakRssMiB: number[];
  /** Where each measured run's CPU went, per completed request. */
  cpu: RunCpu[];
}

export interface RunCpu {
  /** Milliseconds of the server process's CPU per request. */
  serverMsPerRequest: number;
  /** Milliseconds of PostgreSQL's CPU (all its processes) per request. */
  postgresMsPerRequest: number;
  /** Share of the machine's CPU (all cores) busy during the run, in percent. */
  machineBusyPercent: number;
}

/** Runs `work` and measures the CPU seconds the server (if any) and PostgreSQL used meanwhile, and how busy the machine was. */
export async function cpuDuring<T>(server: ServerProcess | null, work: () => Promise<T>) {
  const before = {
    server: server?.cpuSeconds() ?? 0,
    postgres: postgresCpuSeconds(),
    machine: machineCpuSeconds(),
  };
  const value = await work();
  const machine = machineCpuSeconds();
  return {
    value,
    serverSeconds: (server?.cpuSeconds() ?? 0) - before.server,
    postgresSeconds: postgresCpuSeconds() - before.postgres,
    machineBusyPercent: Math.round(100 * machineBusyShare(before.machine, machine)),
  };
}

/** Runs `work` and accounts the CPU the server, PostgreSQL and the machine used meanwhile, per request. */
async function accountCpu(server: ServerProcess, work: () => Promise<LoadResult>) {
  const { value, serverSeconds, postgresSeconds, machineBusyPercent } = await cpuDuring(server, work);
  const perRequest = (seconds: number) => round((seconds * 1000) / Math.max(1, value.requests), 3);
  const cpu: RunCpu = {
    serverMsPerRequest: perRequest(serverSeconds),
    postgresMsPerRequest: perRequest(postgresSeconds),
    machineBusyPercent,
  };
  return { value, cpu };
}

/** Samples a server's RSS every `everyMs` while `work` runs; returns the work's value and the samples. */
export async function sampleRss<T>(
  server: ServerProcess,
  everyMs: number,
  work: () => Promise<T>,
): Promise<{ value: T; samples: { atMs: number; rssMiB: number }[] }> {
  const samples: { atMs: number; rssMiB: number }[] = [];
  const started = performance.now();
  const take = () => samples.push({ atMs: Math.round(performance.now() - started), rssMiB: server.rssMiB() });
  take();
  const timer = setInterval(take, everyMs);
  try {
    const value = await work();
    take();
    return { value, samples };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Warms every contender up once, then runs the repeats interleaved (A B C, A B C, A B C) so that
 * drift on a shared machine hits all contenders alike.
 */
export async function compareUnderLoad(
  ctx: BenchContext,
  label: string,
  contenders: Contender[],
): Promise<Map<string, ContenderResults>> {
  const { warmupSeconds, runSeconds, repeats } = ctx.settings;
  for (const contender of contenders) {
    ctx.log(`${label}: warming up ${contender.name} (${warmupSeconds} s)`);
    await runLoad({ ...contender.load, url: contender.server.url, durationSeconds: warmupSeconds });
  }
  const results = new Map<string, ContenderResults>(
    contenders.map((contender) => [contender.name, { runs: [], peakRssMiB: [], cpu: [] }]),
  );
  for (let repeat = 1; repeat <= repeats; repeat += 1) {
    for (const contender of contenders) {
      const {
        value: { value, cpu },
        samples,
      } = await sampleRss(contender.server, 250, () =>
        accountCpu(contender.server, () =>
          runLoad({ ...contender.load, url: contender.server.url, durationSeconds: runSeconds }),
        ),
      );
      const entry = results.get(contender.name)!;
      entry.runs.push(value);
      entry.cpu.push(cpu);
      entry.peakRssMiB.push(Math.max(...samples.map((sample) => sample.rssMiB)));
      ctx.log(
        `${label} ${repeat}/${repeats} ${contender.name}: ${value.requestsPerSecond.toFixed(0)} req/s, ` +
          `p50 ${value.latencyMs.p50.toFixed(2)} ms, p99 ${value.latencyMs.p99.toFixed(2)} ms; CPU per request: ` +
          `server ${cpu.serverMsPerRequest} ms, PostgreSQL ${cpu.postgresMsPerRequest} ms; machine ${cpu.machineBusyPercent} % busy`,
      );
    }
  }
  return results;
}

/** Below this many responses in a run, a p99 is the maximum and a rate is a handful of completions. */
export const FEW_REQUESTS = 20;

/** A warning for the row's note when some run completed too few requests to mean much. */
export function fewRequestsNote(results: Iterable<ContenderResults>): string | undefined {
  const fewest = Math.min(...[...results].flatMap((result) => result.runs.map((run) => run.requests)));
  return fewest < FEW_REQUESTS
    ? `a run completed only ${fewest} requests: too few for a stable figure (raise --run-seconds)`
    : undefined;
}

export const rps = (results: ContenderResults) => results.runs.map((run) => run.requestsPerSecond);
export const p99 = (results: ContenderResults) => results.runs.map((run) => run.latencyMs.p99);

/** Latency and CPU accounting of each run, for the JSON details. */
export function latencyDetails(results: ContenderResults) {
  return results.runs.map((run, index) => ({
    ...results.cpu[index],
    requestsPerSecond: Math.round(run.requestsPerSecond),
    p50: round(run.latencyMs.p50),
    p90: round(run.latencyMs.p90),
    p99: round(run.latencyMs.p99),
    max: round(run.latencyMs.max),
    requests: run.requests,
  }));
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** POSTs once and returns the parsed JSON (for a smoke check before timing anything). */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string> = {},
  method = 'POST',
  // biome-ignore lint/suspicious/noExplicitAny: smoke checks read a few fields of arbitrary GraphQL answers
): Promise<any> {
  const response = await fetch(url, {
    method,
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}
