import { type HttpReceiver, type ReceivedRequest, startHttpReceiver } from './receivers.ts';

/** Splits Splunk HEC's concatenated JSON objects (with or without whitespace between them). */
export function parseConcatenatedJson(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{') {
      if (depth++ === 0) start = index;
    } else if (char === '}' && --depth === 0) {
      values.push(JSON.parse(text.slice(start, index + 1)));
    }
  }
  if (depth !== 0) throw new Error('unterminated JSON object');
  return values;
}

const json = (res: Parameters<HttpReceiver['respond']>[1], status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

export interface FakeSplunkHec extends HttpReceiver {
  /** Event envelopes indexed so far. */
  indexed: Record<string, unknown>[];
}

/**
 * FAKE Splunk HTTP Event Collector following its documented contract: `Authorization: Splunk <token>`,
 * concatenated JSON envelopes each with an `event`, `{"text":"Success","code":0}`; with indexer
 * acknowledgement a channel header is required, an ackId is returned, and `/services/collector/ack`
 * reports it true only from the second poll on (indexing takes a moment).
 */
export async function startFakeSplunkHec(token: string, ack: boolean): Promise<FakeSplunkHec> {
  const receiver = (await startHttpReceiver()) as FakeSplunkHec;
  receiver.indexed = [];
  let nextAckId = 0;
  const polls = new Map<number, number>();
  const pendingAcks = new Map<number, Record<string, unknown>[]>();
  receiver.respond = (request: ReceivedRequest, res) => {
    if (request.headers.authorization !== `Splunk ${token}`)
      return json(res, 401, { text: 'Invalid token', code: 4 });
    const channel = request.headers['x-splunk-request-channel'];
    if (ack && !channel) return json(res, 400, { text: 'Data channel is missing', code: 10 });
    if (request.url.startsWith('/services/collector/ack')) {
      const answer: Record<string, boolean> = {};
      for (const id of (JSON.parse(request.body) as { acks: number[] }).acks) {
        const seen = (polls.get(id) ?? 0) + 1;
        polls.set(id, seen);
        answer[id] = seen >= 2;
        if (answer[id] && pendingAcks.has(id)) {
          receiver.indexed.push(...pendingAcks.get(id)!);
          pendingAcks.delete(id);
        }
      }
      return json(res, 200, { acks: answer });
    }
    if (request.url !== '/services/collector/event') return json(res, 404, { text: 'Not found', code: 404 });
    const envelopes = parseConcatenatedJson(request.body) as Record<string, unknown>[];
    if (envelopes.length === 0) return json(res, 400, { text: 'No data', code: 5 });
    if (envelopes.some((envelope) => envelope.event === undefined)) {
      return json(res, 400, { text: 'Event field is required', code: 12 });
    }
    if (!ack) {
      receiver.indexed.push(...envelopes);
      return json(res, 200, { text: 'Success', code: 0 });
    }
    const ackId = nextAckId++;
    pendingAcks.set(ackId, envelopes);
    return json(res, 200, { text: 'Success', code: 0, ackId });
  };
  return receiver;
}

export interface FakeSentinel extends HttpReceiver {
  tokenUrl: string;
  ingestionUrl: string;
  records: Record<string, unknown>[];
  tokensIssued: number;
}

/**
 * FAKE Microsoft Entra token endpoint + Azure Monitor Logs Ingestion API: the client-credentials
 * grant (form-encoded) returns a bearer token; `POST <dce>/dataCollectionRules/<dcr>/streams/<stream>
 * ?api-version=2023-01-01` takes a JSON array with that token and answers 204.
 */
export async function startFakeSentinel(clientId: string, clientSecret: string): Promise<FakeSentinel> {
  const receiver = (await startHttpReceiver()) as FakeSentinel;
  receiver.records = [];
  receiver.tokensIssued = 0;
  const issued = new Set<string>();
  const streamPath =
    '/dataCollectionRules/dcr-00000000000000000000000000000000/streams/Custom-AuditlineEvents';
  receiver.tokenUrl = `${receiver.url}/tenant-1/oauth2/v2.0/token`;
  receiver.ingestionUrl = `${receiver.url}${streamPath}`;
  receiver.respond = (request, res) => {
    if (request.url === '/tenant-1/oauth2/v2.0/token') {
      const form = new URLSearchParams(request.body);
      if (
        form.get('grant_type') !== 'client_credentials' ||
        form.get('client_id') !== clientId ||
        form.get('client_secret') !== clientSecret ||
        form.get('scope') !== 'https://monitor.azure.com//.default'
      ) {
        return json(res, 401, { error: 'invalid_client' });
      }
      const token = `token-${++receiver.tokensIssued}`;
      issued.add(token);
      return json(res, 200, { token_type: 'Bearer', expires_in: 3599, access_token: token });
    }
    const url = new URL(request.url, receiver.url);
    if (url.pathname !== streamPath) return json(res, 404, { error: { code: 'NotFound' } });
    if (url.searchParams.get('api-version') !== '2023-01-01')
      return json(res, 400, { error: { code: 'InvalidApiVersion' } });
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    if (!bearer || !issued.has(bearer))
      return json(res, 401, { error: { code: 'InvalidAuthenticationToken' } });
    if (!String(request.headers['content-type']).startsWith('application/json')) return json(res, 415, {});
    const records = JSON.parse(request.body);
    if (!Array.isArray(records)) return json(res, 400, { error: { code: 'InvalidPayload' } });
    receiver.records.push(...records);
    res.writeHead(204).end();
  };
  return receiver;
}

export interface FakeDatadog extends HttpReceiver {
  logs: Record<string, unknown>[];
}

/** FAKE Datadog logs intake v2: `DD-API-KEY`, a JSON array of at most 1000 entries, 202 `{}`. */
export async function startFakeDatadog(apiKey: string): Promise<FakeDatadog> {
  const receiver = (await startHttpReceiver()) as FakeDatadog;
  receiver.logs = [];
  receiver.respond = (request, res) => {
    if (request.url !== '/api/v2/logs') return json(res, 404, { errors: ['Not found'] });
    if (request.headers['dd-api-key'] !== apiKey) return json(res, 403, { errors: ['Forbidden'] });
    const entries = JSON.parse(request.body);
    if (!Array.isArray(entries) || entries.length > 1000) return json(res, 400, { errors: ['Bad Request'] });
    receiver.logs.push(...entries);
    json(res, 202, {});
  };
  return receiver;
}
