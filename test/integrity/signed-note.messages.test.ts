import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64, utf8Encode } from '../../src/integrity/bytes.ts';
import { leafHash } from '../../src/integrity/merkle.ts';
import {
  formatCheckpoint,
  generateSigningKey,
  isSignerKey,
  openNote,
  parseCheckpoint,
  parseNote,
  SignedNoteError,
  signCheckpoint,
  signNote,
  verifierKeyFromSignerKey,
  verifyCheckpoint,
} from '../../src/integrity/signed-note.ts';

// Every refusal of the signed-note code with its code and message, and the limits just inside each check
// (mutation testing found most messages and several boundaries unpinned).

const GO_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VERIFIER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ROOT = leafHash(utf8Encode('root'));

function errorOf(action: () => unknown): { name: string; code: string; message: string } {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SignedNoteError);
    const { name, code, message } = error as SignedNoteError;
    return { name, code, message };
  }
  throw new Error('expected a SignedNoteError');
}

const keyError = (message: string) => ({ name: 'SignedNoteError', code: 'malformed-key', message });
const noteError = (message: string) => ({ name: 'SignedNoteError', code: 'malformed-note', message });
const checkpointError = (message: string) => ({
  name: 'SignedNoteError',
  code: 'malformed-checkpoint',
  message,
});

describe('keys', () => {
  it('generates a pair whose verifier key the signer key derives, inside a test', () => {
    const { signerKey, verifierKey } = generateSigningKey('example.com/log');
    expect(isSignerKey(signerKey)).toBe(true);
    expect(verifierKeyFromSignerKey(signerKey)).toBe(verifierKey);
    expect(fromBase64(signerKey.split('+').slice(4).join('+'))).toHaveLength(33);
    expect(openNote(signNote('hello\n', signerKey), verifierKey)).toBe('hello\n');
  });

  it('tells signer keys from anything else', () => {
    expect(isSignerKey(GO_SIGNER)).toBe(true);
    expect(isSignerKey(GO_VERIFIER)).toBe(false);
    expect(isSignerKey(GO_SIGNER.replace('c74f20a3', 'c74f20a4'))).toBe(false);
  });

  it.each([
    ['', 'key name must be non-empty, without spaces or "+"'],
    ['a b', 'key name must be non-empty, without spaces or "+"'],
    ['a\tb', 'key name must be non-empty, without spaces or "+"'],
    ['a\u2003b', 'key name must be non-empty, without spaces or "+"'],
    ['a+b', 'key name must be non-empty, without spaces or "+"'],
    ['a\ud800b', 'key name must be non-empty, without spaces or "+"'],
  ])('refuses the key name %j', (name, message) => {
    expect(errorOf(() => generateSigningKey(name))).toEqual(keyError(message));
  });

  it('accepts any other name, Unicode included', () => {
    expect(generateSigningKey('Ünïcode.example/log-1').verifierKey).toMatch(/^Ünïcode\.example\/log-1\+/);
  });

  it.each([
    [GO_VERIFIER.replace('PeterNeumann', 'Peter\u00a0Neumann'), 'verifier key has an invalid name'],
    [`+${GO_VERIFIER}`, 'verifier key has an invalid name'],
    [GO_VERIFIER.replace('c74f20a3', 'c74f20a3a'), 'verifier key ID must be 8 lowercase hex digits'],
    [GO_VERIFIER.replace('c74f20a3', 'ac74f20a3'), 'verifier key ID must be 8 lowercase hex digits'],
    [GO_VERIFIER.replace('c74f20a3', 'C74F20A3'), 'verifier key ID must be 8 lowercase hex digits'],
    ['PeterNeumann', 'verifier key ID must be 8 lowercase hex digits'],
    ['PeterNeumann+c74f20a3+!!!!', 'verifier key material is not base64'],
    [
      `PeterNeumann+c74f20a3+${toBase64(Uint8Array.of(2, ...new Uint8Array(32)))}`,
      'verifier key is not an Ed25519 key (type 0x01 followed by 32 bytes)',
    ],
    [
      `PeterNeumann+c74f20a3+${toBase64(Uint8Array.of(1, ...new Uint8Array(31)))}`,
      'verifier key is not an Ed25519 key (type 0x01 followed by 32 bytes)',
    ],
    [GO_VERIFIER.replace('c74f20a3', 'c74f20a4'), 'verifier key ID does not match its name and key'],
  ])('refuses the verifier key %s', (key, message) => {
    expect(errorOf(() => openNote('x\n\n\u2014 PeterNeumann AAAAAAAA\n', key))).toEqual(keyError(message));
  });

  it.each([
    [GO_VERIFIER, 'signer key must start with PRIVATE+KEY+'],
    [GO_SIGNER.replace('c74f20a3', 'c74f20a4'), 'signer key ID does not match its name and key'],
    [GO_SIGNER.replace('PeterNeumann', ''), 'signer key has an invalid name'],
    [
      'PRIVATE+KEY+PeterNeumann+c74f20a3+AQID',
      'signer key is not an Ed25519 key (type 0x01 followed by 32 bytes)',
    ],
  ])('refuses the signer key %s', (key, message) => {
    expect(errorOf(() => signNote('x\n', key))).toEqual(keyError(message));
  });
});

