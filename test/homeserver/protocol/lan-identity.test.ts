import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  announcementTxt,
  certFingerprint,
  isLanServerName,
  lanServerName,
  nameMatchesKey,
  parseAnnouncementTxt,
  type LanAnnouncement,
} from '../../../homeserver/protocol/lan-identity.ts';
import { decodeBase64, encodeUnpaddedBase64 } from '../../../homeserver/protocol/base64.ts';
import { generateSigningKey, signingKeyFromSeed } from '../../../homeserver/protocol/signing-key.ts';

// appendices.md "Cryptographic Test Vectors": the spec's seed and its public key.
const SPEC_KEY = signingKeyFromSeed('ed25519:1', decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'));

test('the LAN name is RFC 4648 base32 (lower case) of SHA-256 of the public key, 26 characters, under .local', () => {
  const digest = createHash('sha256').update(SPEC_KEY.publicKey).digest();
  // An independent base32: bits as a string of 0/1, five at a time.
  const bits = [...digest].map((b) => b.toString(2).padStart(8, '0')).join('');
  const expected = Array.from({ length: 26 }, (_, i) => 'abcdefghijklmnopqrstuvwxyz234567'[parseInt(bits.slice(i * 5, i * 5 + 5), 2)]).join('');
  const name = lanServerName(SPEC_KEY.publicKey);
  assert.equal(name, `${expected}.local`);
  assert.ok(isLanServerName(name));
  assert.ok(isLanServerName(name.toUpperCase()), 'server names compare case-insensitively');
  assert.ok(nameMatchesKey(name, SPEC_KEY.publicKey));
  assert.ok(nameMatchesKey(name, encodeUnpaddedBase64(SPEC_KEY.publicKey)));
  assert.ok(!nameMatchesKey(name, generateSigningKey().publicKey));
  assert.ok(!nameMatchesKey(name, 'not base64!'));
  for (const other of ['example.org', `${expected}.local:8448`, `${expected.slice(1)}.local`, `${expected}1.local`, `${expected}.lan`]) {
    assert.ok(!isLanServerName(other), other);
  }
});

function announcement(key = SPEC_KEY, over: Partial<LanAnnouncement> = {}): LanAnnouncement {
  return {
    serverName: lanServerName(key.publicKey),
    port: 8448,
    keyId: key.keyId,
    publicKey: encodeUnpaddedBase64(key.publicKey),
    tlsFingerprint: certFingerprint(Buffer.from('a certificate')),
    version: '0.1.0',
    users: ['alice'],
    ...over,
  };
}

test('a signed announcement reads back as written', () => {
  const a = announcement(SPEC_KEY, { label: 'Alice Liddell' });
  const parsed = parseAnnouncementTxt(announcementTxt(a, SPEC_KEY), 8448);
  assert.deepEqual(parsed, { ok: true, announcement: a });
  // Values as Buffers (an mDNS library's binary mode) read the same.
  const asBuffers = Object.fromEntries(Object.entries(announcementTxt(a, SPEC_KEY)).map(([k, v]) => [k, Buffer.from(v)]));
  assert.deepEqual(parseAnnouncementTxt(asBuffers, 8448), { ok: true, announcement: a });
});

test('an announcement is refused when the name is not bound to its key, a field was changed, or the SRV port differs', () => {
  const mine = generateSigningKey();
  // An impostor: another desktop's name with its own key, correctly signed by that key.
  const impostor = announcementTxt(announcement(mine, { serverName: lanServerName(SPEC_KEY.publicKey) }), mine);
  assert.match(reason(parseAnnouncementTxt(impostor, 8448)), /not the key/);
  // The victim's name and key, signed by someone else.
  const forged = announcementTxt(announcement(SPEC_KEY), mine);
  assert.match(reason(parseAnnouncementTxt(forged, 8448)), /bad signature/);
  // A genuine announcement pointed at another certificate, another port, other users.
  const genuine = announcementTxt(announcement(SPEC_KEY), SPEC_KEY);
  for (const [k, v] of [
    ['tls', certFingerprint(Buffer.from('another'))],
    ['port', '8449'],
    ['u', 'mallory'],
    ['label', 'Bank'],
  ]) {
    assert.match(reason(parseAnnouncementTxt({ ...genuine, [k]: v }, k === 'port' ? 8449 : 8448)), /bad signature/, k);
  }
  assert.match(reason(parseAnnouncementTxt(genuine, 9000)), /SRV/);
});

test('malformed TXT records are refused with a reason, never a throw', () => {
  const genuine = announcementTxt(announcement(), SPEC_KEY);
  const cases: unknown[] = [
    null,
    'txt',
    [],
    {},
    { ...genuine, v: '2' },
    { ...genuine, sn: 'example.org' },
    { ...genuine, port: '0' },
    { ...genuine, port: '08448' },
    { ...genuine, kid: 'rsa:1' },
    { ...genuine, tls: 'short' },
    { ...genuine, pk: '!!!' },
    { ...genuine, sig: '' },
    { ...genuine, u: 'a,B' },
    { ...genuine, u: 'x'.repeat(201) },
    { ...genuine, label: 'é'.repeat(61) },
    { ...genuine, ver: true },
  ];
  for (const c of cases) assert.equal(parseAnnouncementTxt(c, 8448).ok, false, JSON.stringify(c));
});

test('a TXT key __proto__ is a key like any other: with a string value it is part of what is signed', () => {
  const genuine = announcementTxt(announcement(), SPEC_KEY);
  // As a decoder that builds objects with own properties would hand it over.
  const stringProto = JSON.parse(JSON.stringify(genuine).replace('{', '{"__proto__":"x",')) as object;
  assert.ok(Object.hasOwn(stringProto, '__proto__'));
  assert.match(reason(parseAnnouncementTxt(stringProto, 8448)), /bad signature/, 'an extra key the signer did not sign');
  // A value that is not a string is skipped, as any other such value.
  const objectProto = JSON.parse(JSON.stringify(genuine).replace('{', '{"__proto__":{"v":"2"},')) as object;
  assert.equal(parseAnnouncementTxt(objectProto, 8448).ok, true);
  assert.equal(({} as Record<string, unknown>).v, undefined, 'no prototype was touched');
});

function reason(p: ReturnType<typeof parseAnnouncementTxt>): string {
  assert.equal(p.ok, false);
  return p.ok ? '' : p.reason;
}
