// X-Matrix Authorization headers (server-server-api.md "Request Authentication").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXMatrix, requestJson, signRequest } from '../../../homeserver/federation/request-auth.ts';
import { generateSigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { verifyJsonSignature } from '../../../homeserver/protocol/signing.ts';

test("signRequest writes the spec's compatible form and its sig verifies over {method, uri, origin, destination, content}", () => {
  const key = generateSigningKey();
  const r = { method: 'POST', uri: '/_matrix/federation/v1/send/1?x=y', origin: 'o.org', destination: 'd.org', content: { a: 1 } };
  const header = signRequest(r, key);
  assert.match(header, /^X-Matrix origin="o\.org",destination="d\.org",key="ed25519:[A-Za-z0-9_]+",sig="[A-Za-z0-9+/]+"$/);
  const p = parseXMatrix(header)!;
  assert.ok(verifyJsonSignature({ ...requestJson(r), signatures: { 'o.org': { [p.key]: p.sig } } }, 'o.org', p.key, key.publicKey));
  assert.ok(!verifyJsonSignature({ ...requestJson({ ...r, content: { a: 2 } }), signatures: { 'o.org': { [p.key]: p.sig } } }, 'o.org', p.key, key.publicKey));
});

test('parseXMatrix: quoted and bare values, any case and order, spaces around commas, escapes, colons unquoted', () => {
  assert.deepEqual(parseXMatrix('X-Matrix origin=a.org:8448 , KEY="ed25519:k" ,\tsig="s\\"x",destination=b.org,extra=1'), {
    origin: 'a.org:8448',
    destination: 'b.org',
    key: 'ed25519:k',
    sig: 's"x',
  });
  assert.deepEqual(parseXMatrix('x-matrix  sig=abc,key=ed25519:k,origin="a.org"'), { origin: 'a.org', key: 'ed25519:k', sig: 'abc' });
  assert.equal(parseXMatrix('Bearer abc'), null);
  assert.equal(parseXMatrix('X-Matrix origin="a.org",key="ed25519:k"'), null, 'sig missing');
  assert.equal(parseXMatrix('X-Matrix origin="a.org,key=ed25519:k,sig=x'), null, 'unterminated quote');
});
