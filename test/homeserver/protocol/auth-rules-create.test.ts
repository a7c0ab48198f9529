// Auth rules 1 (m.room.create), v12 rule 2 (room id = create event id), 2 / v12 3 (the auth_events
// list) and 3 / v12 4 (m.federate). Rule numbers are the spec's, per room version (content/rooms/vN.md).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAuthEventsList, checkEventAuth } from '../../../homeserver/protocol/auth-rules.ts';
import type { AuthEventEntry } from '../../../homeserver/protocol/auth-rules.ts';
import { stateKey } from '../../../homeserver/protocol/types.ts';
import type { PDU } from '../../../homeserver/protocol/types.ts';
import { ALICE, BOB, Room, VERSIONS, assertAllowed, assertRejected, byVersion, standardRoom, versionsFrom } from './fixtures/room-state.ts';

function createEvent(room: Room, change: (pdu: PDU) => void = () => {}): PDU {
  const pdu = structuredClone(room.create);
  change(pdu);
  return pdu;
}

for (const v of VERSIONS) {
  test(`v${v} rule 1.1: an m.room.create with prev_events is rejected`, () => {
    const room = new Room(v);
    assertAllowed(() => room.check(createEvent(room)));
    assertRejected(() => room.check(createEvent(room, (e) => (e.prev_events = ['$earlier']))), '1.1');
  });

  test(`v${v} rule 1.3: an m.room.create naming an unknown room_version is rejected`, () => {
    const room = new Room(v);
    assertRejected(() => room.check(createEvent(room, (e) => (e.content.room_version = '99'))), '1.3');
    assertRejected(() => room.check(createEvent(room, (e) => (e.content.room_version = Number(v)))), '1.3');
    // Absent room_version is not this rule's business.
    assertAllowed(() => room.check(createEvent(room, (e) => delete e.content.room_version)));
    // An injected notion of "recognised" is honoured.
    assertRejected(() => room.check(createEvent(room), { isRecognisedRoomVersion: () => false }), '1.3');
  });

  test(`v${v} rule ${byVersion(v, { 6: '1.5', 11: '1.4', 12: '1.5' })}: a well-formed m.room.create is allowed`, () => {
    const room = new Room(v);
    assertAllowed(() => checkEventAuth(room.create, new Map(), room.version, {}));
  });
}

for (const v of versionsFrom(6).filter((v) => Number(v) <= 11)) {
  test(`v${v} rule 1.2: an m.room.create whose room_id domain is not the sender's is rejected`, () => {
    const room = new Room(v);
    assertRejected(() => room.check(createEvent(room, (e) => (e.room_id = '!room:elsewhere.example'))), '1.2');
    assertRejected(() => room.check(createEvent(room, (e) => (e.room_id = '!nodomain'))), '1.2');
  });
}

for (const v of ['6', '8', '10']) {
  test(`v${v} rule 1.4: an m.room.create without content.creator is rejected`, () => {
    const room = new Room(v);
    assertRejected(() => room.check(createEvent(room, (e) => delete e.content.creator)), '1.4');
  });
}

test('v11 rule 1.4: an m.room.create without content.creator is allowed (the creator is the sender)', () => {
  const room = new Room('11');
  assert.equal(room.create.content.creator, undefined);
  assertAllowed(() => room.check(room.create));
});

test('v12 rule 1.2: an m.room.create carrying a room_id is rejected', () => {
  const room = new Room('12');
  assertAllowed(() => room.check(room.create));
  assertRejected(() => room.check(createEvent(room, (e) => (e.room_id = '!room:a.example'))), '1.2');
});

test('v12 rule 1.4: additional_creators that is not an array of valid user ids is rejected', () => {
  const room = new Room('12');
  const withCreators = (value: unknown) => createEvent(room, (e) => (e.content.additional_creators = value as never));
  assertAllowed(() => room.check(withCreators([BOB, '@historical User:c.example'])));
  assertRejected(() => room.check(withCreators(BOB)), '1.4');
  assertRejected(() => room.check(withCreators(['bob'])), '1.4');
  assertRejected(() => room.check(withCreators(['@bob'])), '1.4');
  assertRejected(() => room.check(withCreators(['@bob:bad_server!'])), '1.4');
  assertRejected(() => room.check(withCreators([42])), '1.4');
  assertRejected(() => room.check(withCreators([`@${'x'.repeat(250)}:b.example`])), '1.4');
});

test('v12 rule 2: an event whose room_id is not the create event id with sigil ! is rejected', () => {
  const room = standardRoom('12');
  const message = room.event({ type: 'm.room.message', sender: ALICE, content: { body: 'hi' } });
  assertAllowed(() => room.check(message));
  assertRejected(() => room.check(message, { createEventId: '$SomeOtherCreate' }), '2');
  assertRejected(() => room.check({ ...message, room_id: '!room:a.example' }), '2');
  // Without the create event in authState there is no accepted create event to match.
  const withoutCreate = new Map(room.state);
  withoutCreate.delete(stateKey('m.room.create', ''));
  assertRejected(() => checkEventAuth(message, withoutCreate, room.version, room.opts()), '2');
  // A v12 check without the create event id is a programming error, not a rejection.
  assert.throws(() => checkEventAuth(message, room.state, room.version, {}), TypeError);
});

