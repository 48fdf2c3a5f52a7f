import { createDeliveryWorker, type DeliveryWorker } from '../../../src/export/delivery-worker.ts';
import { createExportService, type ExportService } from '../../../src/export/service.ts';
import { createLogger } from '../../../src/logger.ts';
import { type Backend, backends } from '../../support/backends.ts';
import { createFreshDatabase } from '../../support/fresh-database.ts';
import { createTestApp, type TestApp, testConfig } from '../../support/test-app.ts';

/** The receivers of these tests listen on loopback, which the destination network policy refuses by default. */
export const LOOPBACK_DESTINATIONS = { DESTINATION_ALLOW_NETWORKS: '127.0.0.0/8,::1/128' };

/**
 * A test app on its own database: a delivery worker serves every destination of its database, so
 * on the shared PostgreSQL it would also pick up (and be slowed by) other suites' destinations.
 */
export async function isolatedTestApp(
  backend: Backend,
  environment: Record<string, string> = LOOPBACK_DESTINATIONS,
): Promise<TestApp> {
  if (backend.name !== 'postgres') return createTestApp(backend, environment);
  const fresh = await createFreshDatabase('auditline_export');
  const t = await createTestApp(
    { ...backend, config: { kind: 'postgres', url: fresh.url, poolSize: 8 } },
    environment,
  );
  return {
    ...t,
    async close() {
      await t.close();
      await fresh.drop();
    },
  };
}

/** Retry and tick settings small enough for tests; same secrets key as the test app (none). */
export const FAST_DELIVERY = {
  DELIVERY_TICK_MS: '200',
  DELIVERY_RETRY_BASE_MS: '20',
  DELIVERY_RETRY_MAX_MS: '150',
  DELIVERY_FAILING_AFTER: '3',
  DELIVERY_TIMEOUT_MS: '5000',
};

export function startDeliveryWorker(
  t: TestApp,
  overrides: Record<string, string> = {},
): DeliveryWorker & { exports: ExportService } {
  const exports = createExportService(
    testConfig({ ...FAST_DELIVERY, ...LOOPBACK_DESTINATIONS, ...overrides }),
  );
  const worker = createDeliveryWorker(t.database, exports, createLogger('silent'));
  worker.start();
  return Object.assign(worker, { exports });
}

export const DESTINATION_FIELDS = /* GraphQL */ `
  id organizationId name type url format actions query options hasSecret status lagEvents lagSeconds
  lastSuccessAt lastError lastErrorAt attempts deliveredCount duplicatesCount
`;

export const CREATE_DESTINATION = /* GraphQL */ `
  mutation Create($input: CreateDestinationInput!) { createDestination(input: $input) { ${DESTINATION_FIELDS} } }
`;

export const DESTINATIONS = /* GraphQL */ `
  query Destinations { destinations { ${DESTINATION_FIELDS} } }
`;

export const DESTINATION = /* GraphQL */ `
  query Destination($id: ID!) { destination(id: $id) { ${DESTINATION_FIELDS} } }
`;

/** Receiver tests check transports, not storage: one backend is enough (PostgreSQL when there is one). */
export const oneBackend = (): Backend[] => backends().slice(-1);
