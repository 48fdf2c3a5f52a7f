export interface LoadRequest {
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadSpec {
  /** Base URL of the server (http://127.0.0.1:port). */
  url: string;
  method: 'GET' | 'POST';
  connections: number;
  durationSeconds: number;
  /** Sent in rotation, one per request. */
  requests: LoadRequest[];
  /** A response body containing this (e.g. `"errors"`) counts as a failure. */
  failMarker?: string;
  /** When given, a response body must contain this (e.g. `"rejectedCount":0`) to count as a success. */
  successMarker?: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Successful responses per second. */
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  failed: number;
  firstFailure: string | null;
  errors: number;
  timeouts: number;
}
