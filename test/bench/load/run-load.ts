import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuSecondsOf } from '../lib/processes.ts';
import type { LoadJob } from './load-child.ts';
import type { LoadResult, LoadSpec } from './load-types.ts';
import type { PacedPostResult, PacedPostSpec } from './paced-post.ts';
import type { RawBatchResult, RawBatchSpec } from './raw-batch.ts';
import type { RawNotifyResult, RawNotifySpec } from './raw-notify.ts';

const CHILD = fileURLToPath(new URL('./load-child.ts', import.meta.url));

let child: ChildProcess | null = null;
let queue: Promise<unknown> = Promise.resolve();

function loadChild(): ChildProcess {
  if (child && child.exitCode === null) return child;
  child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return child;
}

/** Runs one job in the load generator process (forked on first use); jobs run one after another. */
function runJob<Result>(job: LoadJob): Promise<Result> {
  const next = queue.then(
    () =>
      new Promise<Result>((resolve, reject) => {
        const generator = loadChild();
        const onExit = (code: number | null) =>
          reject(new Error(`load generator exited with ${code} during a job`));
        generator.once('exit', onExit);
        generator.once('message', (message: { result: Result } | { error: string }) => {
          generator.off('exit', onExit);
          if ('error' in message) reject(new Error(`load generator failed: ${message.error}`));
          else resolve(message.result);
        });
        generator.send(job);
      }),
  );
  queue = next.catch(() => {});
  return next;
}

/** Runs an HTTP load; rejects when any request failed, so no figure hides errors. */
export async function runLoad(
  spec: LoadSpec,
  options: { allowFailures?: boolean } = {},
): Promise<LoadResult> {
  const result = await runJob<LoadResult>({ kind: 'http', spec });
  const problems = result.failed + result.errors + result.timeouts;
  if (problems > 0 && !options.allowFailures) {
    throw new Error(
      `${problems} of ${result.requests} requests to ${spec.url} failed ` +
        `(${result.errors} socket errors, ${result.timeouts} timeouts); first: ${result.firstFailure}`,
    );
  }
  return result;
}

export const runRawBatch = (spec: RawBatchSpec) => runJob<RawBatchResult>({ kind: 'raw-batch', spec });

export const runRawNotify = (spec: RawNotifySpec) => runJob<RawNotifyResult>({ kind: 'raw-notify', spec });

export const runPacedPost = (spec: PacedPostSpec) => runJob<PacedPostResult>({ kind: 'paced-post', spec });

/**
 * Runs a paced POST load in a load generator process of its own, at the same time as whatever the
 * shared one runs (two clients at once, each with its own event loop); the process ends with the job.
 */
export function runPacedPostApart(spec: PacedPostSpec): Promise<PacedPostResult> {
  const apart = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<PacedPostResult>((resolve, reject) => {
    apart.once('exit', (code) => reject(new Error(`load generator exited with ${code} during a job`)));
    apart.once('message', (message: { result: PacedPostResult } | { error: string }) => {
      if ('error' in message) reject(new Error(`load generator failed: ${message.error}`));
      else resolve(message.result);
    });
    apart.send({ kind: 'paced-post', spec } satisfies LoadJob);
  }).finally(() => apart.kill('SIGTERM'));
}

/** CPU seconds the load generator process has used so far (0 before it started). */
export function loadGeneratorCpuSeconds(): number {
  return child?.pid && child.exitCode === null ? cpuSecondsOf(child.pid) : 0;
}

/** Ends the load generator process (the harness calls it when done). */
export async function stopLoadGenerator(): Promise<void> {
  const running = child;
  child = null;
  if (!running || running.exitCode !== null) return;
  const exited = new Promise((resolve) => running.once('exit', resolve));
  running.kill('SIGTERM');
  await exited;
}
