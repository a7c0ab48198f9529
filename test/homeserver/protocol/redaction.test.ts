import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactEvent } from '../../../homeserver/protocol/redaction.ts';
import { getRoomVersion, SUPPORTED_ROOM_VERSIONS } from '../../../homeserver/protocol/room-versions.ts';
import type { RoomVersion } from '../../../homeserver/protocol/room-versions.ts';
import type { JsonObject, PDU } from '../../../homeserver/protocol/types.ts';

function version(id: string): RoomVersion {
  const v = getRoomVersion(id);
  assert.ok(v, `room version ${id}`);
  return v;
}

const BASE = {
  room_id: '!r:example.org',
  sender: '@alice:example.org',
  origin_server_ts: 1700000000000,
  depth: 5,
  prev_events: ['$prev'],
  auth_events: ['$auth'],
  hashes: { sha256: 'aGFzaA' },
  signatures: { 'example.org': { 'ed25519:k': 'c2ln' } },
};
const REDACTED_BASE = BASE; // every key of BASE is protected in all versions

function pdu(type: string, content: JsonObject, extra: Record<string, unknown> = {}): PDU {
  return { ...BASE, type, content, ...extra } as PDU;
}

interface Case {
  rule: string;
  event: PDU;
  /** Expected redacted event for each room version id. */
  expected: Record<string, unknown>;
}

/** The same expectation for each listed version id. */
function forVersions(ids: string[], value: unknown): Record<string, unknown> {
  return Object.fromEntries(ids.map((id) => [id, value]));
}
const V6_TO_7 = ['6', '7'];
const V6_TO_8 = ['6', '7', '8'];
const V6_TO_10 = ['6', '7', '8', '9', '10'];
const V8_TO_12 = ['8', '9', '10', '11', '12'];
const V9_TO_10 = ['9', '10'];
const V11_TO_12 = ['11', '12'];
const ALL = [...SUPPORTED_ROOM_VERSIONS];

