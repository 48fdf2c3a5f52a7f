import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import {
  concatBytes,
  fromBase64,
  fromHex,
  hasLoneSurrogate,
  sha256,
  toBase64,
  toHex,
  utf8Encode,
} from './bytes.ts';
import { HASH_SIZE } from './merkle.ts';

/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and the checkpoints
 * (c2sp.org/tlog-checkpoint) that carry a Merkle tree head in one. Key strings follow the Go
 * golang.org/x/mod/sumdb/note encoding, so the Go tooling can read our keys and verify our notes.
 */

export type SignedNoteErrorCode =
  | 'malformed-key'
  | 'malformed-note'
  | 'malformed-checkpoint'
  | 'unknown-key'
  | 'bad-signature'
  | 'wrong-origin';

export class SignedNoteError extends Error {
  constructor(
    readonly code: SignedNoteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SignedNoteError';
  }
}

/** Signature type byte for Ed25519 (c2sp.org/signed-note, "Signature types"). */
const ED25519 = 0x01;
const ED25519_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
const KEY_ID_SIZE = 4;
/** U+2014 EM DASH then a space; an ASCII "-" or "--" is not a signature line. */
const SIGNATURE_PREFIX = '\u2014 ';
const PRIVATE_KEY_PREFIX = 'PRIVATE+KEY+';
/** The Go implementation's cap; the spec asks verifiers to accept at least 16. */
const MAX_SIGNATURES = 100;

// RFC 8410 DER wrappers, so raw 32-byte Ed25519 keys can be handed to node:crypto.
const PKCS8_ED25519_PREFIX = fromHex('302e020100300506032b657004220420');
const SPKI_ED25519_PREFIX = fromHex('302a300506032b6570032100');

// ---------------------------------------------------------------------------------------------------------
// Keys

interface VerifierKey {
  name: string;
  keyId: string;
  publicKey: KeyObject;
}

interface SignerKey {
  name: string;
  keyId: string;
  privateKey: KeyObject;
}

/**
 * A new Ed25519 key pair: `signerKey` is `PRIVATE+KEY+<name>+<key id>+<base64(0x01 || seed)>` (keep it
 * secret), `verifierKey` is `<name>+<key id>+<base64(0x01 || public key)>` (publish it). For a log, use the
 * checkpoint origin as the name (c2sp.org/tlog-checkpoint: the key name SHOULD match the origin).
 */
export function generateSigningKey(name: string): { signerKey: string; verifierKey: string } {
  assertKeyName(name);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519_PREFIX.length);
  const publicKeyBytes = rawPublicKey(publicKey);
  const keyId = keyIdFor(name, publicKeyBytes);
  return {
    signerKey: `${PRIVATE_KEY_PREFIX}${name}+${keyId}+${toBase64(concatBytes(Uint8Array.of(ED25519), seed))}`,
    verifierKey: encodeVerifierKey(name, publicKeyBytes),
  };
}

/** Whether `text` is a well-formed signer key whose ID matches its name and key (for configuration checks). */
export function isSignerKey(text: string): boolean {
  try {
    parseSignerKey(text);
    return true;
  } catch {
    return false;
  }
}

export function verifierKeyFromSignerKey(signerKey: string): string {
  const { name, privateKey } = parseSignerKey(signerKey);
  return encodeVerifierKey(name, rawPublicKey(createPublicKey(privateKey)));
}

/** c2sp.org/signed-note: key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4], as hex. */
function keyIdFor(name: string, publicKey: Uint8Array): string {
  const digest = sha256(utf8Encode(name), Uint8Array.of(0x0a, ED25519), publicKey);
  return toHex(digest.subarray(0, KEY_ID_SIZE));
}

function encodeVerifierKey(name: string, publicKey: Uint8Array): string {
  return `${name}+${keyIdFor(name, publicKey)}+${toBase64(concatBytes(Uint8Array.of(ED25519), publicKey))}`;
}

function rawPublicKey(publicKey: KeyObject): Uint8Array {
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
}

function parseVerifierKey(text: string): VerifierKey {
  const { name, keyId, key } = parseKeyParts(text, 'verifier');
  if (keyIdFor(name, key) !== keyId) {
    throw new SignedNoteError('malformed-key', 'verifier key ID does not match its name and key');
  }
  return { name, keyId, publicKey: importKey(key, 'verifier', importPublicKey) };
}

function parseSignerKey(text: string): SignerKey {
  if (!text.startsWith(PRIVATE_KEY_PREFIX)) {
    throw new SignedNoteError('malformed-key', `signer key must start with ${PRIVATE_KEY_PREFIX}`);
  }
  const { name, keyId, key } = parseKeyParts(text.slice(PRIVATE_KEY_PREFIX.length), 'signer');
  const privateKey = importKey(key, 'signer', importPrivateKey);
  if (keyIdFor(name, rawPublicKey(createPublicKey(privateKey))) !== keyId) {
    throw new SignedNoteError('malformed-key', 'signer key ID does not match its name and key');
  }
  return { name, keyId, privateKey };
}

