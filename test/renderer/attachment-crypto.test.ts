// Encrypted attachments (renderer/src/lib/attachment-crypto.ts) against the spec's shape
// (client-server-api "Sending encrypted attachments", definitions/encrypted_file): AES-CTR 256,
// a 16-byte IV whose counter half starts at zero, the JWK key, the unpadded base64 SHA-256 of the
// ciphertext checked before anything is decrypted.
import assert from 'node:assert/strict';
import { createDecipheriv, createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  AttachmentDamagedError,
  decodeBase64,
  decryptAttachment,
  encryptAttachment,
  parseEncryptedFile,
  unpaddedBase64,
  type EncryptedFile,
} from '../../renderer/src/lib/attachment-crypto.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

test('an encrypted attachment carries the spec fields: A256CTR JWK, 16-byte IV with a zero counter half, unpadded SHA-256 of the ciphertext, v2', async () => {
  const plain = new TextEncoder().encode('a secret picture, pretend');
  const { ciphertext, file } = await encryptAttachment(plain);
  assert.deepEqual(Object.keys(file).sort(), ['hashes', 'iv', 'key', 'v']);
  assert.equal(file.v, 'v2');
  assert.deepEqual({ ...file.key, k: undefined }, { kty: 'oct', key_ops: ['encrypt', 'decrypt'], alg: 'A256CTR', k: undefined, ext: true });
  assert.match(file.key.k, /^[A-Za-z0-9_-]{43}$/, 'k is 32 bytes of unpadded URL-safe base64 (JWK)');
  assert.match(file.iv, /^[A-Za-z0-9+/]{22}$/, 'the IV is 16 bytes of unpadded base64');
  const iv = decodeBase64(file.iv)!;
  assert.deepEqual([...iv.subarray(8)], [0, 0, 0, 0, 0, 0, 0, 0], 'the last 8 bytes (the block counter) start at zero');
  assert.notDeepEqual([...iv.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0], 'the first 8 are random');
  assert.equal(file.hashes.sha256, createHash('sha256').update(ciphertext).digest('base64').replace(/=+$/, ''), 'the hash is of the ciphertext');
  assert.equal(ciphertext.length, plain.length, 'CTR adds no padding');
  assert.notDeepEqual(ciphertext, plain);
  // Another implementation (OpenSSL through node:crypto) reads it as plain AES-256-CTR.
  const decipher = createDecipheriv('aes-256-ctr', decodeBase64(file.key.k)!, iv);
  assert.equal(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString(), 'a secret picture, pretend');
  const again = await encryptAttachment(plain);
  assert.notEqual(again.file.key.k, file.key.k, 'a fresh key per file');
  assert.notEqual(again.file.iv, file.iv, 'a fresh IV per file');
});

test('encrypt then decrypt gives the bytes back, across many counter blocks', async () => {
  const plain = new Uint8Array(70_000).map((_, i) => (i * 31) % 251);
  const { ciphertext, file } = await encryptAttachment(plain);
  const back = new Uint8Array(await decryptAttachment(ciphertext, { ...file, url: 'mxc://hs/x' }));
  assert.deepEqual(back, plain);
});

test('a known vector decrypts: NIST SP 800-38A F.5.5 (CTR-AES256), hashed and keyed as an EncryptedFile', async () => {
  const key = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
  const ciphertext = hex('601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6');
  const file: EncryptedFile = {
    url: 'mxc://hs/nist',
    key: { kty: 'oct', key_ops: ['encrypt', 'decrypt'], alg: 'A256CTR', k: Buffer.from(key).toString('base64url'), ext: true },
    iv: unpaddedBase64(hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff')),
    hashes: { sha256: createHash('sha256').update(ciphertext).digest('base64').replace(/=+$/, '') },
    v: 'v2',
  };
  const plain = Buffer.from(await decryptAttachment(ciphertext, file)).toString('hex');
  assert.equal(plain, '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710');
});

test('a ciphertext that does not match its hash, or a hash that is not base64, is refused as damaged', async () => {
  const { ciphertext, file } = await encryptAttachment(new TextEncoder().encode('untouched'));
  const tampered = ciphertext.slice();
  tampered[0]! ^= 1;
  await assert.rejects(decryptAttachment(tampered, { ...file, url: 'mxc://hs/x' }), AttachmentDamagedError);
  await assert.rejects(decryptAttachment(ciphertext, { ...file, url: 'mxc://hs/x', hashes: { sha256: 'not base64!' } }), AttachmentDamagedError);
});

test("only a well-formed EncryptedFile from someone's event is accepted", () => {
  // The spec's own example (end_to_end_encryption.md).
  const example = {
    url: 'mxc://example.org/FHyPlCeYUSFFxlgbQYZmoEoe',
    v: 'v2',
    key: { alg: 'A256CTR', ext: true, k: 'aWF6-32KGYaC3A_FEUCk1Bt0JA37zP0wrStgmdCaW-0', key_ops: ['encrypt', 'decrypt'], kty: 'oct' },
    iv: 'w+sE15fzSc0AAAAAAAAAAA',
    hashes: { sha256: 'fdSLu/YkRx3Wyh3KQabP3rd6+SFiKg5lsJZQHtkSAYA' },
  };
  assert.deepEqual(parseEncryptedFile(example), example);
  for (const [what, bad] of [
    ['v1', { ...example, v: 'v1' }],
    ['not mxc', { ...example, url: 'https://example.org/x' }],
    ['another algorithm', { ...example, key: { ...example.key, alg: 'A128CTR' } }],
    ['a short key', { ...example, key: { ...example.key, k: 'aWF6' } }],
    ['a short IV', { ...example, iv: 'w+sE15fzSc0' }],
    ['no hash', { ...example, hashes: {} }],
    ['not an object', 'mxc://example.org/x'],
  ] as const) {
    assert.equal(parseEncryptedFile(bad), null, what);
  }
});
