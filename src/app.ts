import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { createBackgroundWorkers } from './background.ts';
import type { Config } from './config.ts';
import type { DatabaseHandle } from './db/client.ts';
import { EventWriter } from './events/writer.ts';
import { EXPORTS_PATH, serveExportDownload } from './export/download.ts';
import { warnAboutUnsealedSecrets } from './export/secrets.ts';
import { createExportService } from './export/service.ts';
import { createContext, type GraphQLContext, type Services } from './graphql/context.ts';
import { useIntrospectionPolicy } from './graphql/introspection-policy.ts';
import { useParseDepthGuard } from './graphql/parse-depth-guard.ts';
import { useQueryCost } from './graphql/query-cost-plugin.ts';
import { useQueryScope } from './graphql/query-scope-plugin.ts';
import { schema } from './graphql/schema.ts';
import { useCorsPolicy } from './http/cors.ts';
import { guardServer } from './http/guard.ts';
import type { Route } from './http/routes.ts';
import { createHttpServer } from './http/server.ts';
import { createIntegrityService } from './integrity/service.ts';
import {
  type AdmittedRequest,
  admitRequest,
  refusalParts,
  useRateLimits,
} from './limits/rate-limit-plugin.ts';
import { RateLimits } from './limits/rate-limits.ts';
import { createLogger, type Logger, yogaLogging } from './logger.ts';
import { useSharedSubscriptionResults } from './stream/shared-results.ts';
import { StreamHub } from './stream/stream-hub.ts';
import { Authenticator } from './tenancy/authenticate.ts';
import { watchKeyRevocations } from './tenancy/revocation-watch.ts';
import type { ViewerState } from './tenancy/viewer.ts';
import { attachWebSocketServer } from './websocket.ts';

export interface AppDependencies {
  config: Config;
  database: DatabaseHandle;
  logger?: Logger;
  /** Background workers (partition upkeep, …) run with the server unless this is false. */
  runBackgroundWorkers?: boolean;
}

export interface App {
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  services: Services;
  /** Listens on `port` (0 for any free port); resolves with the bound port. */
  start(port: number, host?: string): Promise<number>;
  stop(): Promise<void>;
}

const EXAMPLE_QUERY = `# Put your key in the Headers tab: {"Authorization": "Bearer al_live_…"}
query RecentFailedLogins {
  events(query: "action:user.login_failed", first: 10) {
    totalCount
    edges { node { id action occurredAt actor { id name } context { ipAddress } } }
  }
}
`;

