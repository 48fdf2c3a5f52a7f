import { runCli } from '../../src/cli/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type CliEnv = Record<string, string | undefined>;

/** Runs `auditline …` in-process with the given environment, collecting what it writes. */
export async function auditline(env: CliEnv, ...argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code, stdout, stderr };
}

/** Runs a `--json` invocation that must succeed and returns the one document it printed. */
export async function auditlineJson<T = unknown>(env: CliEnv, ...argv: string[]): Promise<T> {
  const result = await auditline(env, ...argv, '--json');
  if (result.code !== 0)
    throw new Error(`auditline ${argv.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
