import type { EmitEventInput } from '../../../src/events/emit-input.ts';
import { Random, WeightedPicker, zipfWeights } from './random.ts';

/**
 * A realistic audit-log workload: 100 tenants whose volumes follow Zipf (the biggest sends about a
 * fifth of all events), a few dominant actions (logins, document views, API key use), a population
 * of actors per tenant that is itself skewed, and ~1 KB events with context and metadata.
 */
export const ORGANIZATION_COUNT = 100;
export const organizationName = (rank: number) => `bench-org-${String(rank).padStart(3, '0')}`;

/** action, relative weight, the noun of its target (null: the actor is the subject). */
const ACTIONS: [string, number, string | null][] = [
  ['user.login', 22, null],
  ['document.viewed', 18, 'document'],
  ['api_key.used', 10, 'api_key'],
  ['user.logout', 8, null],
  ['document.updated', 8, 'document'],
  ['user.login_failed', 5, null],
  ['repository.pushed', 5, 'repository'],
  ['document.created', 4, 'document'],
  ['repository.cloned', 4, 'repository'],
  ['secret.read', 3, 'secret'],
  ['webhook.delivered', 3, 'webhook'],
  ['deployment.started', 2, 'deployment'],
  ['document.shared', 2, 'document'],
  ['deployment.succeeded', 1.8, 'deployment'],
  ['document.deleted', 1, 'document'],
  ['user.updated', 1, 'user'],
  ['project.created', 0.8, 'project'],
  ['user.password_reset', 0.6, 'user'],
  ['user.created', 0.5, 'user'],
  ['team.member_added', 0.5, 'team'],
  ['permission.granted', 0.5, 'user'],
  ['user.role_changed', 0.4, 'user'],
  ['api_key.created', 0.3, 'api_key'],
  ['user.mfa_enabled', 0.3, null],
  ['deployment.failed', 0.3, 'deployment'],
  ['secret.updated', 0.3, 'secret'],
  ['org.settings_updated', 0.3, 'organization'],
  ['api_key.revoked', 0.2, 'api_key'],
  ['project.archived', 0.2, 'project'],
  ['team.member_removed', 0.2, 'team'],
  ['permission.revoked', 0.2, 'user'],
  ['billing.invoice_paid', 0.2, 'invoice'],
  ['export.requested', 0.2, 'export'],
  ['billing.plan_changed', 0.1, 'subscription'],
  ['user.deleted', 0.1, 'user'],
  ['sso.configured', 0.05, 'identity_provider'],
];

export const ACTION_NAMES = ACTIONS.map(([action]) => action);
const actionPicker = new WeightedPicker(ACTIONS.map(([, weight]) => weight));
const organizationPicker = new WeightedPicker(zipfWeights(ORGANIZATION_COUNT, 1));

/** Share of all events the organization of this rank (0-based) receives. */
export const organizationShare = (rank: number) => organizationPicker.share(rank);

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Alan', 'Edsger'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen'];
const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'auditline-node/1.4.2 (node 20.14.0; linux x64)',
  'Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-acme/2.3.1',
];
const LOCATIONS = [
  'Berlin, DE',
  'San Francisco, US',
  'London, GB',
  'Tokyo, JP',
  'São Paulo, BR',
  'Lagos, NG',
];
const DOCUMENT_NAMES = ['Q3 planning', 'Incident review', 'Onboarding checklist', 'Pricing model', 'Roadmap'];
const WORDS = [
  'alpha',
  'bravo',
  'cobalt',
  'delta',
  'ember',
  'falcon',
  'granite',
  'harbor',
  'iris',
  'juniper',
];

interface Actor {
  id: string;
  type: string;
  name: string | null;
  email: string | null;
}

export interface DatasetOrganization {
  rank: number;
  name: string;
  uuid: string;
  actors: Actor[];
  actorPicker: WeightedPicker;
}

/** The tenants with their actors; `uuids[rank]` are the stored organization ids. */
export function datasetOrganizations(uuids: readonly string[], seed = 7): DatasetOrganization[] {
  const random = new Random(seed);
  return uuids.map((uuid, rank) => {
    const actorCount = Math.max(5, Math.round(4000 * organizationShare(rank)));
    const actors: Actor[] = Array.from({ length: actorCount }, (_, index) => {
      const kind = random.next();
      if (kind < 0.85) {
        const first = random.pick(FIRST);
        const last = random.pick(LAST);
        return {
          id: `usr_${random.hex(12)}`,
          type: 'user',
          name: `${first} ${last}`,
          email: `${first}.${last}${index}@example.com`.toLowerCase(),
        };
      }
      if (kind < 0.95)
        return {
          id: `svc_${random.hex(10)}`,
          type: 'service',
          name: `${random.pick(WORDS)}-worker`,
          email: null,
        };
      if (kind < 0.98)
        return { id: `key_${random.hex(16)}`, type: 'api_key', name: 'ci deploy key', email: null };
      return { id: 'system', type: 'system', name: null, email: null };
    });
    return {
      rank,
      name: organizationName(rank),
      uuid,
      actors,
      actorPicker: new WeightedPicker(zipfWeights(actorCount, 0.9)),
    };
  });
}

