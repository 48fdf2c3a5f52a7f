/**
 * POSTs at a fixed rate and stamps each body with the moment it is actually sent. autocannon, asked
 * for a fixed overall rate, prepares a request (and so runs setupRequest) as soon as a connection is
 * free and then holds it until the rate allows it out, up to connections ÷ rate seconds: a send time
 * stamped there would add that wait to every emit→receive latency. Runs in the load child process.
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadRequest } from './load-types.ts';
import { type LatencySummary, summarizeLatencies } from './percentile.ts';
import { wallClockMs } from './wall-clock.ts';

export interface PacedPostSpec {
  url: string;
  /** Requests per second. */
  rate: number;
  durationSeconds: number;
  /** Sent in rotation; `sentAtPlaceholder` in a body becomes the send time (ms). */
  requests: LoadRequest[];
  sentAtPlaceholder: string;
  /** A response body containing this counts as a failure. */
  failMarker: string;
  /** At most this many requests in flight; past it the schedule slips (and the run says so). */
  maxInFlight: number;
}

export interface PacedPostResult {
  sent: number;
  succeeded: number;
  firstFailure: string | null;
  /** Requests that had to wait for a free slot: the server could not keep up with the rate. */
  late: number;
  latencyMs: LatencySummary;
}

const TICK_MS = 2;

export async function runPacedPost(spec: PacedPostSpec): Promise<PacedPostResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.maxInFlight });
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let succeeded = 0;
  let late = 0;
  let firstFailure: string | null = null;
  const send = (item: LoadRequest) => {
    const sentAt = wallClockMs();
    const body = item.body!.replaceAll(spec.sentAtPlaceholder, String(sentAt));
    const task = new Promise<void>((resolve) => {
      const outgoing = request(
        `${spec.url}${item.path}`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', ...item.headers } },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => {
            latencies.push(wallClockMs() - sentAt);
            if (response.statusCode === 200 && !text.includes(spec.failMarker)) succeeded += 1;
            else firstFailure ??= `${response.statusCode} ${text.slice(0, 300)}`;
            resolve();
          });
        },
      );
      outgoing.on('error', (error) => {
        firstFailure ??= error.message;
        resolve();
      });
      outgoing.end(body);
    }).finally(() => inFlight.delete(task));
    inFlight.add(task);
  };
  try {
    const started = wallClockMs();
    for (let elapsed = 0; elapsed < spec.durationSeconds * 1000; elapsed = wallClockMs() - started) {
      for (const due = Math.floor((elapsed * spec.rate) / 1000); sent < due; sent += 1) {
        if (inFlight.size >= spec.maxInFlight) {
          late += 1;
          await Promise.race(inFlight);
        }
        send(spec.requests[sent % spec.requests.length]!);
      }
      await sleep(TICK_MS);
    }
    await Promise.all(inFlight);
    return { sent, succeeded, firstFailure, late, latencyMs: summarizeLatencies(latencies) };
  } finally {
    agent.destroy();
  }
}
