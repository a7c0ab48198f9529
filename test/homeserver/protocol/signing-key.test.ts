import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeSigningKeyFile,
  encodeSigningKeyFile,
  generateSigningKey,
  isValidEd25519KeyId,
  sign,
  signingKeyFromSeed,
  verify,
} from '../../../homeserver/protocol/signing-key.ts';
import { decodeBase64, encodeUnpaddedBase64 } from '../../../homeserver/protocol/base64.ts';

// appendices.md "Cryptographic Test Vectors" > "Signing Key".
const SPEC_SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';
// The public key of that seed, as published by ruma-signatures' tests (an independent implementation).
const SPEC_PUBLIC_KEY = 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI';

test('the spec seed derives the public key other implementations publish for it', () => {
  const key = signingKeyFromSeed('ed25519:1', decodeBase64(SPEC_SEED));
  assert.equal(encodeUnpaddedBase64(key.publicKey), SPEC_PUBLIC_KEY);
  assert.equal(key.seed.byteLength, 32);
});

test('the spec seed decodes to the same 32 bytes despite its non-zero trailing bits ("...XA1" vs "...XA0")', () => {
  assert.deepEqual(decodeBase64(SPEC_SEED), decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0'));
});

test('signing the canonical bytes of {} with the spec key gives the appendix signature', () => {
  const seed = decodeBase64(SPEC_SEED);
  const sig = sign(seed, Buffer.from('{}'));
  assert.equal(encodeUnpaddedBase64(sig), 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ');
  assert.ok(verify(decodeBase64(SPEC_PUBLIC_KEY), Buffer.from('{}'), sig));
});

test('verify rejects a changed message, a changed signature, another key and malformed inputs', () => {
  const key = generateSigningKey();
  const other = generateSigningKey();
  const message = Buffer.from('{"a":1}');
  const sig = sign(key.seed, message);
  assert.ok(verify(key.publicKey, message, sig));
  assert.ok(!verify(key.publicKey, Buffer.from('{"a":2}'), sig));
  const flipped = Uint8Array.from(sig);
  flipped[0] ^= 1;
  assert.ok(!verify(key.publicKey, message, flipped));
  assert.ok(!verify(other.publicKey, message, sig));
  assert.ok(!verify(key.publicKey, message, sig.subarray(0, 63)));
  assert.ok(!verify(key.publicKey.subarray(0, 31), message, sig));
});

test('generated keys have an ed25519 id with a 6-character [a-zA-Z0-9_] version and distinct seeds', () => {
  const a = generateSigningKey();
  const b = generateSigningKey();
  assert.match(a.keyId, /^ed25519:[a-zA-Z0-9_]{6}$/);
  assert.equal(a.seed.byteLength, 32);
  assert.equal(a.publicKey.byteLength, 32);
  assert.notDeepEqual(a.seed, b.seed);
  assert.deepEqual(signingKeyFromSeed(a.keyId, a.seed).publicKey, a.publicKey);
});

test('key file round-trips in the Synapse format "ed25519 <version> <unpadded base64 seed>"', () => {
  const key = signingKeyFromSeed('ed25519:a_Bc9', decodeBase64(SPEC_SEED));
  const text = encodeSigningKeyFile(key);
  assert.equal(text, 'ed25519 a_Bc9 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0\n');
  const back = decodeSigningKeyFile(text);
  assert.equal(back.keyId, 'ed25519:a_Bc9');
  assert.deepEqual(back.seed, key.seed);
  assert.equal(encodeUnpaddedBase64(back.publicKey), SPEC_PUBLIC_KEY);
});

test('a key file written by Synapse (padded seed, surrounding blank lines) is read', () => {
  const key = decodeSigningKeyFile(`\n  ed25519 auto ${SPEC_SEED}=  \n`);
  assert.equal(key.keyId, 'ed25519:auto');
  assert.equal(encodeUnpaddedBase64(key.publicKey), SPEC_PUBLIC_KEY);
});

test('malformed key files and key ids are rejected with a TypeError', () => {
  for (const text of ['', 'ed25519 1', 'curve25519 1 ' + SPEC_SEED, 'ed25519 bad-version ' + SPEC_SEED, 'ed25519 1 Zm9v', 'ed25519 1 !!!']) {
    assert.throws(() => decodeSigningKeyFile(text), TypeError, text);
  }
  assert.ok(isValidEd25519KeyId('ed25519:a_1'));
  assert.ok(!isValidEd25519KeyId('ed25519:'));
  assert.ok(!isValidEd25519KeyId('ed25519:a:b'));
  assert.ok(!isValidEd25519KeyId('curve25519:a'));
});
