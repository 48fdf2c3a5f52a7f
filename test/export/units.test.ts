import { describe, expect, it } from 'vitest';
import { backoffDelay, retryDelay } from '../../src/export/backoff.ts';
import { sampleEvent } from '../../src/export/destination-test.ts';
import { parseRetryAfter } from '../../src/export/destinations/http.ts';
import { sha256Hex, signV4 } from '../../src/export/destinations/sigv4.ts';
import { parseSyslogUrl, syslogFrame } from '../../src/export/destinations/syslog.ts';
import { webhookSignature, webhookSigningKey } from '../../src/export/destinations/webhook.ts';
import { acceptsGzip } from '../../src/export/download.ts';
import { signExportGrant, verifyExportToken } from '../../src/export/export-link.ts';
import { SecretBox } from '../../src/export/secrets.ts';

describe('SigV4', () => {
  it('matches the AWS documentation example (GET Object with a Range header)', () => {
    const headers = signV4(
      {
        method: 'GET',
        url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
        headers: { range: 'bytes=0-9' },
        payloadHash: sha256Hex(''),
      },
      {
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        region: 'us-east-1',
        service: 's3',
      },
      new Date('2013-05-24T00:00:00Z'),
    );
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });
});

describe('Standard Webhooks signature', () => {
  it('signs "id.timestamp.body" with the decoded whsec_ key', () => {
    // Test vector from the Standard Webhooks reference implementation's tests.
    const key = webhookSigningKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')!;
    expect(webhookSignature(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
    expect(webhookSigningKey('whsec_c2hvcnQ=')).toBeNull();
    expect(webhookSigningKey('secret')).toBeNull();
  });
});

describe('retries', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 };
  it('doubles up to the cap, with half of each delay random', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, policy, () => 0))).toEqual([
      500, 1000, 2000, 4000,
    ]);
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, policy, () => 1))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    expect(backoffDelay(40, policy, () => 1)).toBe(60_000);
    expect(backoffDelay(40, policy, () => 0)).toBe(30_000);
  });
  it('lets Retry-After win, in seconds or as a date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(retryDelay(1, policy, 120_000)).toBe(120_000);
    expect(retryDelay(1, policy, 10 * 3600_000)).toBe(3600_000);
  });
});

describe('destination secrets', () => {
  it('are sealed with AES-256-GCM when a key is configured', () => {
    const box = new SecretBox('a'.repeat(64));
    const sealed = box.seal('hec-token');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('hec-token');
    expect(box.open(sealed)).toBe('hec-token');
    expect(() => new SecretBox('b'.repeat(64)).open(sealed)).toThrow(/does not open/);
    expect(() => new SecretBox(null).open(sealed)).toThrow(/DESTINATION_SECRETS_KEY/);
    expect(new SecretBox(null).open(new SecretBox(null).seal('x'))).toBe('x');
  });
});

describe('export links', () => {
  it('carry the grant, and refuse any change to it', () => {
    const key = Buffer.from('k'.repeat(32));
    const expiresAt = new Date(Date.now() + 60_000);
    const token = signExportGrant(key, {
      keyId: 'key_0196f1c2a6b87c3d9e0f1a2b3c4d5e6f',
      organizationUuid: '01a22296-bec8-70a1-b449-beabb8b0bd43',
      filter: { actions: ['user.*'], occurredAfter: new Date('2026-01-01T00:00:00Z') },
      query: 'actor:usr_1',
      format: 'cef',
      expiresAt,
    });
    const check = verifyExportToken(key, token);
    expect(check.ok && check.grant.filter?.occurredAfter).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(check.ok && check.grant.format).toBe('cef');
    expect(verifyExportToken(Buffer.from('other'), token)).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyExportToken(key, token, new Date(expiresAt.getTime() + 1))).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('gzip only when the client accepts it', () => {
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('br;q=1, gzip;q=0')).toBe(false);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe('syslog framing', () => {
  it('writes RFC 5424 with RFC 6587 octet counting, counting bytes not characters', () => {
    const event = {
      ...sampleEvent('org_01a22296bec870a1b449beabb8b0bd43', new Date('2026-01-01T00:00:00Z')),
    };
    const frame = syslogFrame({ ...event, action: 'user.login_failed' }, 'CEF:0|é', {
      hostname: 'app 1',
    }).toString('utf8');
    const [length, ...rest] = frame.split(' ');
    const message = rest.join(' ');
    expect(Number(length)).toBe(Buffer.byteLength(message));
    expect(message).toBe('<109>1 2026-01-01T00:00:00.000Z app_1 auditline - audit - CEF:0|é');
    expect(parseSyslogUrl('tls://[::1]:6514')).toEqual({ secure: true, host: '::1', port: 6514 });
    expect(parseSyslogUrl('udp://siem:514')).toBeNull();
  });
});
