/**
 * What of an error may be logged. Errors from the database carry the statement's parameters (the
 * events being written, a tenant's search) in places that differ by library: drizzle's
 * `DrizzleQueryError` appends `params: …` to its message, postgres.js and PGlite put them, the query
 * and the failing row on properties (`parameters`, `query`, `detail`, `where`), and PostgreSQL quotes
 * the offending value in the message of a data error (`invalid input syntax for type inet: "…"`).
 * A description keeps only the name, the message without any of that, the error code and the stack
 * frames, for the error and its causes.
 */
export interface ErrorDescription {
  name: string;
  message: string;
  code?: string;
  /** The GraphQL field path, for an error raised while resolving one. */
  path?: (string | number)[];
  stack?: string[];
  cause?: ErrorDescription;
}

/** Causes followed at most; a cause chain is never longer in practice. */
const MAX_CAUSES = 4;

/**
 * SQLSTATE class 22 (data exception): its messages quote the value at fault. Other classes quote
 * only names (relations, constraints, columns) and keep values in `detail`, which is never logged.
 */
const VALUE_QUOTING_SQLSTATE = /^22[0-9A-Z]{3}$/;

/** Cuts what drizzle appends after the statement: `\nparams: …` (to the end: a parameter may span lines). */
export function redactText(text: string): string {
  const params = text.search(/\n\s*params:/);
  return params === -1 ? text : `${text.slice(0, params)}\nparams: [redacted]`;
}

function redactMessage(message: string, code: string | undefined): string {
  const withoutParams = redactText(message);
  return code && VALUE_QUOTING_SQLSTATE.test(code)
    ? withoutParams.replace(/"(?:[^"\\]|\\.)*"/g, '"[redacted]"')
    : withoutParams;
}

function stackFrames(stack: unknown): string[] | undefined {
  if (typeof stack !== 'string') return undefined;
  const frames = stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .map((line) => line.trim());
  return frames.length > 0 ? frames : undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

function describeOne(error: unknown): ErrorDescription {
  if (!isObject(error)) return { name: typeof error, message: redactText(String(error)) };
  // A GraphQLError made from a resolver's throw: the thrown error is the one worth describing.
  const original = error.originalError;
  const graphQLPath = Array.isArray(error.path) ? (error.path as (string | number)[]) : undefined;
  const subject = isObject(original) && error.name === 'GraphQLError' ? original : error;
  const code = typeof subject.code === 'string' ? subject.code : undefined;
  const description: ErrorDescription = {
    name: typeof subject.name === 'string' ? subject.name : 'Error',
    message: redactMessage(typeof subject.message === 'string' ? subject.message : '', code),
  };
  if (code) description.code = code;
  if (graphQLPath) description.path = graphQLPath;
  const stack = stackFrames(subject.stack);
  if (stack) description.stack = stack;
  return description;
}

/** The loggable part of any thrown value, with up to four causes (their frames left out). */
export function describeError(error: unknown): ErrorDescription {
  const top = describeOne(error);
  let described = top;
  let current = isObject(error) && isObject(error.originalError) ? error.originalError : error;
  for (let depth = 0; depth < MAX_CAUSES && isObject(current) && current.cause !== undefined; depth++) {
    const { stack: _frames, ...cause } = describeOne(current.cause);
    described.cause = cause;
    described = cause;
    current = current.cause;
  }
  return top;
}
