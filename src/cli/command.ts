import type { Config } from '../config.ts';
import type { Database, DatabaseHandle } from '../db/client.ts';
import type { MigrationReport } from './migration-report.ts';

export interface TextSink {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: Record<string, string | undefined>;
}

export interface OpenedDatabase {
  config: Config;
  handle: DatabaseHandle;
  db: Database;
  /** What opening did: migrations always run before a command touches the database. */
  migrations: MigrationReport;
}

export interface CommandContext {
  /** Opens and migrates the database on first call; the CLI closes it after the command returns. */
  database(): Promise<OpenedDatabase>;
}

/**
 * One top-level command (`auditline <name> …`); `run` gets the arguments after the name. Resolving
 * means exit 0; throwing UsageError means exit 2, any other error `error: <message>` and exit 1.
 */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIo, ctx: CommandContext): Promise<void>;
}
