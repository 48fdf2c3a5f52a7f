import type { DatabaseConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { IntegritySettings } from './service.ts';
import type { SigningIdentity } from './signing-key.ts';

/** What the server hands the sealer's thread when it starts it. */
export interface SealerThreadData {
  database: Extract<DatabaseConfig, { kind: 'postgres' }>;
  settings: IntegritySettings;
  /** Loaded by the server, so the thread signs with the key the server reports. */
  identity: SigningIdentity;
}

/** What the thread sends: its log lines, for the server's logger. */
export interface SealerLogMessage {
  level: keyof Logger;
  message: string;
  fields?: Record<string, unknown>;
}

/** The sealer thread's nice value on Linux: it yields the CPU to the server's own thread. */
export const SEALER_THREAD_NICE = 10;

/** What the server sends to end the thread: it stops between batches and closes its connections. */
export const STOP_SEALER_THREAD = 'stop';
