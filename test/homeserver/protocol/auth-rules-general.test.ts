// Auth rules 5..8 and 10 (v12: 6..9 and 11): the sender must be joined, m.room.third_party_invite,
// the required power level of the event type, user-id state keys, and the final allow.

import { test } from 'node:test';
import type { JsonObject } from '../../../homeserver/protocol/types.ts';
import { ALICE, BOB, Room, VERSIONS, assertAllowed, assertRejected, standardRoom } from './fixtures/room-state.ts';

const plOf = (room: Room): JsonObject => room.state.get('m.room.power_levels\u0000')!.content;

for (const v of VERSIONS) {
  const top = (n: number): string => String(Number(v) >= 12 ? n + 1 : n);

  test(`v${v} rule ${top(5)}: an event from a user who is not joined is rejected`, () => {
    const room = standardRoom(v, 'public').member(BOB, 'invite', ALICE);
    const message = room.event({ type: 'm.room.message', sender: BOB, content: { body: 'hi' } });
    assertRejected(() => room.check(message), top(5));
    room.join(BOB);
    assertAllowed(() => room.check(message));
  });

  test(`v${v} rule ${top(6)}.1: m.room.third_party_invite is allowed if and only if the sender is at the invite level`, () => {
    const room = standardRoom(v).join(BOB);
    room.powerLevels({ ...plOf(room), invite: 10, state_default: 100 });
    const invitation = room.event({ type: 'm.room.third_party_invite', sender: BOB, state_key: 'tok', content: { public_key: 'K' } });
    assertRejected(() => room.check(invitation), `${top(6)}.1`);
    room.powerLevels({ ...plOf(room), users: { ...(plOf(room).users as JsonObject), [BOB]: 10 } });
    // Allowed although state_default (100) is above the sender: rule 6 decides before rule 7.
    assertAllowed(() => room.check(invitation));
  });

  test(`v${v} rule ${top(7)}: an event below its type's required power level is rejected`, () => {
    const room = standardRoom(v).join(BOB);
    // State events default to state_default (50).
    assertRejected(() => room.check(room.event({ type: 'm.room.topic', sender: BOB, state_key: '', content: { topic: 'x' } })), top(7));
    // Message events default to events_default (0)...
    const message = room.event({ type: 'm.room.message', sender: BOB, content: { body: 'hi' } });
    assertAllowed(() => room.check(message));
    // ...unless `events` names the type.
    room.powerLevels({ ...plOf(room), events: { 'm.room.message': 1 } });
    assertRejected(() => room.check(message), top(7));
    // `events` lowers a state event's level too.
    room.powerLevels({ ...plOf(room), events: { 'm.room.topic': 0 } });
    assertAllowed(() => room.check(room.event({ type: 'm.room.topic', sender: BOB, state_key: '', content: { topic: 'x' } })));
    // events_default raised.
    room.powerLevels({ ...plOf(room), events_default: 5 });
    assertRejected(() => room.check(message), top(7));
  });

  test(`v${v} rule ${top(7)}: without m.room.power_levels, state needs 50 and the creator has 100${Number(v) >= 12 ? ' (infinite)' : ''}`, () => {
    const room = standardRoom(v).join(BOB).remove('m.room.power_levels', '');
    assertAllowed(() => room.check(room.event({ type: 'm.room.name', sender: ALICE, state_key: '', content: { name: 'n' } })));
    assertRejected(() => room.check(room.event({ type: 'm.room.name', sender: BOB, state_key: '', content: { name: 'n' } })), top(7));
    assertAllowed(() => room.check(room.event({ type: 'm.room.message', sender: BOB, content: { body: 'hi' } })));
  });

  test(`v${v} rule ${top(7)}: m.room.redaction needs its event level, not the redact level`, () => {
    const room = standardRoom(v).join(BOB);
    room.powerLevels({ ...plOf(room), redact: 100 });
    const redaction = room.event({ type: 'm.room.redaction', sender: BOB, content: { redacts: '$x' } });
    if (Number(v) < 11) redaction.redacts = '$x';
    assertAllowed(() => room.check(redaction));
    room.powerLevels({ ...plOf(room), events: { 'm.room.redaction': 50 } });
    assertRejected(() => room.check(redaction), top(7));
  });

  test(`v${v} rule ${top(8)}: a state_key starting with @ that is not the sender is rejected`, () => {
    const room = standardRoom(v).join(BOB);
    room.powerLevels({ ...plOf(room), state_default: 0 });
    assertRejected(() => room.check(room.event({ type: 'com.example.state', sender: BOB, state_key: ALICE, content: {} })), top(8));
    assertAllowed(() => room.check(room.event({ type: 'com.example.state', sender: BOB, state_key: BOB, content: {} })));
    assertAllowed(() => room.check(room.event({ type: 'com.example.state', sender: BOB, state_key: 'alice', content: {} })));
  });

  test(`v${v} rule ${top(10)}: any other event from a joined user with enough power is allowed`, () => {
    const room = standardRoom(v).join(BOB);
    assertAllowed(() => room.check(room.event({ type: 'com.example.anything', sender: BOB, content: { x: 1 } })));
    assertAllowed(() => room.check(room.event({ type: 'm.room.topic', sender: ALICE, state_key: '', content: { topic: 't' } })));
  });
}

test('v6 rule 7: m.room.aliases has no rule of its own and needs only the state level', () => {
  const room = standardRoom('6').join(BOB);
  const aliases = (sender: string) =>
    room.event({ type: 'm.room.aliases', sender, state_key: 'elsewhere.example', content: { aliases: ['#a:elsewhere.example'] } });
  // Before v6 the state_key had to be the sender's server; now only the power level counts.
  assertAllowed(() => room.check(aliases(ALICE)));
  assertRejected(() => room.check(aliases(BOB)), '7');
  room.powerLevels({ ...plOf(room), events: { 'm.room.aliases': 0 } });
  assertAllowed(() => room.check(aliases(BOB)));
});

test('v12 rule 8: an additional creator has infinite power without being listed', () => {
  const room = standardRoom('12', 'invite', { additionalCreators: [BOB] }).join(BOB);
  room.powerLevels({ ...plOf(room), events: { 'm.room.tombstone': 150 }, state_default: 1000 });
  assertAllowed(() => room.check(room.event({ type: 'm.room.tombstone', sender: BOB, state_key: '', content: {} })));
  const other = standardRoom('12').join(BOB);
  other.powerLevels({ ...plOf(other), events: { 'm.room.tombstone': 150 } });
  assertRejected(() => other.check(other.event({ type: 'm.room.tombstone', sender: BOB, state_key: '', content: {} })), '8');
});