export function buildApp({
  config,
  database,
  logger = createLogger('info'),
  runBackgroundWorkers = true,
}: AppDependencies): App {
  const services: Services = {
    database,
    writer: new EventWriter(database),
    authenticator: new Authenticator(database.db),
    exports: createExportService(config),
    retention: config.retention,
    stream: new StreamHub(database, logger, config.stream),
    integrity: createIntegrityService(config.integrity, database, logger),
  };
  warnAboutUnsealedSecrets(config, logger);
  const rateLimits = new RateLimits(config.rateLimits);
  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // `route` refuses a body over MAX_BODY_BYTES, or without a Content-Length, before Yoga sees it,
    // and Node's parser reads no more than the declared length. Yoga's own limit would pipe every
    // body through a counting stream again (about a tenth of the server's CPU per emitted event).
    maxRequestBodySize: false,
    graphiql: config.graphiql ? { title: 'Auditline', defaultQuery: EXAMPLE_QUERY } : false,
    // Yoga's own CORS reflects any Origin with credentials; useCorsPolicy answers from CORS_ORIGINS.
    cors: false,
    context: (initial) => createContext(services, initial as { request: Request; auth?: ViewerState }),
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: config.limits.maxQueryDepth },
        costLimit: { enabled: false },
        maxAliases: { n: 30 },
        maxTokens: { n: 10_000 },
        blockFieldSuggestion: { enabled: false },
      }),
      useParseDepthGuard(),
      useSharedSubscriptionResults(),
      useCorsPolicy(config.http.corsOrigins),
      useIntrospectionPolicy(config.introspection),
      useQueryCost({ maxCost: config.limits.maxQueryCost }),
      useQueryScope({ statementTimeoutMs: config.limits.statementTimeoutMs }),
      useRateLimits(rateLimits, services.authenticator),
    ],
    logging: yogaLogging(logger),
  });

  const routes: Route[] = [
    {
      name: 'healthz',
      path: '/healthz',
      methods: ['GET', 'HEAD'],
      handle: (_req, res) => json(res, 200, { status: 'ok' }),
    },
    { name: 'readyz', path: '/readyz', methods: ['GET', 'HEAD'], handle: (_req, res) => readiness(res) },
    {
      name: 'exports',
      path: EXPORTS_PATH,
      methods: ['GET', 'HEAD'],
      handle: (req, res) => serveExportDownload(req, res, { config, database, logger }),
    },
    { name: 'graphql', path: '/graphql', methods: ['GET', 'POST', 'OPTIONS'], handle: graphql },
  ];
  const server = createHttpServer(config.http, routes, logger);
  const webSockets = attachWebSocketServer({
    server,
    yoga,
    services,
    rateLimits,
    maxConnections: config.limits.maxWebSocketConnections,
    maxConnectionsPerKey: config.limits.maxWebSocketConnectionsPerKey,
    maxSubscriptionsPerConnection: config.limits.maxSubscriptionsPerConnection,
    keyRecheckMs: config.stream.keyRecheckMs,
    exposeErrors: config.exposeInternalErrors,
  });
  guardServer(server, { webSocketPath: '/graphql', logger });

  async function readiness(res: ServerResponse) {
    try {
      await database.raw.query('select 1');
      return json(res, 200, { status: 'ready' });
    } catch (error) {
      // The reason goes to the log only: the probe answers anyone, and a driver message names hosts.
      logger.warn('readiness check failed', { error });
      return json(res, 503, { status: 'unavailable' });
    }
  }

  async function graphql(req: IncomingMessage, res: ServerResponse) {
    const tooLarge = bodyTooLarge(req, config.limits.maxBodyBytes);
    if (tooLarge) {
      return json(res, 413, { errors: [{ message: tooLarge, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    }
    // Limits are checked here, on Node's own request, so that a refusal costs no Yoga request.
    let auth: ViewerState | null;
    try {
      auth = await admitRequest(
        rateLimits,
        services.authenticator,
        req.socket.remoteAddress,
        req.headers.authorization,
      );
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      const { status, headers, body } = refusalParts(error, req.headers.accept);
      return void res.writeHead(status, headers).end(body);
    }
    const admitted: AdmittedRequest = { req, admitted: true, ...(auth ? { auth } : {}) };
    return yoga(req, res, admitted);
  }
  const workers = runBackgroundWorkers ? createBackgroundWorkers({ config, database, services, logger }) : [];
  let stopRevocationWatch = async () => {};

  return {
    yoga,
    services,
    async start(port, host) {
      const bound = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      });
      for (const worker of workers) worker.start();
      await services.stream.start();
      stopRevocationWatch = await watchKeyRevocations(
        database,
        [services.authenticator, services.stream, webSockets],
        logger,
      );
      return bound;
    },
    async stop() {
      await stopRevocationWatch();
      await Promise.all(workers.map((worker) => worker.stop()));
      await webSockets.close();
      await services.stream.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await services.writer.drained();
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Refuses bodies over the limit before reading them; a body without a declared length counts as one. */
function bodyTooLarge(req: IncomingMessage, limit: number): string | null {
  if (req.method !== 'POST') return null;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isNaN(declared) && req.headers['transfer-encoding']) {
    return 'Send a Content-Length header: chunked request bodies are not accepted';
  }
  return declared > limit
    ? `Request body is ${declared} bytes; the limit is ${limit} (MAX_BODY_BYTES)`
    : null;
}