const CASES: Case[] = [
  {
    rule: 'top level: v6-v10 keep origin, membership, prev_state; v11+ drop them (v11.md); unsigned, redacts and unknown keys go in all',
    event: pdu(
      'm.room.message',
      { body: 'hi' },
      {
        event_id: '$e',
        origin: 'example.org',
        membership: 'join',
        prev_state: [],
        unsigned: { age: 1 },
        redacts: '$x',
        custom: 'x',
      },
    ),
    expected: {
      ...forVersions(V6_TO_10, {
        ...REDACTED_BASE,
        type: 'm.room.message',
        content: {},
        event_id: '$e',
        origin: 'example.org',
        membership: 'join',
        prev_state: [],
      }),
      ...forVersions(V11_TO_12, { ...REDACTED_BASE, type: 'm.room.message', content: {}, event_id: '$e' }),
    },
  },
  {
    rule: 'state_key is kept (even empty); content of an unlisted state type is emptied',
    event: pdu('m.room.topic', { topic: 'secret' }, { state_key: '' }),
    expected: forVersions(ALL, { ...REDACTED_BASE, type: 'm.room.topic', state_key: '', content: {} }),
  },
  {
    rule: 'm.room.member keeps membership; join_authorised_via_users_server from v9 (v9-redactions); third_party_invite.signed only from v11',
    event: pdu(
      'm.room.member',
      {
        membership: 'invite',
        displayname: 'Bob',
        avatar_url: 'mxc://x/y',
        join_authorised_via_users_server: '@carol:example.org',
        third_party_invite: { display_name: 'b***@e***', signed: { mxid: '@bob:example.org', token: 't', signatures: {} } },
      },
      { state_key: '@bob:example.org' },
    ),
    expected: {
      ...forVersions(V6_TO_8, { ...REDACTED_BASE, type: 'm.room.member', state_key: '@bob:example.org', content: { membership: 'invite' } }),
      ...forVersions(V9_TO_10, {
        ...REDACTED_BASE,
        type: 'm.room.member',
        state_key: '@bob:example.org',
        content: { membership: 'invite', join_authorised_via_users_server: '@carol:example.org' },
      }),
      ...forVersions(V11_TO_12, {
        ...REDACTED_BASE,
        type: 'm.room.member',
        state_key: '@bob:example.org',
        content: {
          membership: 'invite',
          join_authorised_via_users_server: '@carol:example.org',
          third_party_invite: { signed: { mxid: '@bob:example.org', token: 't', signatures: {} } },
        },
      }),
    },
  },
  {
    rule: 'm.room.member in v11+: a third_party_invite without signed is dropped entirely',
    event: pdu('m.room.member', { membership: 'invite', third_party_invite: { display_name: 'x' } }, { state_key: '@bob:example.org' }),
    expected: forVersions(ALL, { ...REDACTED_BASE, type: 'm.room.member', state_key: '@bob:example.org', content: { membership: 'invite' } }),
  },
  {
    rule: 'm.room.create keeps only creator in v6-v10; all of content in v11+ ("allows all keys")',
    event: pdu(
      'm.room.create',
      {
        creator: '@alice:example.org',
        room_version: '9',
        'm.federate': false,
        predecessor: { room_id: '!old:example.org' },
        additional_creators: ['@bob:example.org'],
      },
      { state_key: '' },
    ),
    expected: {
      ...forVersions(V6_TO_10, { ...REDACTED_BASE, type: 'm.room.create', state_key: '', content: { creator: '@alice:example.org' } }),
      ...forVersions(V11_TO_12, {
        ...REDACTED_BASE,
        type: 'm.room.create',
        state_key: '',
        content: {
          creator: '@alice:example.org',
          room_version: '9',
          'm.federate': false,
          predecessor: { room_id: '!old:example.org' },
          additional_creators: ['@bob:example.org'],
        },
      }),
    },
  },
  {
    rule: 'm.room.join_rules keeps join_rule; allow from v8 (v8.md Redactions)',
    event: pdu(
      'm.room.join_rules',
      {
        join_rule: 'restricted',
        allow: [{ type: 'm.room_membership', room_id: '!space:example.org' }],
        other: 1,
      },
      { state_key: '' },
    ),
    expected: {
      ...forVersions(V6_TO_7, { ...REDACTED_BASE, type: 'm.room.join_rules', state_key: '', content: { join_rule: 'restricted' } }),
      ...forVersions(V8_TO_12, {
        ...REDACTED_BASE,
        type: 'm.room.join_rules',
        state_key: '',
        content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!space:example.org' }] },
      }),
    },
  },
  {
    rule: 'm.room.power_levels keeps the listed keys; invite only from v11; notifications never',
    event: pdu(
      'm.room.power_levels',
      {
        ban: 50,
        events: { 'm.room.name': 50 },
        events_default: 0,
        invite: 0,
        kick: 50,
        redact: 50,
        state_default: 50,
        users: { '@alice:example.org': 100 },
        users_default: 0,
        notifications: { room: 50 },
      },
      { state_key: '' },
    ),
    expected: {
      ...forVersions(V6_TO_10, {
        ...REDACTED_BASE,
        type: 'm.room.power_levels',
        state_key: '',
        content: {
          ban: 50,
          events: { 'm.room.name': 50 },
          events_default: 0,
          kick: 50,
          redact: 50,
          state_default: 50,
          users: { '@alice:example.org': 100 },
          users_default: 0,
        },
      }),
      ...forVersions(V11_TO_12, {
        ...REDACTED_BASE,
        type: 'm.room.power_levels',
        state_key: '',
        content: {
          ban: 50,
          events: { 'm.room.name': 50 },
          events_default: 0,
          invite: 0,
          kick: 50,
          redact: 50,
          state_default: 50,
          users: { '@alice:example.org': 100 },
          users_default: 0,
        },
      }),
    },
  },
  {
    rule: 'm.room.history_visibility keeps history_visibility in all versions',
    event: pdu('m.room.history_visibility', { history_visibility: 'joined', extra: true }, { state_key: '' }),
    expected: forVersions(ALL, {
      ...REDACTED_BASE,
      type: 'm.room.history_visibility',
      state_key: '',
      content: { history_visibility: 'joined' },
    }),
  },
  {
    rule: 'm.room.redaction keeps content.redacts only from v11; the top-level redacts is never protected',
    event: pdu('m.room.redaction', { redacts: '$target', reason: 'spam' }, { redacts: '$target' }),
    expected: {
      ...forVersions(V6_TO_10, { ...REDACTED_BASE, type: 'm.room.redaction', content: {} }),
      ...forVersions(V11_TO_12, { ...REDACTED_BASE, type: 'm.room.redaction', content: { redacts: '$target' } }),
    },
  },
  {
    rule: 'm.room.aliases has no protected content from v6 on (v6.md Redactions)',
    event: pdu('m.room.aliases', { aliases: ['#a:example.org'] }, { state_key: 'example.org' }),
    expected: forVersions(ALL, { ...REDACTED_BASE, type: 'm.room.aliases', state_key: 'example.org', content: {} }),
  },
  {
    rule: 'a v12 create event without room_id stays without room_id',
    event: (() => {
      const { room_id: _r, ...rest } = pdu('m.room.create', { room_version: '12' }, { state_key: '' });
      return rest as PDU;
    })(),
    expected: forVersions(
      ['12'],
      (() => {
        const { room_id: _r, ...rest } = REDACTED_BASE;
        return { ...rest, type: 'm.room.create', state_key: '', content: { room_version: '12' } };
      })(),
    ),
  },
];

for (const c of CASES) {
  for (const [id, expected] of Object.entries(c.expected)) {
    test(`v${id}: ${c.rule}`, () => {
      assert.deepEqual(redactEvent(c.event, version(id)), expected);
    });
  }
}

test('every case covers every version it claims to, and every supported version is exercised', () => {
  const covered = new Set(CASES.flatMap((c) => Object.keys(c.expected)));
  assert.deepEqual([...covered].sort(), [...SUPPORTED_ROOM_VERSIONS].sort());
});

test('redaction returns a deep copy: the input is untouched and the output shares no objects with it', () => {
  const event = pdu('m.room.power_levels', { users: { '@a:b': 100 }, extra: 1 }, { state_key: '', unsigned: { age: 1 } });
  const snapshot = structuredClone(event);
  const redacted = redactEvent(event, version('12'));
  assert.deepEqual(event, snapshot);
  (redacted.content.users as JsonObject)['@evil:b'] = 100;
  (redacted.signatures as Record<string, unknown>).x = {};
  redacted.prev_events.push('$x');
  assert.deepEqual(event, snapshot);
});

test('redacting an already redacted event changes nothing, in every version', () => {
  for (const id of SUPPORTED_ROOM_VERSIONS) {
    for (const c of CASES) {
      const once = redactEvent(c.event, version(id));
      assert.deepEqual(redactEvent(once, version(id)), once, `v${id}: ${c.rule}`);
    }
  }
});
