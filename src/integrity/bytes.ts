import { createHash } from 'node:crypto';

/**
 * The one place where bytes are converted to and from text. Every integrity API takes and returns plain
 * `Uint8Array`s; `Buffer` is only used here, as the codec.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function view(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(text: string): Uint8Array {
  if (!HEX.test(text)) throw new SyntaxError(`not a hex string: ${JSON.stringify(text)}`);
  return view(Buffer.from(text, 'hex'));
}

/** Standard, padded base64 (RFC 4648 §4), as used by C2SP notes and checkpoints. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Strict standard base64: `Buffer.from(s, 'base64')` silently skips junk characters and accepts non-zero
 * padding bits, which would give one byte string several spellings; here only the canonical one decodes.
 */
export function fromBase64(text: string): Uint8Array {
  if (!BASE64.test(text)) throw new SyntaxError(`not a standard base64 string: ${JSON.stringify(text)}`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text)
    throw new SyntaxError(`non-canonical base64: ${JSON.stringify(text)}`);
  return view(bytes);
}

export function utf8Encode(text: string): Uint8Array {
  return view(Buffer.from(text, 'utf8'));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return view(hash.digest());
}

/** True when the string holds a lone UTF-16 surrogate, i.e. it has no UTF-8 encoding. */
export function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
