/** `--name value`, `--name=value` and bare `--flag` (true). */
export function parseArgs(argv: readonly string[]): Map<string, string | true> {
  const parsed = new Map<string, string | true>();
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (!argument.startsWith('--')) throw new Error(`Unexpected argument "${argument}"`);
    const equals = argument.indexOf('=');
    if (equals > 0) {
      parsed.set(argument.slice(2, equals), argument.slice(equals + 1));
      continue;
    }
    const next = argv[index + 1];
    if (next !== undefined && !next.startsWith('--')) {
      parsed.set(argument.slice(2), next);
      index += 1;
    } else {
      parsed.set(argument.slice(2), true);
    }
  }
  return parsed;
}

export function numberArg(args: Map<string, string | true>, name: string, fallback: number): number {
  const value = args.get(name);
  if (value === undefined) return fallback;
  const parsed = Number(typeof value === 'string' ? value.replaceAll('_', '') : Number.NaN);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new Error(`--${name} needs a number; got ${String(value)}`);
  return parsed;
}

export function stringArg(args: Map<string, string | true>, name: string): string | undefined {
  const value = args.get(name);
  if (value === true) throw new Error(`--${name} needs a value`);
  return value;
}
