import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import { AuditlineError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Seals destination credentials before they are stored. With DESTINATION_SECRETS_KEY set they are
 * AES-256-GCM encrypted; without it they are stored as given (still never returned by the API),
 * which a production server refuses to do (`requireKey`).
 */
export class SecretBox {
  private readonly key: Buffer | null;

  constructor(
    key: string | null,
    private readonly requireKey = false,
  ) {
    this.key = key ? Buffer.from(key, /^[0-9a-fA-F]{64}$/.test(key) ? 'hex' : 'base64') : null;
  }

  seal(secret: string, inputPath: string[] = ['input', 'secret']): string {
    if (!this.key && this.requireKey) {
      throw new AuditlineError(
        'FORBIDDEN',
        'This server runs with NODE_ENV=production and no DESTINATION_SECRETS_KEY, so it does not store destination secrets: set DESTINATION_SECRETS_KEY (32 bytes, hex or base64) on every instance',
        inputPath,
      );
    }
    if (!this.key) return `plain.${Buffer.from(secret, 'utf8').toString('base64url')}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), sealed]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  open(sealed: string): string {
    const [version, ...parts] = sealed.split('.');
    if (version === 'plain') return Buffer.from(parts[0] ?? '', 'base64url').toString('utf8');
    if (version !== 'v1' || parts.length !== 3)
      throw new Error('The stored destination secret is not readable');
    if (!this.key)
      throw new Error(
        'The destination secret is encrypted: set DESTINATION_SECRETS_KEY to the key that sealed it',
      );
    const [iv, tag, data] = parts.map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer];
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(
        'The destination secret does not open with DESTINATION_SECRETS_KEY (was the key changed?)',
      );
    }
  }
}

/** Says once, at start, that a development server stores destination secrets unencrypted. */
export function warnAboutUnsealedSecrets(config: Config, logger: Logger): void {
  if (config.environment !== 'development' || config.export.secretsKey) return;
  logger.warn(
    '!!! DESTINATION_SECRETS_KEY is not set: destination secrets are stored unencrypted. ' +
      'Fine for development; a NODE_ENV=production server refuses to store them without it. !!!',
  );
}