export const pickOrganization = (random: Random) => organizationPicker.pick(random);

const ipv4 = (random: Random) =>
  `${10 + random.int(200)}.${random.int(256)}.${random.int(256)}.${1 + random.int(254)}`;
const ipv6 = (random: Random) => `2001:db8:${random.hex(4)}:${random.hex(4)}::${random.hex(3)}`;

function targetFor(noun: string, random: Random, organization: DatasetOrganization) {
  switch (noun) {
    case 'document':
      return { id: `doc_${random.hex(10)}`, type: 'document', name: `${random.pick(DOCUMENT_NAMES)}.docx` };
    case 'user': {
      const other = organization.actors[random.int(organization.actors.length)]!;
      return { id: other.id, type: 'user', name: other.name };
    }
    case 'repository':
      return { id: `repo_${random.hex(8)}`, type: 'repository', name: `${random.pick(WORDS)}-service` };
    default:
      return {
        id: `${noun.slice(0, 4)}_${random.hex(10)}`,
        type: noun,
        name: `${random.pick(WORDS)} ${noun}`,
      };
  }
}

function metadataFor(action: string, random: Random, actor: Actor): Record<string, unknown> {
  const common = {
    trace_id: random.hex(32),
    client: {
      sdk: 'auditline-node',
      version: '1.4.2',
      environment: random.chance(0.9) ? 'production' : 'staging',
    },
    request: {
      method: random.pick(['GET', 'POST', 'PATCH', 'DELETE']),
      path: `/api/v2/${action.split('.')[0]}s/${random.hex(8)}`,
      status: random.chance(0.97) ? 200 : 403,
      duration_ms: 3 + random.int(400),
    },
    labels: [random.pick(WORDS), random.pick(WORDS), random.pick(['internal', 'customer', 'partner'])],
  };
  if (action.startsWith('user.login') || action === 'user.logout') {
    return {
      ...common,
      method: random.pick(['password', 'sso', 'passkey', 'magic_link']),
      mfa: random.chance(0.7),
      email: actor.email,
      risk: {
        score: Math.round(random.next() * 100) / 100,
        signals: random.chance(0.1) ? ['new_device'] : [],
      },
      geo: { country: random.pick(['DE', 'US', 'GB', 'JP', 'BR', 'NG']), asn: 3320 + random.int(60000) },
      ...(action === 'user.login_failed'
        ? { reason: random.pick(['bad_password', 'locked', 'mfa_timeout']) }
        : {}),
    };
  }
  if (action.endsWith('.updated') || action.endsWith('_changed') || action.endsWith('.settings_updated')) {
    return {
      ...common,
      changes: [
        {
          field: random.pick(['title', 'role', 'visibility', 'owner']),
          from: random.pick(WORDS),
          to: random.pick(WORDS),
        },
      ],
      reason: random.chance(0.3) ? 'requested by support ticket' : null,
    };
  }
  if (action.startsWith('deployment.')) {
    return {
      ...common,
      commit: random.hex(40),
      branch: random.pick(['main', 'release/2.4', 'hotfix/login']),
      region: random.pick(['eu-central-1', 'us-east-1', 'ap-northeast-1']),
      duration_s: 20 + random.int(600),
    };
  }
  return { ...common, bytes: random.int(5_000_000), shared_with: random.chance(0.2) ? ['team_design'] : [] };
}

/** One event as an app would emit it (the GraphQL `EmitEventInput`), at `occurredAt`. */
export function generateEvent(
  random: Random,
  organization: DatasetOrganization,
  occurredAt: Date,
): EmitEventInput {
  const [action, , noun] = ACTIONS[actionPicker.pick(random)]!;
  const actor = organization.actors[organization.actorPicker.pick(random)]!;
  const targets = noun ? [targetFor(noun, random, organization)] : [];
  if (noun && random.chance(0.15))
    targets.push({ id: `proj_${random.hex(8)}`, type: 'project', name: 'platform' });
  return {
    action,
    actor: {
      id: actor.id,
      type: actor.type,
      name: actor.name,
      metadata: actor.email ? { email: actor.email } : null,
    },
    targets,
    context: {
      ipAddress: random.chance(0.85) ? ipv4(random) : ipv6(random),
      userAgent: random.pick(USER_AGENTS),
      location: random.pick(LOCATIONS),
      requestId: `req_${random.hex(20)}`,
      sessionId: actor.type === 'user' ? `sess_${random.hex(24)}` : null,
    },
    metadata: metadataFor(action, random, actor),
    occurredAt,
    version: 1,
  };
}
