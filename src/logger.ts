import { describeError, redactText } from './describe-error.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The one place every log line passes: an Error is written as its description (never the SQL
 * parameters or values a database error carries), and text is cut before drizzle's `params:` part,
 * for callers that log `String(error)`.
 */
function formatField(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(describeError(value));
  if (typeof value === 'string') return redactText(value);
  return JSON.stringify(value);
}

/** One line per message on stderr (or `sink`): `time level message key=value …`. */
export function createLogger(
  level: LogLevel,
  sink: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const write = (at: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (rank[at] < rank[level]) return;
    const extras = fields
      ? Object.entries(fields)
          .map(([key, value]) => ` ${key}=${formatField(value)}`)
          .join('')
      : '';
    sink(`${new Date().toISOString()} ${at.padEnd(5)} ${redactText(message)}${extras}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/**
 * Yoga's `logging` option on top of a Logger. Yoga logs the original of every error it masks; the
 * error goes into the `error` field, so it is described, not printed.
 */
export function yogaLogging(logger: Logger) {
  const forward =
    (at: Exclude<LogLevel, 'silent'>) =>
    (...args: unknown[]) => {
      const errors = args.filter((arg) => arg instanceof Error);
      const text = args
        .filter((arg) => !(arg instanceof Error))
        .map(String)
        .join(' ');
      if (errors.length === 0) logger[at](text);
      else
        logger[at](text || 'unexpected error in a GraphQL operation', {
          error: errors[0],
          ...moreErrors(errors),
        });
    };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}

const moreErrors = (errors: unknown[]) =>
  Object.fromEntries(errors.slice(1).map((error, index) => [`error${index + 2}`, error]));