describe('notes', () => {
  const note = signNote('line\n', GO_SIGNER);
  const signatureLine = note.split('\n').at(-2)!;

  it('refuses text that is empty or does not end in a newline', () => {
    for (const text of ['', 'no newline']) {
      expect(errorOf(() => signNote(text, GO_SIGNER))).toEqual(
        noteError('note text must be non-empty and end with a newline'),
      );
    }
    expect(errorOf(() => signNote('tab\there\n', GO_SIGNER))).toEqual(
      noteError('note contains control characters or invalid UTF-16'),
    );
  });

  it('refuses a note without a blank line before its signatures, or without a final newline', () => {
    for (const text of ['line\n' + signatureLine + '\n', note.slice(0, -1)]) {
      expect(errorOf(() => parseNote(text))).toEqual(
        noteError('note must be text, a blank line, then signature lines'),
      );
    }
  });

  it('splits at a blank line at the very start', () => {
    expect(parseNote(`\n\n${signatureLine}\n`)).toMatchObject({
      text: '\n',
      signatures: [{ keyName: 'PeterNeumann' }],
    });
  });

  it('accepts 100 signature lines and refuses 101', () => {
    const lines = (n: number) => `line\n\n${Array.from({ length: n }, () => signatureLine).join('\n')}\n`;
    expect(parseNote(lines(100)).signatures).toHaveLength(100);
    expect(errorOf(() => parseNote(lines(101)))).toEqual(noteError('note has more than 100 signatures'));
  });

  it.each([
    '- PeterNeumann AAAAAAAA',
    '\u2014 PeterNeumann',
    '\u2014 Peter+Neumann AAAAAAAAAAAA',
    '\u2014 PeterNeumann AAAAAAAAAAAA extra',
    '\u2014 PeterNeumann !!!!',
    '\u2014 PeterNeumann AAAAAA==',
  ])('refuses the signature line %j', (line) => {
    expect(errorOf(() => parseNote(`line\n\n${line}\n`))).toEqual(
      noteError(`malformed signature line: ${JSON.stringify(line)}`),
    );
  });

  it('takes a five-byte signature blob apart', () => {
    expect(parseNote('line\n\n\u2014 PeterNeumann AAAAAAA=\n').signatures).toEqual([
      { keyName: 'PeterNeumann', keyId: '00000000', signature: new Uint8Array(1) },
    ]);
  });

  it('names the key whose signature fails, or is missing', () => {
    const forged = note.replace(
      / \S+\n$/,
      ` ${toBase64(Uint8Array.of(0xc7, 0x4f, 0x20, 0xa3, ...new Uint8Array(64)))}\n`,
    );
    expect(errorOf(() => openNote(forged, GO_VERIFIER))).toEqual({
      name: 'SignedNoteError',
      code: 'bad-signature',
      message: 'signature from PeterNeumann+c74f20a3 does not verify',
    });
    const other = generateSigningKey('Other').verifierKey;
    expect(errorOf(() => openNote(note, other)).message).toBe(
      `note has no signature from key Other+${other.split('+')[1]}`,
    );
  });
});

describe('checkpoints', () => {
  const valid = { origin: 'example.com/log', treeSize: 5, rootHash: ROOT };

  it.each([
    [{ origin: '' }, 'checkpoint origin must be a non-empty single line'],
    [{ origin: 'a\nb' }, 'checkpoint origin must be a non-empty single line'],
    [{ origin: 5 as unknown as string }, 'checkpoint origin must be a non-empty single line'],
    [{ treeSize: -1 }, 'checkpoint tree size must be a non-negative integer'],
    [{ treeSize: 1.5 }, 'checkpoint tree size must be a non-negative integer'],
    [{ rootHash: new Uint8Array(31) }, 'checkpoint root hash must be 32 bytes'],
    [{ extra: ['ok', ''] }, 'checkpoint extension lines must be non-empty single lines'],
    [{ extra: [7 as unknown as string] }, 'checkpoint extension lines must be non-empty single lines'],
  ])('refuses to format %j', (change, message) => {
    expect(errorOf(() => formatCheckpoint({ ...valid, ...change }))).toEqual(checkpointError(message));
  });

  const signed = (text: string) => signNote(text, GO_SIGNER);
  const root = toBase64(ROOT);

  it.each([
    ['origin\n', 'checkpoint must have origin, tree size and root hash lines, and no empty lines'],
    ['origin\n5\n', 'checkpoint must have origin, tree size and root hash lines, and no empty lines'],
    [
      `origin\n5\n${root}\n\nextra\n`,
      'checkpoint must have origin, tree size and root hash lines, and no empty lines',
    ],
    [`origin\n05\n${root}\n`, 'checkpoint tree size "05" is not a canonical decimal integer'],
    [`origin\n5x\n${root}\n`, 'checkpoint tree size "5x" is not a canonical decimal integer'],
    [
      `origin\n9007199254740992\n${root}\n`,
      'checkpoint tree size "9007199254740992" is not a canonical decimal integer',
    ],
    ['origin\n5\nnot base64!\n', 'checkpoint root hash is not base64'],
    ['origin\n5\nAAAA\n', 'checkpoint root hash is not 32 bytes'],
  ])('refuses the checkpoint text %j', (text, message) => {
    expect(errorOf(() => parseCheckpoint(signed(text)))).toEqual(checkpointError(message));
  });

  it('reads the largest safe tree size and size 0', () => {
    expect(parseCheckpoint(signed(`o\n9007199254740991\n${root}\n`)).treeSize).toBe(2 ** 53 - 1);
    expect(parseCheckpoint(signed(`o\n0\n${root}\n`)).treeSize).toBe(0);
  });

  it('names both origins when the origin is not the expected one', () => {
    const note = signCheckpoint({ ...valid, origin: 'PeterNeumann' }, GO_SIGNER);
    expect(errorOf(() => verifyCheckpoint(note, GO_VERIFIER, { origin: 'other' }))).toEqual({
      name: 'SignedNoteError',
      code: 'wrong-origin',
      message: 'checkpoint origin "PeterNeumann" is not "other"',
    });
    expect(verifyCheckpoint(note, GO_VERIFIER, { origin: 'PeterNeumann' }).treeSize).toBe(5);
  });
});
