import { z } from 'zod';
import { badInput } from '../../errors.ts';
import type { ExportFormat } from '../formats/index.ts';
import { datadogTransport } from './datadog.ts';
import { parseRelpUrl } from './relp.ts';
import { parseS3Url, s3Transport } from './s3.ts';
import { sentinelTransport } from './sentinel.ts';
import { splunkHecTransport } from './splunk-hec.ts';
import { parseSyslogUrl, SYSLOG_URL_SHAPES, syslogTransport } from './syslog.ts';
import type { Transport, TransportSettings } from './transport.ts';
import { webhookSigningKey, webhookTransport } from './webhook.ts';

export const DESTINATION_TYPES = ['webhook', 'splunk-hec', 'syslog', 's3', 'sentinel', 'datadog'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

export const isDestinationType = (value: string): value is DestinationType =>
  (DESTINATION_TYPES as readonly string[]).includes(value);

const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);
const name = z.string().min(1).max(200);

interface TypeRules {
  options: z.ZodType<Record<string, unknown>>;
  /** What the secret is, or null when the type takes none. */
  secret: { required: boolean; check?: (secret: string) => string | null; describe: string } | null;
  formats: readonly ExportFormat[];
  url: (url: string) => string | null;
  create: (settings: TransportSettings) => Transport;
}

const ANY_FORMAT: readonly ExportFormat[] = ['jsonl', 'ocsf', 'ecs', 'cef', 'leef'];

function httpUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? null : 'must be an http(s):// URL';
  } catch {
    return 'must be an absolute http(s):// URL';
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;

/** Per destination type: its options, its secret, the formats it carries and its URL shape. */
export const DESTINATION_RULES: Readonly<Record<DestinationType, TypeRules>> = {
  webhook: {
    options: z.strictObject({}),
    secret: {
      required: true,
      describe: 'whsec_ followed by base64 of 24 to 64 random bytes',
      check: (secret) =>
        webhookSigningKey(secret) ? null : 'must be whsec_ followed by base64 of 24 to 64 bytes',
    },
    formats: ANY_FORMAT,
    url: httpUrl,
    create: webhookTransport,
  },
  'splunk-hec': {
    options: z.strictObject({
      index: name.optional(),
      source: name.optional(),
      sourcetype: name.optional(),
      host: name.optional(),
      ack: flag.optional(),
      ackTimeoutMs: z.coerce.number().int().positive().optional(),
    }),
    secret: { required: true, describe: 'the HEC token' },
    formats: ANY_FORMAT,
    url: httpUrl,
    create: splunkHecTransport,
  },
  syslog: {
    options: z.strictObject({
      caCertificate: z.string().regex(PEM_CERTIFICATE, 'must be a PEM certificate').optional(),
      hostname: name.optional(),
      appName: name.optional(),
    }),
    secret: null,
    formats: ['cef', 'leef'],
    url: (url) => (parseSyslogUrl(url) || parseRelpUrl(url) ? null : `must be ${SYSLOG_URL_SHAPES}`),
    create: syslogTransport,
  },
  s3: {
    options: z.strictObject({ region: name.optional() }),
    secret: {
      required: true,
      describe: 'ACCESS_KEY_ID:SECRET_ACCESS_KEY',
      check: (secret) => (secret.indexOf(':') > 0 ? null : 'must be ACCESS_KEY_ID:SECRET_ACCESS_KEY'),
    },
    formats: ['jsonl', 'ocsf', 'ecs', 'csv', 'cef', 'leef'],
    url: (url) => (parseS3Url(url) ? null : 'must be a path-style https://endpoint/bucket[/prefix] URL'),
    create: s3Transport,
  },
  sentinel: {
    options: z.strictObject({
      tokenUrl: z.string().url(),
      clientId: name,
      scope: name.optional(),
    }),
    secret: { required: true, describe: 'the client secret' },
    formats: ANY_FORMAT,
    url: (url) =>
      httpUrl(url) ??
      (/\/dataCollectionRules\/[^/]+\/streams\/[^/?]+/.test(url)
        ? null
        : 'must be <endpoint>/dataCollectionRules/<DCR immutable id>/streams/<stream name>'),
    create: sentinelTransport,
  },
  datadog: {
    options: z.strictObject({
      service: name.optional(),
      source: name.optional(),
      tags: z.string().max(1000).optional(),
      hostname: name.optional(),
    }),
    secret: { required: true, describe: 'the Datadog API key' },
    formats: ANY_FORMAT,
    url: httpUrl,
    create: datadogTransport,
  },
};

export interface DestinationSettingsInput {
  type: DestinationType;
  url: string;
  format: ExportFormat;
  options: unknown;
  /** The new secret; undefined keeps the stored one. */
  secret?: string | null;
  hasStoredSecret: boolean;
}

/** Checks a destination's transport settings, naming the offending input field; returns the options to store. */
export function validateDestinationSettings(
  input: DestinationSettingsInput,
  path: string[],
): Record<string, unknown> {
  const rules = DESTINATION_RULES[input.type];
  const urlProblem = rules.url(input.url);
  if (urlProblem) throw badInput(`url ${urlProblem}; got "${input.url}"`, [...path, 'url']);
  if (!rules.formats.includes(input.format)) {
    throw badInput(`A ${input.type} destination carries ${rules.formats.join(', ')}; got ${input.format}`, [
      ...path,
      'format',
    ]);
  }
  const parsed = rules.options.safeParse(input.options ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key =
      issue.path.length > 0 ? issue.path.join('.') : ((issue as { keys?: string[] }).keys ?? [''])[0]!;
    throw badInput(`options.${key}: ${issue.message}`, [...path, 'options', ...(key ? [key] : [])]);
  }
  if (rules.secret === null) {
    if (input.secret) throw badInput(`A ${input.type} destination takes no secret`, [...path, 'secret']);
  } else {
    const secret = input.secret;
    if (secret === undefined || secret === null) {
      if (rules.secret.required && !input.hasStoredSecret) {
        throw badInput(`A ${input.type} destination needs a secret: ${rules.secret.describe}`, [
          ...path,
          'secret',
        ]);
      }
    } else {
      const problem = secret.trim() === '' ? 'must not be empty' : (rules.secret.check?.(secret) ?? null);
      if (problem) throw badInput(`secret ${problem}`, [...path, 'secret']);
    }
  }
  return parsed.data;
}

export function createTransport(type: DestinationType, settings: TransportSettings): Transport {
  return DESTINATION_RULES[type].create(settings);
}

/** A host a destination connects to, and the input field that names it. */
export interface DialedHost {
  host: string;
  field: string[];
}

const urlHost = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');

/** The hosts a (validated) destination connects to: its URL's, and for Sentinel the token endpoint's. */
export function dialedHosts(
  type: DestinationType,
  url: string,
  options: Record<string, unknown>,
): DialedHost[] {
  if (type === 'syslog') {
    const address = parseSyslogUrl(url) ?? parseRelpUrl(url);
    return address ? [{ host: address.host, field: ['url'] }] : [];
  }
  const hosts = [{ host: urlHost(url), field: ['url'] }];
  if (type === 'sentinel' && typeof options.tokenUrl === 'string') {
    hosts.push({ host: urlHost(options.tokenUrl), field: ['options', 'tokenUrl'] });
  }
  return hosts;
}