/** A join by BOB in a public room, with the auth events the selection algorithm picks. */
function joinWithAuthEvents(v: string): { room: Room; join: PDU; authEvents: AuthEventEntry[] } {
  const room = standardRoom(v, 'public');
  const join = room.event({ type: 'm.room.member', sender: BOB, state_key: BOB, content: { membership: 'join' } });
  const keys = room.version.roomIdFromCreateEvent
    ? ['m.room.power_levels', 'm.room.join_rules']
    : ['m.room.create', 'm.room.power_levels', 'm.room.join_rules'];
  const authEvents = keys.map((type) => ({ pdu: room.state.get(stateKey(type, ''))! }));
  return { room, join, authEvents };
}

for (const v of VERSIONS) {
  const r = byVersion(v, { 6: '2', 12: '3' });

  test(`v${v} rule ${r}: auth_events chosen by the selection algorithm are accepted`, () => {
    const { room, join, authEvents } = joinWithAuthEvents(v);
    assertAllowed(() => room.check(join, { authEvents }));
  });

  test(`v${v} rule ${r}.1: auth_events with two entries for one (type, state_key) are rejected`, () => {
    const { room, join, authEvents } = joinWithAuthEvents(v);
    const dup = { pdu: { ...authEvents[authEvents.length - 1]!.pdu, content: { join_rule: 'invite' } } };
    assertRejected(() => room.check(join, { authEvents: [...authEvents, dup] }), `${r}.1`);
  });

  test(`v${v} rule ${r}.2: auth_events with an entry the selection algorithm does not pick are rejected`, () => {
    const { room, join, authEvents } = joinWithAuthEvents(v);
    const topic = { pdu: room.event({ type: 'm.room.topic', sender: ALICE, state_key: '', content: { topic: 't' } }) };
    assertRejected(() => checkAuthEventsList(join, [...authEvents, topic], room.version), `${r}.2`);
    const otherMember = { pdu: room.state.get(stateKey('m.room.member', ALICE))! };
    assertRejected(() => checkAuthEventsList(join, [...authEvents, otherMember], room.version), `${r}.2`);
  });

  test(`v${v} rule ${r}.3: auth_events containing a rejected event are rejected`, () => {
    const { room, join, authEvents } = joinWithAuthEvents(v);
    const marked = authEvents.map((entry, i) => (i === authEvents.length - 1 ? { ...entry, rejected: true } : entry));
    assertRejected(() => room.check(join, { authEvents: marked }), `${r}.3`);
  });

  test(`v${v} rule ${r}.5: auth_events from another room are rejected`, () => {
    const { room, join, authEvents } = joinWithAuthEvents(v);
    const last = authEvents[authEvents.length - 1]!;
    const foreign = { pdu: { ...last.pdu, room_id: '!other:b.example' } };
    assertRejected(() => room.check(join, { authEvents: [...authEvents.slice(0, -1), foreign] }), `${r}.5`);
  });
}

for (const v of versionsFrom(6).filter((v) => Number(v) <= 11)) {
  test(`v${v} rule 2.4: an event without m.room.create among its auth events is rejected`, () => {
    const { room, join, authEvents } = joinWithAuthEvents(v);
    const noCreate = authEvents.filter(({ pdu }) => pdu.type !== 'm.room.create');
    assertRejected(() => checkAuthEventsList(join, noCreate, room.version), '2.4');
    // The same holds for the auth state when no list is given.
    const state = new Map(room.state);
    state.delete(stateKey('m.room.create', ''));
    assertRejected(() => checkEventAuth(join, state, room.version, room.opts()), '2.4');
  });
}

test('v12 rule 3.2: the m.room.create event must not be among the auth events', () => {
  const { room, join, authEvents } = joinWithAuthEvents('12');
  assertRejected(() => room.check(join, { authEvents: [{ pdu: room.create }, ...authEvents] }), '3.2');
});

for (const v of VERSIONS) {
  const r = byVersion(v, { 6: '3', 12: '4' });
  test(`v${v} rule ${r}: with m.federate false, an event from another server than the creator's is rejected`, () => {
    const room = standardRoom(v, 'public', { createContent: { 'm.federate': false } });
    const fromBob = room.event({ type: 'm.room.member', sender: BOB, state_key: BOB, content: { membership: 'join' } });
    assertRejected(() => room.check(fromBob), r);
    const local = '@local:a.example';
    const fromLocal = room.event({ type: 'm.room.member', sender: local, state_key: local, content: { membership: 'join' } });
    assertAllowed(() => room.check(fromLocal));
    // m.federate true (or absent) lets everyone in.
    const open = standardRoom(v, 'public', { createContent: { 'm.federate': true } });
    assertAllowed(() => open.check(open.event({ type: 'm.room.member', sender: BOB, state_key: BOB, content: { membership: 'join' } })));
  });
}
