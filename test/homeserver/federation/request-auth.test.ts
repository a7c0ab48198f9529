// X-Matrix Authorization headers (server-server-api.md "Request Authentication").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXMatrix, requestJson, signRequest, xMatrixProblem } from '../../../homeserver/federation/request-auth.ts';
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

test('xMatrixProblem: a header that could never verify is refused before any key of its origin is looked up', () => {
  const key = generateSigningKey();
  const p = parseXMatrix(signRequest({ method: 'GET', uri: '/_matrix/federation/v1/version', origin: 'o.org', destination: 'us.org' }, key))!;
  assert.equal(xMatrixProblem(p, 'us.org'), undefined);
  assert.equal(xMatrixProblem({ ...p, destination: undefined } as typeof p, 'us.org'), undefined, 'destination may be absent (older servers)');
  assert.match(xMatrixProblem({ ...p, destination: 'other.org' }, 'us.org')!, /not this server/);
  assert.match(xMatrixProblem({ ...p, origin: 'bad name!' }, 'us.org')!, /origin/);
  assert.match(xMatrixProblem({ ...p, origin: '[::1' }, 'us.org')!, /origin/);
  assert.match(xMatrixProblem({ ...p, key: 'rsa:1' }, 'us.org')!, /key id/);
  assert.match(xMatrixProblem({ ...p, sig: 'not base64!' }, 'us.org')!, /base64/);
  assert.match(xMatrixProblem({ ...p, sig: 'AAAA' }, 'us.org')!, /ed25519 signature/);
});