/** `<name>+<8 hex digits>+<base64(type || key)>`; the base64 may itself contain `+`, the name may not. */
function parseKeyParts(text: string, kind: string): { name: string; keyId: string; key: Uint8Array } {
  const malformed = (why: string) => new SignedNoteError('malformed-key', `${kind} key ${why}`);
  const [name = '', keyId = '', ...rest] = text.split('+');
  if (!isValidKeyName(name)) throw malformed('has an invalid name');
  if (!/^[0-9a-f]{8}$/.test(keyId)) throw malformed('ID must be 8 lowercase hex digits');
  let typed: Uint8Array;
  try {
    typed = fromBase64(rest.join('+'));
  } catch {
    throw malformed('material is not base64');
  }
  if (typed[0] !== ED25519 || typed.length !== 1 + ED25519_KEY_SIZE) {
    throw malformed('is not an Ed25519 key (type 0x01 followed by 32 bytes)');
  }
  return { name, keyId, key: typed.subarray(1) };
}

function importKey(key: Uint8Array, kind: string, load: (key: Uint8Array) => KeyObject): KeyObject {
  try {
    return load(key);
  } catch {
    throw new SignedNoteError('malformed-key', `${kind} key is not a valid Ed25519 key`);
  }
}

function importPublicKey(key: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.from(concatBytes(SPKI_ED25519_PREFIX, key)),
    format: 'der',
    type: 'spki',
  });
}

function importPrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.from(concatBytes(PKCS8_ED25519_PREFIX, seed)),
    format: 'der',
    type: 'pkcs8',
  });
}

/** c2sp.org/signed-note: non-empty, no Unicode spaces, no `+`. */
function isValidKeyName(name: string): boolean {
  return name !== '' && !/[\s+]/u.test(name) && !hasLoneSurrogate(name);
}

function assertKeyName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new SignedNoteError('malformed-key', 'key name must be non-empty, without spaces or "+"');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Notes

export interface NoteSignature {
  keyName: string;
  /** 8 lowercase hex digits, the big-endian uint32 that prefixes the signature bytes. */
  keyId: string;
  signature: Uint8Array;
}

export interface ParsedNote {
  /** The signed text, including its final newline. */
  text: string;
  signatures: NoteSignature[];
}

/** Signs `text` (which must end in a newline) and returns the whole note. */
export function signNote(text: string, signerKey: string): string {
  const signer = parseSignerKey(signerKey);
  assertNoteText(text);
  const signature = sign(null, utf8Encode(text), signer.privateKey);
  const blob = concatBytes(fromHex(signer.keyId), signature);
  return `${text}\n${SIGNATURE_PREFIX}${signer.name} ${toBase64(blob)}\n`;
}

/** Splits a note into text and signature lines, checking only syntax (c2sp.org/signed-note, "Format"). */
export function parseNote(note: string): ParsedNote {
  assertNoteCharacters(note);
  // The text is separated from the signatures by the last empty line, since the text may contain empty lines.
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) {
    throw new SignedNoteError('malformed-note', 'note must be text, a blank line, then signature lines');
  }
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) {
    throw new SignedNoteError('malformed-note', `note has more than ${MAX_SIGNATURES} signatures`);
  }
  return { text, signatures: lines.map(parseSignatureLine) };
}

function parseSignatureLine(line: string): NoteSignature {
  const malformed = () =>
    new SignedNoteError('malformed-note', `malformed signature line: ${JSON.stringify(line)}`);
  if (!line.startsWith(SIGNATURE_PREFIX)) throw malformed();
  const [keyName = '', encoded, ...extra] = line.slice(SIGNATURE_PREFIX.length).split(' ');
  if (!isValidKeyName(keyName) || encoded === undefined || extra.length > 0) throw malformed();
  let blob: Uint8Array;
  try {
    blob = fromBase64(encoded);
  } catch {
    throw malformed();
  }
  if (blob.length <= KEY_ID_SIZE) throw malformed();
  return { keyName, keyId: toHex(blob.subarray(0, KEY_ID_SIZE)), signature: blob.subarray(KEY_ID_SIZE) };
}

/**
 * Verifies `note` with one trusted key and returns its text. Per c2sp.org/signed-note, signatures from other
 * keys are ignored, a failing signature from the trusted key rejects the note, and so does having none.
 */
