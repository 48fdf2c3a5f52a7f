import type { TextSink } from '../cli/command.ts';

/**
 * "exported N events (R/s)" on stderr: rewritten in place on a terminal, otherwise a line every
 * `intervalMs` so that logs stay readable; `done` prints the final count.
 */
export function exportProgress(
  stderr: TextSink & { isTTY?: boolean },
  intervalMs = 5000,
  now = () => Date.now(),
) {
  const started = now();
  let lastShown = started;
  const describe = (count: number) => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    return `exported ${count.toLocaleString('en-US')} events (${Math.round(count / seconds).toLocaleString('en-US')}/s)`;
  };
  const tty = stderr.isTTY === true;
  return {
    update(count: number) {
      const at = now();
      if (tty && at - lastShown >= 100) {
        stderr.write(`\r\x1b[K${describe(count)}`);
        lastShown = at;
      } else if (!tty && at - lastShown >= intervalMs) {
        stderr.write(`${describe(count)}\n`);
        lastShown = at;
      }
    },
    done(count: number) {
      const seconds = ((now() - started) / 1000).toFixed(1);
      stderr.write(`${tty ? '\r\x1b[K' : ''}${describe(count)}, done in ${seconds}s\n`);
    },
  };
}
