import { z } from 'zod';
import { isSignerKey } from './integrity/signed-note.ts';
import { networkListProblems } from './network/address-policy.ts';
import { parseDuration } from './retention/duration.ts';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Every environment variable Auditline reads, with its default. README's configuration table mirrors it. */
const environmentSchema = z
  .object({
    // Optional rather than defaulted, so that "explicitly development" can be told apart (exposeInternalErrors).
    NODE_ENV: z.enum(['development', 'production', 'test']).optional(),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    AUDITLINE_DATA_DIR: z.string().min(1).default('./.auditline'),
    DATABASE_POOL_SIZE: positiveInt(10),
    AUTO_MIGRATE: booleanFlag.optional(),
    GRAPHIQL: booleanFlag.optional(),
    MAX_BODY_BYTES: positiveInt(8 * 1024 * 1024),
    MAX_QUERY_DEPTH: positiveInt(12),
    MAX_QUERY_COST: positiveInt(10_000),
    MAX_WS_CONNECTIONS: positiveInt(10_000),
    MAX_WS_CONNECTIONS_PER_KEY: positiveInt(50),
    MAX_SUBSCRIPTIONS_PER_CONNECTION: positiveInt(25),
    STATEMENT_TIMEOUT_MS: positiveInt(15_000),
    RATE_LIMIT_PER_KEY: positiveInt(500),
    RATE_LIMIT_EVENTS_PER_KEY: positiveInt(5_000),
    RATE_LIMIT_AUTH_FAILURES_PER_IP: positiveInt(30),
    HTTP_HEADERS_TIMEOUT_MS: positiveInt(20_000),
    HTTP_REQUEST_TIMEOUT_MS: positiveInt(30_000),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt(5_000),
    CORS_ORIGINS: z
      .string()
      .transform((value, ctx) => {
        const origins = value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean);
        for (const origin of origins) {
          if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin))
            ctx.addIssue({
              code: 'custom',
              message: `"${origin}" is not an origin like https://app.example.com`,
            });
        }
        return origins;
      })
      .optional(),
    GRAPHQL_INTROSPECTION: z
      .enum(['public', 'authenticated'], { message: 'must be public or authenticated' })
      .optional(),
    DESTINATION_ALLOW_NETWORKS: z
      .string()
      .superRefine((value, ctx) => {
        for (const problem of networkListProblems(value)) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    STREAM_MAX_LAG_EVENTS: positiveInt(10_000),
    STREAM_TICK_MS: positiveInt(100),
    STREAM_KEY_RECHECK_MS: positiveInt(2_000),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    DEFAULT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    PURGE_INTERVAL: z
      .string()
      .default('1h')
      .transform((value, ctx) => {
        const ms = parseDuration(value);
        if (ms === null)
          ctx.addIssue({
            code: 'custom',
            message: 'must be seconds (3600) or a duration like 1h, 30m, 1h30m',
          });
        return ms ?? 0;
      }),
    PURGE_BATCH_SIZE: positiveInt(5000),
    EXPORT_SIGNING_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    EXPORT_LINK_TTL_SECONDS: positiveInt(15 * 60),
    PUBLIC_URL: z.string().url().optional(),
    DESTINATION_SECRETS_KEY: z
      .string()
      .regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes as 64 hex digits or base64')
      .optional(),
    DELIVERY_BATCH_SIZE: positiveInt(500),
    DELIVERY_TICK_MS: positiveInt(5000),
    DELIVERY_RETRY_BASE_MS: positiveInt(1000),
    DELIVERY_RETRY_MAX_MS: positiveInt(5 * 60 * 1000),
    DELIVERY_FAILING_AFTER: positiveInt(5),
    DELIVERY_TIMEOUT_MS: positiveInt(30_000),
    CHECKPOINT_INTERVAL: positiveInt(60),
    CHECKPOINT_ORIGIN: z
      .string()
      .regex(/^[^\s+]+$/, 'must be a log name without spaces or "+", e.g. audit.example.com')
      .default('auditline.example'),
    SIGNING_KEY: z
      .string()
      .refine(
        isSignerKey,
        'must be an Ed25519 signer key PRIVATE+KEY+<name>+<id>+<key> (auditline signing-key)',
      )
      .optional(),
  })
  .transform((env) => ({
    environment: env.NODE_ENV ?? 'development',
    /** Internal error messages reach clients only when NODE_ENV=development is set explicitly, as in Yoga's masking. */
    exposeInternalErrors: env.NODE_ENV === 'development',
    port: env.PORT,
    host: env.HOST,
    database: env.DATABASE_URL
      ? ({ kind: 'postgres', url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE } as const)
      : ({ kind: 'pglite', dataDir: env.AUDITLINE_DATA_DIR } as const),
    autoMigrate: env.AUTO_MIGRATE ?? true,
    graphiql: env.GRAPHIQL ?? env.NODE_ENV !== 'production',
    limits: {
      maxBodyBytes: env.MAX_BODY_BYTES,
      maxQueryDepth: env.MAX_QUERY_DEPTH,
      maxQueryCost: env.MAX_QUERY_COST,
      maxWebSocketConnections: env.MAX_WS_CONNECTIONS,
      maxWebSocketConnectionsPerKey: env.MAX_WS_CONNECTIONS_PER_KEY,
      maxSubscriptionsPerConnection: env.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      statementTimeoutMs: env.STATEMENT_TIMEOUT_MS,
    },
    rateLimits: {
      /** Requests per second per API key. */
      requestsPerKey: env.RATE_LIMIT_PER_KEY,
      /** Emitted events per second per API key. */
      eventsPerKey: env.RATE_LIMIT_EVENTS_PER_KEY,
      /** Failed authentications per minute per client IP. */
      authFailuresPerIp: env.RATE_LIMIT_AUTH_FAILURES_PER_IP,
    },
    http: {
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      /** Origins allowed cross-origin requests; none by default. */
      corsOrigins: env.CORS_ORIGINS ?? [],
    },
    /** `authenticated`: introspection needs a valid API key (the default in production). */
    introspection: env.GRAPHQL_INTROSPECTION ?? (env.NODE_ENV === 'production' ? 'authenticated' : 'public'),
    stream: {
      pageSize: 500,
      maxLag: env.STREAM_MAX_LAG_EVENTS,
      stallMs: 200,
      tickMs: env.STREAM_TICK_MS,
      // Cheap when nothing waits (a tick only looks at groups waiting for rows to settle); the sweep
      // re-reads every group and the ping checks the LISTEN connection, so they run far less often.
      sweepMs: 100 * env.STREAM_TICK_MS,
      pingMs: 100 * env.STREAM_TICK_MS,
      keyRecheckMs: env.STREAM_KEY_RECHECK_MS,
    },
    logLevel: env.LOG_LEVEL,
    retention: {
      defaultDays: env.DEFAULT_RETENTION_DAYS,
      purgeIntervalMs: env.PURGE_INTERVAL,
      purgeBatchSize: env.PURGE_BATCH_SIZE,
    },
    export: {
      signingSecret: env.EXPORT_SIGNING_SECRET ?? null,
      linkTtlSeconds: env.EXPORT_LINK_TTL_SECONDS,
      publicUrl: env.PUBLIC_URL ?? null,
      secretsKey: env.DESTINATION_SECRETS_KEY ?? null,
      /** CIDR ranges destinations may reach despite the private-address policy (raw list; parsed by the network policy). */
      allowNetworks: env.DESTINATION_ALLOW_NETWORKS ?? '',
      delivery: {
        batchSize: env.DELIVERY_BATCH_SIZE,
        tickMs: env.DELIVERY_TICK_MS,
        retryBaseMs: env.DELIVERY_RETRY_BASE_MS,
        retryMaxMs: env.DELIVERY_RETRY_MAX_MS,
        failingAfter: env.DELIVERY_FAILING_AFTER,
        timeoutMs: env.DELIVERY_TIMEOUT_MS,
      },
    },
    integrity: {
      checkpointIntervalMs: env.CHECKPOINT_INTERVAL * 1000,
      /** Checkpoint origins are `<prefix>/<organization id>`. */
      originPrefix: env.CHECKPOINT_ORIGIN,
      signingKey: env.SIGNING_KEY ?? null,
    },
  }));

export type Config = z.output<typeof environmentSchema>;

/** The variable names, for docs and the test that keeps README's table complete. */
export const ENVIRONMENT_VARIABLES = Object.keys(environmentSchema.in.shape);
export type DatabaseConfig = Config['database'];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; lists every bad variable by name at once instead of stopping at the first. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = environmentSchema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return `${name}: ${issue.message} (got ${JSON.stringify(present[name] ?? null)})`;
    }),
  );
}
