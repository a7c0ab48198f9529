import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  findPduSizeViolation,
  isCompliantUserId,
  isValidEventId,
  isValidLocalpart,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  MAX_PDU_BYTES,
  parseUserId,
} from '../../../homeserver/protocol/identifiers.ts';
import { getRoomVersion } from '../../../homeserver/protocol/room-versions.ts';
import type { RoomVersion } from '../../../homeserver/protocol/room-versions.ts';
import type { PDU } from '../../../homeserver/protocol/types.ts';

test('server names: every valid example listed in appendices.md "Server Name"', () => {
  for (const s of ['matrix.org', 'matrix.org:8888', '1.2.3.4', '1.2.3.4:1234', '[1234:5678::abcd]', '[1234:5678::abcd]:5678']) {
    assert.ok(isValidServerName(s), s);
  }
});

test('server names: other valid forms (uppercase, hyphens, localhost, full IPv6, IPv4-mapped IPv6)', () => {
  for (const s of ['MATRIX.ORG', 'my-server.example', 'localhost', 'localhost:1', '[::1]', '[::ffff:1.2.3.4]:8448', '0.0.0.0', '255.255.255.255']) {
    assert.ok(isValidServerName(s), s);
  }
});

test('server names: invalid ones are rejected', () => {
  const bad = [
    '',
    ':8448',
    'matrix.org:',
    'matrix.org:123456',
    'matrix.org:80a',
    'matrix.org:-1',
    'under_score.org',
    'spa ce.org',
    'ünïcode.org',
    '[1234:5678::abcd',
    '1234:5678::abcd',
    '[not:ipv6:zz]',
    '[::1%eth0]',
    '[1:2:3:4:5:6:7:8:9]',
    '[]',
    '256.1.1.1',
    '1.2.3.999',
    'a'.repeat(256),
    'matrix.org:8448:1',
    '@matrix.org',
  ];
  for (const s of bad) assert.ok(!isValidServerName(s), s);
});

test('localparts for new users: a-z 0-9 . _ = - / + only, non-empty ("User Identifiers", v1.8)', () => {
  for (const s of ['alice', 'a.b_c=d-e/f+g', '0', 'x+tag']) assert.ok(isValidLocalpart(s), s);
  for (const s of ['', 'Alice', 'al ice', 'al:ice', 'émile', 'a*b', 'a#b', 'a@b']) assert.ok(!isValidLocalpart(s), s);
});

test('user ids: historical localparts (any code point but ":" and NUL, even empty) are accepted', () => {
  for (const s of ['@alice:example.org', '@Alice:example.org', '@:example.org', '@émile:example.org', '@a b!\u0001:example.org', '@😀:[::1]:8448']) {
    assert.ok(isValidUserId(s), s);
  }
  assert.ok(!isCompliantUserId('@Alice:example.org'));
  assert.ok(isCompliantUserId('@alice+x:example.org'));
});

test('user ids: malformed ones are rejected', () => {
  for (const s of ['alice:example.org', '@alice', '@alice:', '@al\u0000ice:example.org', '@alice:exa mple.org', '#alice:example.org', '@\ud800:example.org']) {
    assert.ok(!isValidUserId(s), JSON.stringify(s));
  }
});

test('user ids: the 255-byte limit counts UTF-8 bytes, sigil and domain included', () => {
  const domain = ':example.org';
  const fits = `@${'a'.repeat(255 - 1 - domain.length)}${domain}`;
  assert.equal(fits.length, 255);
  assert.ok(isValidUserId(fits));
  assert.ok(!isValidUserId(`@a${fits.slice(1)}`));
  // 'é' is two bytes in UTF-8: with 122 of them the id is 257 bytes but only 135 characters.
  assert.ok(!isValidUserId(`@${'é'.repeat(122)}${domain}`));
});

test('parseUserId splits at the first colon; the server name may carry a port', () => {
  assert.deepEqual(parseUserId('@alice:example.org:8448'), { localpart: 'alice', serverName: 'example.org:8448' });
  assert.deepEqual(parseUserId('@:[::1]'), { localpart: '', serverName: '[::1]' });
  assert.equal(parseUserId('@alice'), null);
});

