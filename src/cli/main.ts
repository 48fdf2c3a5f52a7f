import type { CliIo, Command } from './command.ts';
import { createDatabaseSession } from './database-session.ts';
import { commandHelp, generalHelp } from './help.ts';
import { commands, findCommand } from './registry.ts';
import { UsageError } from './usage-error.ts';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/** Runs `auditline …` and returns the exit code; never throws. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr.write(generalHelp(commands));
    return EXIT_USAGE;
  }
  if (first === 'help' || first === '--help' || first === '-h') return showHelp(rest, io);
  const command = findCommand(first);
  if (!command) {
    const what = first.startsWith('-')
      ? `unknown flag ${first} (flags go after the command)`
      : `unknown command "${first}"`;
    io.stderr.write(`error: ${what}\n\n${generalHelp(commands)}`);
    return EXIT_USAGE;
  }
  if (asksForHelp(rest)) {
    io.stdout.write(commandHelp(command));
    return EXIT_OK;
  }
  return runCommand(command, rest, io);
}

function showHelp(topics: string[], io: CliIo): number {
  const [topic] = topics;
  if (topic === undefined) {
    io.stdout.write(generalHelp(commands));
    return EXIT_OK;
  }
  const command = findCommand(topic);
  if (!command) {
    io.stderr.write(`error: unknown command "${topic}"\n\n${generalHelp(commands)}`);
    return EXIT_USAGE;
  }
  io.stdout.write(commandHelp(command));
  return EXIT_OK;
}

function asksForHelp(args: string[]): boolean {
  const terminator = args.indexOf('--');
  const flags = terminator === -1 ? args : args.slice(0, terminator);
  return flags.includes('--help') || flags.includes('-h');
}

async function runCommand(command: Command, args: string[], io: CliIo): Promise<number> {
  const session = createDatabaseSession(io.env);
  let exitCode: number;
  try {
    await command.run(args, io, { database: session.open });
    exitCode = EXIT_OK;
  } catch (error) {
    exitCode = reportFailure(command, error, io);
  }
  try {
    await session.close();
  } catch (error) {
    exitCode = Math.max(exitCode, reportFailure(command, error, io));
  }
  return exitCode;
}

function reportFailure(command: Command, error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    io.stderr.write(`error: ${error.message}\nRun "auditline ${command.name} --help" for usage.\n`);
    return EXIT_USAGE;
  }
  // AuditlineError and ConfigError messages are written for people; anything else is reported the same way.
  io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_FAILURE;
}
