import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeContentHash,
  computeEventId,
  computeReferenceHash,
  computeRoomIdFromCreateEvent,
  hashAndSignEvent,
  hashSignAndIdentify,
  verifyContentHash,
  verifyEventSignature,
} from '../../../homeserver/protocol/event-hashing.ts';
import type { DraftPDU } from '../../../homeserver/protocol/event-hashing.ts';
import { redactEvent } from '../../../homeserver/protocol/redaction.ts';
import { signJson } from '../../../homeserver/protocol/signing.ts';
import { getRoomVersion, SUPPORTED_ROOM_VERSIONS } from '../../../homeserver/protocol/room-versions.ts';
import type { RoomVersion } from '../../../homeserver/protocol/room-versions.ts';
import { generateSigningKey, signingKeyFromSeed } from '../../../homeserver/protocol/signing-key.ts';
import { decodeBase64, encodeUnpaddedBase64Url } from '../../../homeserver/protocol/base64.ts';
import type { PDU } from '../../../homeserver/protocol/types.ts';

function version(id: string): RoomVersion {
  const v = getRoomVersion(id);
  assert.ok(v, `room version ${id}`);
  return v;
}

// appendices.md "Cryptographic Test Vectors".
const SPEC_KEY = signingKeyFromSeed('ed25519:1', decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'));
// The vectors keep top-level `origin` in the signed (redacted) form, which the v6-v10 redaction
// rules protect and the v11 rules do not: they hold for room versions 6 to 10.
const PRE_V11 = ['6', '7', '8', '9', '10'];
const V11_ON = ['11', '12'];

// "Event Signing": the minimally-sized event, and the signed event the appendix gives for it.
const MINIMAL_EVENT = {
  room_id: '!x:domain',
  sender: '@a:domain',
  origin: 'domain',
  origin_server_ts: 1000000,
  signatures: {},
  hashes: {},
  type: 'X',
  content: {},
  prev_events: [],
  auth_events: [],
  depth: 3,
  unsigned: { age_ts: 1000000 },
} as unknown as DraftPDU;
const MINIMAL_SIGNED = {
  auth_events: [],
  content: {},
  depth: 3,
  hashes: { sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' },
  origin: 'domain',
  origin_server_ts: 1000000,
  prev_events: [],
  room_id: '!x:domain',
  sender: '@a:domain',
  signatures: {
    domain: {
      'ed25519:1': 'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg',
    },
  },
  type: 'X',
  unsigned: { age_ts: 1000000 },
} as unknown as PDU;

// "Event Signing": the event containing redactable content, and its signed form.
const MESSAGE_EVENT = {
  content: { body: 'Here is the message content' },
  event_id: '$0:domain',
  origin: 'domain',
  origin_server_ts: 1000000,
  type: 'm.room.message',
  room_id: '!r:domain',
  sender: '@u:domain',
  signatures: {},
  unsigned: { age_ts: 1000000 },
} as unknown as DraftPDU;
const MESSAGE_SIGNED = {
  content: { body: 'Here is the message content' },
  event_id: '$0:domain',
  hashes: { sha256: 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g' },
  origin: 'domain',
  origin_server_ts: 1000000,
  type: 'm.room.message',
  room_id: '!r:domain',
  sender: '@u:domain',
  signatures: {
    domain: {
      'ed25519:1': 'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA',
    },
  },
  unsigned: { age_ts: 1000000 },
} as unknown as PDU;

for (const id of PRE_V11) {
  test(`v${id}: Event Signing vector, minimal event, signs to the exact appendix output`, () => {
    assert.deepEqual(hashAndSignEvent(MINIMAL_EVENT, version(id), 'domain', SPEC_KEY), MINIMAL_SIGNED);
  });
  test(`v${id}: Event Signing vector, event with redactable content, signs to the exact appendix output`, () => {
    assert.deepEqual(hashAndSignEvent(MESSAGE_EVENT, version(id), 'domain', SPEC_KEY), MESSAGE_SIGNED);
  });
  test(`v${id}: the appendix-signed events verify (signature and content hash)`, () => {
    for (const signed of [MINIMAL_SIGNED, MESSAGE_SIGNED]) {
      assert.ok(verifyEventSignature(signed, version(id), 'domain', 'ed25519:1', SPEC_KEY.publicKey));
      assert.ok(verifyContentHash(signed));
    }
  });
}

for (const id of V11_ON) {
  test(`v${id}: same content hashes as the appendix, but origin is no longer signed, so the appendix signatures do not verify`, () => {
    const minimal = hashAndSignEvent(MINIMAL_EVENT, version(id), 'domain', SPEC_KEY);
    assert.deepEqual(minimal.hashes, MINIMAL_SIGNED.hashes);
    assert.notEqual(minimal.signatures.domain['ed25519:1'], MINIMAL_SIGNED.signatures.domain['ed25519:1']);
    assert.ok(verifyEventSignature(minimal, version(id), 'domain', 'ed25519:1', SPEC_KEY.publicKey));
    assert.ok(!verifyEventSignature(MINIMAL_SIGNED, version(id), 'domain', 'ed25519:1', SPEC_KEY.publicKey));
    // Under v11 rules `origin` is redacted away, so it is not covered: changing it keeps the signature valid.
    assert.ok(verifyEventSignature({ ...minimal, origin: 'elsewhere' }, version(id), 'domain', 'ed25519:1', SPEC_KEY.publicKey));
  });
}

test('computeContentHash gives the appendix hashes and ignores unsigned, signatures and hashes', () => {
  assert.equal(computeContentHash(MINIMAL_EVENT), '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos');
  assert.equal(computeContentHash(MESSAGE_SIGNED), 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g');
  assert.equal(
    computeContentHash({ ...MESSAGE_SIGNED, unsigned: { age: 9 }, signatures: {}, hashes: { sha256: 'x' } }),
    'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g',
  );
});

test('verifyContentHash: unsigned changes keep it valid; content changes, a missing or malformed hash break it', () => {
  assert.ok(verifyContentHash({ ...MESSAGE_SIGNED, unsigned: { age: 1 } }));
  assert.ok(!verifyContentHash({ ...MESSAGE_SIGNED, content: { body: 'edited' } }));
  assert.ok(!verifyContentHash({ ...MESSAGE_SIGNED, hashes: {} } as unknown as PDU));
  assert.ok(!verifyContentHash({ ...MESSAGE_SIGNED, hashes: { sha256: '!!' } }));
  assert.ok(!verifyContentHash({ ...MESSAGE_SIGNED, depth: 1.5 }));
});

test('a redacted copy keeps a valid signature but fails the content hash, as the receiving server expects', () => {
  for (const id of PRE_V11) {
    const redacted = redactEvent(MESSAGE_SIGNED, version(id));
    assert.deepEqual(redacted.content, {});
    assert.ok(verifyEventSignature(redacted, version(id), 'domain', 'ed25519:1', SPEC_KEY.publicKey));
    assert.ok(!verifyContentHash(redacted));
  }
});

test('verifyEventSignature fails for a changed protected field, another server, key id or key', () => {
  const v = version('10');
  const pub = SPEC_KEY.publicKey;
  assert.ok(!verifyEventSignature({ ...MINIMAL_SIGNED, depth: 4 }, v, 'domain', 'ed25519:1', pub));
  assert.ok(!verifyEventSignature({ ...MINIMAL_SIGNED, hashes: { sha256: 'AAAA' } }, v, 'domain', 'ed25519:1', pub));
  assert.ok(!verifyEventSignature(MINIMAL_SIGNED, v, 'other', 'ed25519:1', pub));
  assert.ok(!verifyEventSignature(MINIMAL_SIGNED, v, 'domain', 'ed25519:2', pub));
  assert.ok(!verifyEventSignature(MINIMAL_SIGNED, v, 'domain', 'ed25519:1', generateSigningKey().publicKey));
});

// A real m.room.create event from a version 5 room on jki.re, with the event id that
// gomatrixserverlib's eventversion_test.go (TestEventIDForRoomVersionV4) expects for it. Room
// versions 4..10 redact m.room.create alike (only `creator` kept), so its id is the same in 6..10.
const JKI_CREATE = JSON.parse(
  '{"auth_events": [], "prev_events": [], "type": "m.room.create", "room_id": "!uXDCzlYgCTHtiWCkEx:jki.re", "sender": "@erikj:jki.re", "content": {"room_version": "5", "predecessor": {"room_id": "!gdRMqOrTFdOCYHNwOo:half-shot.uk", "event_id": "$LP7ROBc4b+cMc1UE9haIz8q5AK2AIW4eJ90FfKLvyZI"}, "creator": "@erikj:jki.re"}, "depth": 1, "prev_state": [], "state_key": "", "origin": "jki.re", "origin_server_ts": 1560284621137, "hashes": {"sha256": "IX6zuNiJpJPNf70BLleL3HSCpjKeq9Uhu7uUpyDjBmc"}, "signatures": {"jki.re": {"ed25519:auto": "O4IyFfF2PPtGp5uaDm8t57dZbdh8vc8Q64LgCwvzYRVItAMI0uisfiAFaxkVT7MRpzh6N2QNN5NMRXZKmgPYDA"}}, "unsigned": {"age": 1321650}}',
) as PDU;

for (const id of PRE_V11) {
  test(`v${id}: a real create event from the network gets its known event id`, () => {
    assert.equal(computeEventId(JKI_CREATE, version(id)), '$RrGxF28UrHLmoASHndYb9Jb_1SFww2ptmtur9INS438');
  });
}

test('the real create event has a valid content hash, and under v11 rules (all create content kept) a different id', () => {
  assert.ok(verifyContentHash(JKI_CREATE));
  assert.notEqual(computeEventId(JKI_CREATE, version('11')), '$RrGxF28UrHLmoASHndYb9Jb_1SFww2ptmtur9INS438');
});

// --- What does and does not change an event id ---

const KEY = generateSigningKey();
function signedMessage(v: RoomVersion): PDU {
  return hashAndSignEvent(
    {
      room_id: '!r:example.org',
      sender: '@alice:example.org',
      type: 'm.room.message',
      content: { body: 'hello', msgtype: 'm.text' },
      origin_server_ts: 1700000000000,
      depth: 10,
      prev_events: ['$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      auth_events: ['$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'],
      origin: 'example.org',
      unsigned: { age: 5 },
    },
    v,
    'example.org',
    KEY,
  );
}

for (const id of SUPPORTED_ROOM_VERSIONS) {
  const v = version(id);
  test(`v${id}: event id is "$" + 43 URL-safe base64 characters of the reference hash`, () => {
    const event = signedMessage(v);
    const eventId = computeEventId(event, v);
    assert.match(eventId, /^\$[A-Za-z0-9_-]{43}$/);
    assert.equal(eventId, `$${encodeUnpaddedBase64Url(computeReferenceHash(event, v))}`);
  });

  test(`v${id}: unsigned data, extra signatures and the redacted copy all keep the event id`, () => {
    const event = signedMessage(v);
    const eventId = computeEventId(event, v);
    assert.equal(computeEventId({ ...event, unsigned: { age: 99999, redacted_because: {} } }, v), eventId);
    assert.equal(computeEventId({ ...event, signatures: { ...event.signatures, other: { 'ed25519:z': 'AA' } } }, v), eventId);
    // Content is outside the redacted form: the same event with its body stripped (a redacted
    // copy, hashes unchanged) has the same id, which is why a redaction cannot change an id.
    assert.equal(computeEventId(redactEvent(event, v), v), eventId);
    assert.equal(computeEventId({ ...event, content: { body: 'forged' } }, v), eventId);
  });

  test(`v${id}: protected fields and the content hash change the event id`, () => {
    const event = signedMessage(v);
    const eventId = computeEventId(event, v);
    const changed: Partial<PDU>[] = [
      { depth: 11 },
      { origin_server_ts: 1700000000001 },
      { prev_events: [] },
      { auth_events: [] },
      { sender: '@bob:example.org' },
      { room_id: '!other:example.org' },
      { type: 'm.room.notice' },
      { state_key: '' },
      { hashes: { sha256: computeContentHash({ ...event, content: { body: 'edited', msgtype: 'm.text' } }) } },
    ];
    for (const change of changed) {
      assert.notEqual(computeEventId({ ...event, ...change } as PDU, v), eventId, JSON.stringify(change));
    }
    // Re-signing an edited message gives a new content hash and so a new id.
    const edited = hashAndSignEvent({ ...event, content: { body: 'edited' } }, v, 'example.org', KEY);
    assert.notEqual(computeEventId(edited, v), eventId);
  });
}

test('top-level origin is part of the event id in v6-v10 and not in v11+', () => {
  for (const id of SUPPORTED_ROOM_VERSIONS) {
    const v = version(id);
    const event = signedMessage(v);
    const same = computeEventId({ ...event, origin: 'elsewhere.org' }, v) === computeEventId(event, v);
    assert.equal(same, v.updatedRedactionRules, `v${id}`);
  }
});

test('the same event has different ids under v10 and v11 rules only when it has v10-only protected keys', () => {
  const { origin: _o, ...withoutOrigin } = signedMessage(version('10'));
  assert.equal(computeEventId(withoutOrigin as PDU, version('10')), computeEventId(withoutOrigin as PDU, version('11')));
  const withOrigin = signedMessage(version('10'));
  assert.notEqual(computeEventId(withOrigin, version('10')), computeEventId(withOrigin, version('11')));
});

// --- v12 room ids ---

function v12Create(): PDU {
  return hashAndSignEvent(
    {
      sender: '@alice:example.org',
      type: 'm.room.create',
      state_key: '',
      content: { room_version: '12', additional_creators: ['@bob:example.org'] },
      origin_server_ts: 1700000000000,
      depth: 1,
      prev_events: [],
      auth_events: [],
    },
    version('12'),
    'example.org',
    KEY,
  );
}

test('v12: the room id is the create event id with "!" instead of "$"', () => {
  const create = v12Create();
  const roomId = computeRoomIdFromCreateEvent(create, version('12'));
  assert.match(roomId, /^![A-Za-z0-9_-]{43}$/);
  assert.equal(roomId, `!${computeEventId(create, version('12')).slice(1)}`);
});

test('v12: the room id ignores unsigned and signatures but covers all create content (kept by v11+ redaction)', () => {
  const create = v12Create();
  const roomId = computeRoomIdFromCreateEvent(create, version('12'));
  assert.equal(computeRoomIdFromCreateEvent({ ...create, unsigned: { age: 1 }, signatures: {} }, version('12')), roomId);
  assert.notEqual(computeRoomIdFromCreateEvent({ ...create, content: { ...create.content, additional_creators: [] } }, version('12')), roomId);
});

test('computeRoomIdFromCreateEvent refuses versions before 12 and events other than the create event', () => {
  assert.throws(() => computeRoomIdFromCreateEvent(v12Create(), version('11')));
  assert.throws(() => computeRoomIdFromCreateEvent({ ...v12Create(), type: 'm.room.name' }, version('12')));
  assert.throws(() => computeRoomIdFromCreateEvent({ ...v12Create(), state_key: 'x' }, version('12')));
});

test('hashAndSignEvent returns a new event, keeps existing signatures and replaces any stale hash', () => {
  const draft = {
    ...(MINIMAL_EVENT as object),
    hashes: { sha256: 'stale' },
    signatures: { other: { 'ed25519:o': 'sig' } },
  } as unknown as DraftPDU;
  const snapshot = structuredClone(draft);
  const signed = hashAndSignEvent(draft, version('10'), 'domain', SPEC_KEY);
  assert.deepEqual(draft, snapshot);
  assert.equal(signed.hashes.sha256, '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos');
  assert.deepEqual(signed.signatures, { other: { 'ed25519:o': 'sig' }, domain: MINIMAL_SIGNED.signatures.domain });
});

// --- hashSignAndIdentify: the id comes from the signed bytes ---

for (const id of SUPPORTED_ROOM_VERSIONS) {
  test(`v${id}: hashSignAndIdentify signs as hashAndSignEvent does and names the event as computeEventId does`, () => {
    const drafts = [
      {
        room_id: '!r:example.org',
        sender: '@alice:example.org',
        type: 'm.room.message',
        content: { body: 'héllo 🎉', msgtype: 'm.text' },
        origin_server_ts: 1700000000000,
        depth: 3,
        prev_events: ['$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
        auth_events: [],
      },
      {
        room_id: '!r:example.org',
        sender: '@alice:example.org',
        type: 'm.room.member',
        state_key: '@alice:example.org',
        content: { membership: 'join', displayname: 'Alice' },
        origin_server_ts: 1700000000001,
        depth: 4,
        prev_events: [],
        auth_events: ['$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'],
        unsigned: { age: 1 },
      },
    ] as unknown as DraftPDU[];
    for (const draft of drafts) {
      const { pdu, eventId } = hashSignAndIdentify(draft, version(id), 'example.org', KEY);
      // The signature as the appendix describes it: over the redacted, hashed event.
      const hashed = { ...draft, hashes: { sha256: computeContentHash(draft) }, signatures: {} };
      const signedRedacted = signJson(redactEvent(hashed as unknown as PDU, version(id)), 'example.org', KEY);
      assert.deepEqual(pdu, { ...hashed, signatures: signedRedacted.signatures });
      assert.equal(eventId, computeEventId(pdu, version(id)));
      assert.ok(verifyEventSignature(pdu, version(id), 'example.org', KEY.keyId, KEY.publicKey));
    }
  });
}