test('room aliases: "#localpart:domain", localpart anything but ":" and NUL, at most 255 bytes', () => {
  for (const s of ['#room:example.org', '#Room Name ü:example.org:8448']) assert.ok(isValidRoomAlias(s), s);
  for (const s of ['room:example.org', '#room', '#ro\u0000om:example.org', '#room:bad_host', `#${'a'.repeat(250)}:example.org`]) {
    assert.ok(!isValidRoomAlias(s), s);
  }
});

const V11 = getRoomVersion('11') as RoomVersion;
const V12 = getRoomVersion('12') as RoomVersion;
const HASH_ROOM_ID = '!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ'; // pdu_v12 example in the spec

test('room ids: the domain form before v12, the hash form in v12, either without a version', () => {
  assert.ok(isValidRoomId('!abc:example.org', V11));
  assert.ok(!isValidRoomId('!abc:example.org', V12));
  assert.ok(isValidRoomId(HASH_ROOM_ID, V12));
  assert.ok(!isValidRoomId(HASH_ROOM_ID, V11));
  assert.ok(isValidRoomId('!abc:example.org'));
  assert.ok(isValidRoomId(HASH_ROOM_ID));
});

test('room ids: malformed ones are rejected', () => {
  for (const s of [
    'abc:example.org',
    '!abc',
    '$abc:example.org',
    '!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpY',
    '!Nhcu5BS+UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ',
  ]) {
    assert.ok(!isValidRoomId(s), s);
  }
});

test('event ids: "$" + 43 URL-safe base64 characters (v4-event-ids.md)', () => {
  assert.ok(isValidEventId('$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg')); // the spec's own example
  for (const s of [
    'Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg',
    '$Rqnc+F/dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg',
    '$short',
    '$0:domain',
    '$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg=',
  ]) {
    assert.ok(!isValidEventId(s), s);
  }
});

function event(extra: Partial<PDU> = {}): PDU {
  return {
    room_id: '!r:example.org',
    sender: '@a:example.org',
    type: 'm.room.message',
    content: {},
    origin_server_ts: 1,
    depth: 1,
    prev_events: [],
    auth_events: [],
    hashes: { sha256: 'x' },
    signatures: {},
    ...extra,
  };
}

test('size limits: a normal event passes; each field over 255 bytes is named', () => {
  assert.equal(findPduSizeViolation(event()), null);
  const long = 'x'.repeat(256);
  assert.equal(findPduSizeViolation(event({ sender: `@${long}:e.org` })), 'sender exceeds 255 bytes');
  assert.equal(findPduSizeViolation(event({ room_id: `!${long}` })), 'room_id exceeds 255 bytes');
  assert.equal(findPduSizeViolation(event({ state_key: long })), 'state_key exceeds 255 bytes');
  assert.equal(findPduSizeViolation(event({ type: long })), 'type exceeds 255 bytes');
  assert.equal(findPduSizeViolation(event({ event_id: `$${long}` })), 'event_id exceeds 255 bytes');
  assert.equal(findPduSizeViolation(event({ state_key: 'x'.repeat(255) })), null);
  assert.equal(findPduSizeViolation(event({ state_key: 'é'.repeat(128) })), 'state_key exceeds 255 bytes');
});

test('size limits: the whole event as canonical JSON may be 65536 bytes but not one more', () => {
  const base = Buffer.byteLength(JSON.stringify({ ...event(), content: { body: '' } }));
  const fits = event({ content: { body: 'a'.repeat(MAX_PDU_BYTES - base) } });
  assert.equal(findPduSizeViolation(fits), null);
  const over = event({ content: { body: 'a'.repeat(MAX_PDU_BYTES - base + 1) } });
  assert.equal(findPduSizeViolation(over), 'event exceeds 65536 bytes');
  assert.equal(findPduSizeViolation(event({ content: { n: 0.5 } })), 'event is not canonical JSON');
});
