import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64, utf8Encode } from '../../src/integrity/bytes.ts';
import { leafHash } from '../../src/integrity/merkle.ts';
import {
  formatCheckpoint,
  generateSigningKey,
  openNote,
  parseCheckpoint,
  parseNote,
  SignedNoteError,
  signCheckpoint,
  signNote,
  verifierKeyFromSignerKey,
  verifyCheckpoint,
} from '../../src/integrity/signed-note.ts';

// The golang.org/x/mod/sumdb/note example (also in the C2SP signed-note ecosystem's tests). Ed25519 is
// deterministic, so signing must reproduce the published note byte for byte.
const GO_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VERIFIER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

const ORIGIN = 'auditline.example.com/org_0190a1b2';
const { signerKey, verifierKey } = generateSigningKey(ORIGIN);
const ROOT = leafHash(utf8Encode('root'));
const CHECKPOINT = { origin: ORIGIN, treeSize: 20852163, rootHash: ROOT };

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(SignedNoteError);
    return (error as SignedNoteError).code;
  }
}

describe('interoperability with the Go note package', () => {
  it('signs exactly like the reference implementation', () => {
    expect(signNote(GO_TEXT, GO_SIGNER)).toBe(GO_NOTE);
  });

  it('opens the reference note and derives the reference verifier key', () => {
    expect(openNote(GO_NOTE, GO_VERIFIER)).toBe(GO_TEXT);
    expect(verifierKeyFromSignerKey(GO_SIGNER)).toBe(GO_VERIFIER);
  });

  it('rejects the reference note once its text is altered', () => {
    expect(codeOf(() => openNote(GO_NOTE.replace('cryptography', 'cryptographY'), GO_VERIFIER))).toBe(
      'bad-signature',
    );
  });
});

