import { connect } from 'node:net';

export interface RawAnswer {
  /** Everything the server wrote, as latin1 text. */
  text: string;
  /** The status code of every response line in `text`. */
  statuses: number[];
  /** Whether the server closed the connection (by itself, or after we half-closed ours). */
  closed: boolean;
}

/**
 * Writes `payload` as is on a fresh TCP connection, bytes fetch would refuse to send included, and
 * collects the answer until the server closes. A server still waiting for more after `answerMs` gets
 * our FIN; one that neither answers nor closes within `closeMs` after that is reported as not closed.
 */
export function rawRequest(
  port: number,
  payload: string | Uint8Array,
  { answerMs = 1_500, closeMs = 3_000 }: { answerMs?: number; closeMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      for (const timer of timers) clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
      socket.destroy();
      resolve({ text, statuses, closed });
    };
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset is a close too
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(payload);
    timers.push(
      setTimeout(() => socket.end(), answerMs),
      setTimeout(finish, answerMs + closeMs),
    );
  });
}

/** `GET /healthz`; true when it answers 200 within 5 s. */
export async function healthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}
