/**
 * The load generator, forked once by the harness so it never shares an event loop with a server
 * under test. Takes jobs over IPC one at a time: `http` runs autocannon with a LoadSpec and answers a
 * LoadResult; `raw-batch` runs the multi-row INSERT baseline (raw-batch.ts); `raw-notify` the LISTEN/NOTIFY
 * round trip the live stream is compared with (raw-notify.ts); `paced-post` the live stream's emitter
 * (paced-post.ts).
 *
 * Latencies are collected here from every response at sub-millisecond resolution (autocannon's own
 * histogram rounds to whole milliseconds, too coarse for pages that take 2-5 ms).
 */
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from './load-types.ts';
import { type PacedPostSpec, runPacedPost } from './paced-post.ts';
import { type RawBatchSpec, runRawBatch } from './raw-batch.ts';
import { type RawNotifySpec, runRawNotify } from './raw-notify.ts';

export type LoadJob =
  | { kind: 'http'; spec: LoadSpec }
  | { kind: 'raw-batch'; spec: RawBatchSpec }
  | { kind: 'raw-notify'; spec: RawNotifySpec }
  | { kind: 'paced-post'; spec: PacedPostSpec };

import { percentile } from './percentile.ts';

function run(spec: LoadSpec): Promise<LoadResult> {
  let next = 0;
  const latencies: number[] = [];
  let failed = 0;
  let firstFailure: string | null = null;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        pipelining: 1,
        timeout: 30,
        requests: [
          {
            method: spec.method,
            setupRequest: (request) => {
              const item = spec.requests[next++ % spec.requests.length]!;
              return {
                ...request,
                method: spec.method,
                path: item.path,
                headers: { 'content-type': 'application/json', ...item.headers },
                body: item.body,
              };
            },
            onResponse: (status, body) => {
              if (
                status !== 200 ||
                (spec.failMarker && body.includes(spec.failMarker)) ||
                (spec.successMarker && !body.includes(spec.successMarker))
              ) {
                failed += 1;
                firstFailure ??= `${status} ${body.slice(0, 500)}`;
              }
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const sorted = Float64Array.from(latencies).sort();
        const seconds = result.duration;
        resolve({
          requests: latencies.length,
          seconds,
          requestsPerSecond: (latencies.length - failed) / seconds,
          latencyMs: {
            p50: percentile(sorted, 0.5),
            p90: percentile(sorted, 0.9),
            p99: percentile(sorted, 0.99),
            max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
          },
          failed,
          firstFailure,
          errors: result.errors,
          timeouts: result.timeouts,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
}

process.on('message', (job: LoadJob) => {
  const work =
    job.kind === 'http'
      ? run(job.spec)
      : job.kind === 'raw-batch'
        ? runRawBatch(job.spec)
        : job.kind === 'raw-notify'
          ? runRawNotify(job.spec)
          : runPacedPost(job.spec);
  work.then(
    (result) => process.send!({ result }),
    (error: Error) => process.send!({ error: error.stack ?? error.message }),
  );
});