describe('keys', () => {
  it('generates keys in the note key format', () => {
    expect(signerKey).toMatch(
      /^PRIVATE\+KEY\+auditline\.example\.com\/org_0190a1b2\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/,
    );
    expect(verifierKey).toMatch(/^auditline\.example\.com\/org_0190a1b2\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(verifierKeyFromSignerKey(signerKey)).toBe(verifierKey);
    expect(fromBase64(verifierKey.split('+').slice(2).join('+'))[0]).toBe(0x01);
  });

  it('refuses names with spaces or plus signs', () => {
    expect(codeOf(() => generateSigningKey('has space'))).toBe('malformed-key');
    expect(codeOf(() => generateSigningKey('a+b'))).toBe('malformed-key');
    expect(codeOf(() => generateSigningKey(''))).toBe('malformed-key');
  });

  it.each([
    ['a wrong key ID', GO_VERIFIER.replace('c74f20a3', 'c74f20a4')],
    ['an uppercase key ID', GO_VERIFIER.replace('c74f20a3', 'C74F20A3')],
    ['another name', GO_VERIFIER.replace('PeterNeumann', 'PeterNeumanN')],
    ['a non-Ed25519 type byte', `PeterNeumann+c74f20a3+${toBase64(Uint8Array.of(2, ...new Uint8Array(32)))}`],
    ['a short key', 'PeterNeumann+c74f20a3+AQID'],
    ['missing parts', 'PeterNeumann+c74f20a3'],
    ['bad base64', 'PeterNeumann+c74f20a3+!!!!'],
  ])('rejects a verifier key with %s', (_, key) => {
    expect(codeOf(() => openNote(GO_NOTE, key))).toBe('malformed-key');
  });

  it('rejects signer keys that are not PRIVATE+KEY or whose ID does not match', () => {
    expect(codeOf(() => signNote(GO_TEXT, GO_VERIFIER))).toBe('malformed-key');
    expect(codeOf(() => signNote(GO_TEXT, GO_SIGNER.replace('c74f20a3', '00000000')))).toBe('malformed-key');
  });
});

describe('notes', () => {
  it('ignores signatures from unknown keys but requires one from the trusted key', () => {
    const other = generateSigningKey('witness.example');
    const cosigned = `${signNote(GO_TEXT, GO_SIGNER)}${signNote(GO_TEXT, other.signerKey).split('\n\n')[1]}`;
    expect(parseNote(cosigned).signatures.map((s) => s.keyName)).toEqual(['PeterNeumann', 'witness.example']);
    expect(openNote(cosigned, GO_VERIFIER)).toBe(GO_TEXT);
    expect(openNote(cosigned, other.verifierKey)).toBe(GO_TEXT);
    expect(codeOf(() => openNote(GO_NOTE, other.verifierKey))).toBe('unknown-key');
  });

  it('ignores a key that shares the name but not the ID', () => {
    const impostor = generateSigningKey('PeterNeumann');
    expect(codeOf(() => openNote(signNote(GO_TEXT, impostor.signerKey), GO_VERIFIER))).toBe('unknown-key');
  });

  it('rejects a note where a second signature from the trusted key fails', () => {
    const line = GO_NOTE.split('\n\n')[1]!;
    const blob = fromBase64(line.split(' ')[2]!.trim());
    blob[10]! ^= 1;
    const doubled = `${GO_NOTE}\u2014 PeterNeumann ${toBase64(blob)}\n`;
    expect(codeOf(() => openNote(doubled, GO_VERIFIER))).toBe('bad-signature');
  });

  it('splits text from signatures at the last blank line, so the text may contain blank lines', () => {
    const text = 'first\n\nsecond\n';
    const note = signNote(text, signerKey);
    expect(parseNote(note).text).toBe(text);
    expect(openNote(note, verifierKey)).toBe(text);
  });

  it.each([
    ['no blank line', GO_NOTE.replace('\n\n', '\n')],
    ['no final newline', GO_NOTE.slice(0, -1)],
    ['an ASCII dash instead of the em dash', GO_NOTE.replace('\u2014', '-')],
    ['no signature lines', `${GO_TEXT}\n`],
    ['a trailing blank line', `${GO_NOTE}\n`],
    ['a control character', GO_NOTE.replace('problem,', 'problem\t')],
    ['a truncated signature', GO_NOTE.replace(/ \S+\n$/, ' AAAA\n')],
    ['a signature that is not base64', GO_NOTE.replace(/ \S+\n$/, ' ***\n')],
    ['an extra field', GO_NOTE.replace(/\n$/, ' extra\n')],
  ])('rejects a note with %s as malformed', (_, note) => {
    expect(codeOf(() => openNote(note, GO_VERIFIER))).toBe('malformed-note');
  });

  it('refuses to sign text that could not be parsed back', () => {
    expect(codeOf(() => signNote('', GO_SIGNER))).toBe('malformed-note');
    expect(codeOf(() => signNote('no newline', GO_SIGNER))).toBe('malformed-note');
    expect(codeOf(() => signNote('bell\u0007\n', GO_SIGNER))).toBe('malformed-note');
  });
});

describe('checkpoints', () => {
  it('formats the C2SP tlog-checkpoint body', () => {
    expect(formatCheckpoint(CHECKPOINT)).toBe(`${ORIGIN}\n20852163\n${toBase64(ROOT)}\n`);
    expect(formatCheckpoint({ ...CHECKPOINT, treeSize: 0, extra: ['time 1717171717'] })).toBe(
      `${ORIGIN}\n0\n${toBase64(ROOT)}\ntime 1717171717\n`,
    );
  });

  it('signs with an em-dash signature line after a blank line', () => {
    const note = signCheckpoint(CHECKPOINT, signerKey);
    const [body, signatures] = note.split('\n\n');
    expect(`${body}\n`).toBe(formatCheckpoint(CHECKPOINT));
    expect(signatures).toMatch(new RegExp(`^\u2014 ${ORIGIN.replaceAll('.', '\\.')} [A-Za-z0-9+/]{91}=\n$`));
    // 4-byte key ID, then the 64-byte Ed25519 signature.
    expect(fromBase64(signatures!.split(' ')[2]!.trim())).toHaveLength(68);
  });

  it('round-trips through sign, parse and verify, extension lines included', () => {
    const checkpoint = { ...CHECKPOINT, extra: ['time 1717171717', 'x-auditline-epoch 3'] };
    const note = signCheckpoint(checkpoint, signerKey);
    expect(verifyCheckpoint(note, verifierKey)).toEqual(checkpoint);
    expect(verifyCheckpoint(note, verifierKey, { origin: ORIGIN }).treeSize).toBe(20852163);
    const parsed = parseCheckpoint(note);
    expect(parsed.rootHash).toEqual(ROOT);
    expect(parsed.signatures).toHaveLength(1);
    expect(parsed.signatures[0]!.keyName).toBe(ORIGIN);
    expect(parsed.signatures[0]!.keyId).toBe(verifierKey.split('+')[1]);
  });

  it('verifies an empty tree', () => {
    const note = signCheckpoint({ ...CHECKPOINT, treeSize: 0 }, signerKey);
    expect(verifyCheckpoint(note, verifierKey).treeSize).toBe(0);
  });

  it('rejects a checkpoint from the wrong log', () => {
    const note = signCheckpoint(CHECKPOINT, signerKey);
    expect(codeOf(() => verifyCheckpoint(note, verifierKey, { origin: 'other.example/log' }))).toBe(
      'wrong-origin',
    );
  });

  it('fails to verify once any bit of the note changes', () => {
    const note = signCheckpoint({ ...CHECKPOINT, extra: ['time 1717171717'] }, signerKey);
    const bytes = utf8Encode(note);
    const decoder = new TextDecoder();
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const mutated = Uint8Array.from(bytes);
        mutated[i]! ^= 1 << bit;
        const text = decoder.decode(mutated);
        expect(() => verifyCheckpoint(text, verifierKey), `byte ${i} bit ${bit}`).toThrow(SignedNoteError);
      }
    }
  });

  it('fails on an altered size, root or origin even when the note stays well formed', () => {
    const note = signCheckpoint(CHECKPOINT, signerKey);
    const [, signatureLine] = note.split('\n\n');
    const resign = (body: string) => `${body}\n${signatureLine}`;
    const flipped = Uint8Array.from(ROOT);
    flipped[31]! ^= 0x80;
    for (const body of [
      formatCheckpoint({ ...CHECKPOINT, treeSize: CHECKPOINT.treeSize + 1 }),
      formatCheckpoint({ ...CHECKPOINT, treeSize: CHECKPOINT.treeSize - 1 }),
      formatCheckpoint({ ...CHECKPOINT, rootHash: flipped }),
      formatCheckpoint({ ...CHECKPOINT, origin: `${ORIGIN}x` }),
      formatCheckpoint({ ...CHECKPOINT, extra: ['time 1'] }),
    ]) {
      expect(codeOf(() => verifyCheckpoint(resign(body), verifierKey))).toBe('bad-signature');
    }
  });

  it('fails when any byte of the signature changes', () => {
    const note = signCheckpoint(CHECKPOINT, signerKey);
    const [body, line] = note.split('\n\n');
    const encoded = line!.trim().split(' ')[2]!;
    for (let i = 0; i < 68; i++) {
      const blob = fromBase64(encoded);
      blob[i]! ^= 0x01;
      const mutated = `${body}\n\n\u2014 ${ORIGIN} ${toBase64(blob)}\n`;
      // The first four bytes are the key ID: changing them makes it some other (unknown) key's signature.
      expect(codeOf(() => verifyCheckpoint(mutated, verifierKey))).toBe(
        i < 4 ? 'unknown-key' : 'bad-signature',
      );
    }
  });

  it.each([
    ['a size with a leading zero', (root: string) => `o\n012\n${root}\n`],
    ['a negative size', (root: string) => `o\n-1\n${root}\n`],
    ['an oversized size', (root: string) => `o\n9007199254740993\n${root}\n`],
    ['a missing root', () => 'o\n12\n'],
    ['a short root', () => 'o\n12\nAAAA\n'],
    ['an empty extension line', (root: string) => `o\n12\n${root}\n\nmore\n`],
  ])('rejects a signed checkpoint with %s', (_, body) => {
    const note = signNote(body(toBase64(ROOT)), signerKey);
    expect(codeOf(() => verifyCheckpoint(note, verifierKey))).toBe('malformed-checkpoint');
  });

  it('refuses to sign an invalid checkpoint', () => {
    expect(codeOf(() => signCheckpoint({ ...CHECKPOINT, origin: '' }, signerKey))).toBe(
      'malformed-checkpoint',
    );
    expect(codeOf(() => signCheckpoint({ ...CHECKPOINT, origin: 'a\nb' }, signerKey))).toBe(
      'malformed-checkpoint',
    );
    expect(codeOf(() => signCheckpoint({ ...CHECKPOINT, treeSize: -1 }, signerKey))).toBe(
      'malformed-checkpoint',
    );
    expect(codeOf(() => signCheckpoint({ ...CHECKPOINT, treeSize: 1.5 }, signerKey))).toBe(
      'malformed-checkpoint',
    );
    expect(codeOf(() => signCheckpoint({ ...CHECKPOINT, rootHash: new Uint8Array(31) }, signerKey))).toBe(
      'malformed-checkpoint',
    );
    expect(codeOf(() => signCheckpoint({ ...CHECKPOINT, extra: [''] }, signerKey))).toBe(
      'malformed-checkpoint',
    );
  });
});
