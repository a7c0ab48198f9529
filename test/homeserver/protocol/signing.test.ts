import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signJson, signedBytes, verifyJsonSignature } from '../../../homeserver/protocol/signing.ts';
import { generateSigningKey, signingKeyFromSeed } from '../../../homeserver/protocol/signing-key.ts';
import { decodeBase64 } from '../../../homeserver/protocol/base64.ts';
import type { Signatures } from '../../../homeserver/protocol/types.ts';

// appendices.md "Cryptographic Test Vectors": seed, server name and key id.
const SPEC_KEY = signingKeyFromSeed('ed25519:1', decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'));
const SERVER_NAME = 'domain';

test('JSON Signing vector: {} signs to the exact appendix output', () => {
  assert.deepEqual(signJson({}, SERVER_NAME, SPEC_KEY), {
    signatures: {
      domain: {
        'ed25519:1': 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ',
      },
    },
  });
});

test('JSON Signing vector: {"one":1,"two":"Two"} signs to the exact appendix output', () => {
  assert.deepEqual(signJson({ one: 1, two: 'Two' }, SERVER_NAME, SPEC_KEY), {
    one: 1,
    signatures: {
      domain: {
        'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
      },
    },
    two: 'Two',
  });
});

// appendices.md "Signing Details": the example.org key document. Its signature cannot be checked
// (the appendix gives no key for it), but it shows what a signature covers.
const SIGNING_DETAILS_EXAMPLE = {
  name: 'example.org',
  signing_keys: { 'ed25519:1': 'XSl0kuyvrXNj6A+7/tkrB9sxSbRi08Of5uRhxOqZtEQ' },
  unsigned: { age_ts: 922834800000 },
  signatures: {
    'example.org': {
      'ed25519:1': 's76RUgajp8w172am0zQb/iPTHsRnb4SkrzGoeCOSFfcBY2V/1c8QfrmdXHpvnc2jK5BD1WiJIxiMW95fMjK7Bw',
    },
  },
};

test('Signing Details example: the signed bytes leave out signatures and unsigned', () => {
  assert.equal(
    Buffer.from(signedBytes(SIGNING_DETAILS_EXAMPLE)).toString(),
    '{"name":"example.org","signing_keys":{"ed25519:1":"XSl0kuyvrXNj6A+7/tkrB9sxSbRi08Of5uRhxOqZtEQ"}}',
  );
});

test('signing keeps unsigned and other signatures, so unsigned data and co-signers do not break it', () => {
  const signed = signJson(SIGNING_DETAILS_EXAMPLE, SERVER_NAME, SPEC_KEY);
  assert.deepEqual(signed.unsigned, { age_ts: 922834800000 });
  assert.deepEqual(Object.keys(signed.signatures).sort(), ['domain', 'example.org']);
  assert.equal(signed.signatures['example.org']['ed25519:1'], SIGNING_DETAILS_EXAMPLE.signatures['example.org']['ed25519:1']);
  assert.ok(verifyJsonSignature(signed, SERVER_NAME, 'ed25519:1', SPEC_KEY.publicKey));
  // Changing unsigned or adding signatures leaves our signature valid.
  const relayed = { ...signed, unsigned: { age: 5 }, signatures: { ...signed.signatures, other: { 'ed25519:x': 'AAAA' } } };
  assert.ok(verifyJsonSignature(relayed, SERVER_NAME, 'ed25519:1', SPEC_KEY.publicKey));
});

test('signJson returns a new object and leaves its input untouched', () => {
  const input = { a: 1, signatures: { x: { 'ed25519:1': 'old' } } };
  const snapshot = structuredClone(input);
  const signed = signJson(input, SERVER_NAME, SPEC_KEY);
  assert.deepEqual(input, snapshot);
  assert.notEqual(signed, input);
  assert.notEqual(signed.signatures.x, input.signatures.x);
});

test('re-signing with the same server and key id replaces that signature only', () => {
  const key = generateSigningKey();
  const once = signJson({ a: 1 }, SERVER_NAME, key);
  const withOld: { a: number; signatures: Signatures } = { ...once, signatures: { [SERVER_NAME]: { ...once.signatures[SERVER_NAME], 'ed25519:old': 'x' } } };
  const twice = signJson(withOld, SERVER_NAME, key);
  assert.deepEqual(Object.keys(twice.signatures[SERVER_NAME]).sort(), ['ed25519:old', key.keyId].sort());
  assert.equal(twice.signatures[SERVER_NAME][key.keyId], once.signatures[SERVER_NAME][key.keyId]);
});

test('verifyJsonSignature fails for a changed field, a missing server or key id, bad base64, another key', () => {
  const signed = signJson({ one: 1, two: 'Two' }, SERVER_NAME, SPEC_KEY);
  const pub = SPEC_KEY.publicKey;
  assert.ok(verifyJsonSignature(signed, SERVER_NAME, 'ed25519:1', pub));
  assert.ok(!verifyJsonSignature({ ...signed, two: 'Three' }, SERVER_NAME, 'ed25519:1', pub));
  assert.ok(!verifyJsonSignature({ ...signed, three: 3 }, SERVER_NAME, 'ed25519:1', pub));
  assert.ok(!verifyJsonSignature(signed, 'other', 'ed25519:1', pub));
  assert.ok(!verifyJsonSignature(signed, SERVER_NAME, 'ed25519:2', pub));
  assert.ok(!verifyJsonSignature({ one: 1, two: 'Two' }, SERVER_NAME, 'ed25519:1', pub));
  assert.ok(!verifyJsonSignature({ ...signed, signatures: { domain: { 'ed25519:1': '!!' } } }, SERVER_NAME, 'ed25519:1', pub));
  assert.ok(!verifyJsonSignature({ ...signed, signatures: { domain: 'x' } }, SERVER_NAME, 'ed25519:1', pub));
  assert.ok(!verifyJsonSignature(signed, SERVER_NAME, 'ed25519:1', generateSigningKey().publicKey));
});

test('verifyJsonSignature is false, not an exception, for JSON canonical JSON cannot encode', () => {
  const signed = signJson({ one: 1 }, SERVER_NAME, SPEC_KEY);
  assert.equal(verifyJsonSignature({ ...signed, one: 1.5 }, SERVER_NAME, 'ed25519:1', SPEC_KEY.publicKey), false);
});

test('signJson refuses to sign what canonical JSON cannot encode', () => {
  assert.throws(() => signJson({ x: 0.5 }, SERVER_NAME, SPEC_KEY), TypeError);
});
