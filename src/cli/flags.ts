import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.ts';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export type FlagValues<Spec extends FlagSpec> = {
  [Name in keyof Spec]?: Spec[Name]['type'] extends 'string' ? string : boolean;
} & { json?: boolean };

const commonFlags = { json: { type: 'boolean' } } as const satisfies FlagSpec;

/**
 * Lenient parseArgs, then our own checks token by token: strict mode's errors run to several
 * sentences, while these fit on one line and lead with the flag.
 */
export function parseFlags<Spec extends FlagSpec>(
  args: string[],
  spec: Spec,
): { flags: FlagValues<Spec>; positionals: string[] } {
  const options: FlagSpec = { ...commonFlags, ...spec };
  const { values, positionals, tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!option) throw new UsageError(`unknown flag ${token.rawName}`);
    if (option.type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`flag ${token.rawName} takes no value`);
    }
    if (option.type === 'string' && token.value === undefined) {
      throw new UsageError(`flag ${token.rawName} needs a value`);
    }
    if (option.type === 'string' && !token.inlineValue && token.value?.startsWith('-')) {
      throw new UsageError(
        `flag ${token.rawName} needs a value (got "${token.value}"; write ${token.rawName}=${token.value} if you mean it)`,
      );
    }
  }
  return { flags: values as FlagValues<Spec>, positionals };
}

/** The positionals named in `names`, in order; complains about missing or extra ones. */
export function takePositionals(positionals: string[], names: readonly string[]): string[] {
  const missing = names.slice(positionals.length);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(' ')}`);
  const extra = positionals.slice(names.length);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  return positionals;
}