export function openNote(note: string, verifierKey: string): string {
  const verifier = parseVerifierKey(verifierKey);
  const { text, signatures } = parseNote(note);
  const mine = signatures.filter((s) => s.keyName === verifier.name && s.keyId === verifier.keyId);
  if (mine.length === 0) {
    throw new SignedNoteError(
      'unknown-key',
      `note has no signature from key ${verifier.name}+${verifier.keyId}`,
    );
  }
  const message = utf8Encode(text);
  for (const { signature } of mine) {
    const valid =
      signature.length === ED25519_SIGNATURE_SIZE && verify(null, message, verifier.publicKey, signature);
    if (!valid) {
      throw new SignedNoteError(
        'bad-signature',
        `signature from ${verifier.name}+${verifier.keyId} does not verify`,
      );
    }
  }
  return text;
}

/** Signed notes MUST be valid UTF-8 with no ASCII control characters other than newline. */
function assertNoteCharacters(text: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  if (/[\x00-\x09\x0b-\x1f]/.test(text) || hasLoneSurrogate(text)) {
    throw new SignedNoteError('malformed-note', 'note contains control characters or invalid UTF-16');
  }
}

function assertNoteText(text: string): void {
  assertNoteCharacters(text);
  // An empty text does not end with a newline either.
  if (!text.endsWith('\n')) {
    throw new SignedNoteError('malformed-note', 'note text must be non-empty and end with a newline');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Checkpoints

export interface Checkpoint {
  /** The log identity, e.g. `auditline.example.com/org_…`; also the key name by convention. */
  origin: string;
  treeSize: number;
  /** RFC 6962 root hash (32 bytes) of the tree at `treeSize`. */
  rootHash: Uint8Array;
  /**
   * Extension lines after the root hash, e.g. `time 1717171717`. Opaque and optional; each must be
   * non-empty. c2sp.org/tlog-checkpoint calls them NOT RECOMMENDED since monitors cannot audit them.
   */
  extra?: string[];
}

export interface ParsedCheckpoint extends Checkpoint {
  extra: string[];
  signatures: NoteSignature[];
}

/** The note text: origin, tree size, base64 root hash and any extension lines, each ending in a newline. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, treeSize, rootHash, extra = [] } = checkpoint;
  const invalid = (why: string) => new SignedNoteError('malformed-checkpoint', `checkpoint ${why}`);
  if (!isSingleLine(origin)) throw invalid('origin must be a non-empty single line');
  if (!Number.isSafeInteger(treeSize) || treeSize < 0)
    throw invalid('tree size must be a non-negative integer');
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== HASH_SIZE) {
    throw invalid(`root hash must be ${HASH_SIZE} bytes`);
  }
  if (!extra.every(isSingleLine)) throw invalid('extension lines must be non-empty single lines');
  return [origin, String(treeSize), toBase64(rootHash), ...extra].map((line) => `${line}\n`).join('');
}

export function signCheckpoint(checkpoint: Checkpoint, signerKey: string): string {
  return signNote(formatCheckpoint(checkpoint), signerKey);
}

/** Parses a checkpoint note WITHOUT checking any signature; use {@link verifyCheckpoint} before trusting it. */
export function parseCheckpoint(note: string): ParsedCheckpoint {
  const { text, signatures } = parseNote(note);
  return { ...parseCheckpointText(text), signatures };
}

/**
 * Verifies the checkpoint's signature from `verifierKey` and returns its contents; throws
 * {@link SignedNoteError} when the note is malformed, lacks that key's signature, or the signature is bad.
 * Pass `origin` to also require a specific log identity.
 */
export function verifyCheckpoint(
  note: string,
  verifierKey: string,
  options: { origin?: string } = {},
): Checkpoint & { extra: string[] } {
  const checkpoint = parseCheckpointText(openNote(note, verifierKey));
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw new SignedNoteError(
      'wrong-origin',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(options.origin)}`,
    );
  }
  return checkpoint;
}

/** c2sp.org/tlog-checkpoint, "Note text": at least three non-empty lines. */
function parseCheckpointText(text: string): Checkpoint & { extra: string[] } {
  const invalid = (why: string) => new SignedNoteError('malformed-checkpoint', `checkpoint ${why}`);
  const lines = text.slice(0, -1).split('\n');
  const [origin, size, root, ...extra] = lines;
  if (origin === undefined || size === undefined || root === undefined || lines.some((line) => line === '')) {
    throw invalid('must have origin, tree size and root hash lines, and no empty lines');
  }
  // Decimal with no leading zeroes, so a tree size has exactly one spelling.
  if (!/^(?:0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw invalid(`tree size ${JSON.stringify(size)} is not a canonical decimal integer`);
  }
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(root);
  } catch {
    throw invalid('root hash is not base64');
  }
  if (rootHash.length !== HASH_SIZE) throw invalid(`root hash is not ${HASH_SIZE} bytes`);
  return { origin, treeSize: Number(size), rootHash, extra };
}

function isSingleLine(line: unknown): boolean {
  return typeof line === 'string' && line !== '' && !line.includes('\n');
}
