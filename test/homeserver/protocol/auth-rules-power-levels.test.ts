// Auth rule 9 (v12: 10): m.room.power_levels, and the power-levels.ts helpers' defaults.
// Numbering: v6..v9 9.1..9.8; v10 added 9.1/9.2 (integers only) giving 9.1..9.10; v12 moved the rule
// to 10 and added 10.4 (creators may not be listed), giving 10.1..10.11 (the spec prints the last two
// both as "10.").

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authRulesVersion } from '../../../homeserver/protocol/auth-rules-versions.ts';
import {
  defaultPowerLevelsContent,
  notificationsRoomLevel,
  parsePowerLevel,
  powerLevelFor,
  requiredPowerLevelForEvent,
  userPowerLevel,
} from '../../../homeserver/protocol/power-levels.ts';
import type { JsonObject, PDU } from '../../../homeserver/protocol/types.ts';
import { ALICE, BOB, CAROL, DAVE, Room, VERSIONS, assertAllowed, assertRejected, byVersion, standardRoom, versionsFrom } from './fixtures/room-state.ts';

type Step = 'users' | 'noPrevious' | 'scalars' | 'eventsOld' | 'eventsNew' | 'usersOld' | 'usersNew' | 'allow';
const RULES: Record<'6' | '10' | '12', Record<Step, string>> = {
  '6': { users: '9.1', noPrevious: '9.2', scalars: '9.3', eventsOld: '9.4', eventsNew: '9.5', usersOld: '9.6', usersNew: '9.7', allow: '9.8' },
  '10': { users: '9.3', noPrevious: '9.4', scalars: '9.5', eventsOld: '9.6', eventsNew: '9.7', usersOld: '9.8', usersNew: '9.9', allow: '9.10' },
  '12': { users: '10.3', noPrevious: '10.5', scalars: '10.6', eventsOld: '10.7', eventsNew: '10.8', usersOld: '10.9', usersNew: '10.10', allow: '10.11' },
};

/** A room where BOB and CAROL are at 75 and DAVE at 50; the creator is ALICE (100, or infinite in v12). */
function modRoom(v: string, extra: JsonObject = {}): Room {
  const room = standardRoom(v).join(BOB, CAROL, DAVE);
  const users: JsonObject = { [BOB]: 75, [CAROL]: 75, [DAVE]: 50 };
  if (Number(v) < 12) users[ALICE] = 100;
  room.powerLevels({ users, users_default: 0, state_default: 50, events_default: 0, ban: 50, kick: 50, redact: 50, invite: 0, ...extra });
  return room;
}

function plEvent(room: Room, sender: string, content: JsonObject): PDU {
  return room.event({ type: 'm.room.power_levels', sender, state_key: '', content });
}

const current = (room: Room): JsonObject => structuredClone(room.state.get('m.room.power_levels\u0000')!.content);
const withUsers = (room: Room, change: (users: JsonObject) => void): JsonObject => {
  const content = current(room);
  change(content.users as JsonObject);
  return content;
};

for (const v of VERSIONS) {
  const R = byVersion(v, RULES);

  test(`v${v} rule ${R.users}: users must map valid user ids to integers${Number(v) < 10 ? ' (or integer strings)' : ''}`, () => {
    const room = modRoom(v);
    assertRejected(
      () =>
        room.check(
          plEvent(
            room,
            BOB,
            withUsers(room, (u) => (u['not-a-user'] = 1)),
          ),
        ),
      R.users,
    );
    assertRejected(
      () =>
        room.check(
          plEvent(
            room,
            BOB,
            withUsers(room, (u) => (u['@nodomain'] = 1)),
          ),
        ),
      R.users,
    );
    assertRejected(
      () =>
        room.check(
          plEvent(
            room,
            BOB,
            withUsers(room, (u) => (u[DAVE] = 'fifty')),
          ),
        ),
      R.users,
    );
    assertRejected(
      () =>
        room.check(
          plEvent(
            room,
            BOB,
            withUsers(room, (u) => (u[DAVE] = 50.5)),
          ),
        ),
      R.users,
    );
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), users: [] })), R.users);
    const stringy = () =>
      room.check(
        plEvent(
          room,
          BOB,
          withUsers(room, (u) => (u[DAVE] = ' +060 ')),
        ),
      );
    if (Number(v) < 10) assertAllowed(stringy);
    else assertRejected(stringy, R.users);
  });

  test(`v${v} rule ${R.noPrevious}: the first m.room.power_levels is allowed whatever its levels`, () => {
    const room = standardRoom(v).remove('m.room.power_levels', '');
    const users: JsonObject = Number(v) < 12 ? { [ALICE]: 100, [BOB]: 1000 } : { [BOB]: 1000 };
    assertAllowed(() => room.check(plEvent(room, ALICE, { users, ban: 5000, events: { 'm.room.name': 5000 } })));
    // The same content against an existing power levels event is judged by the later rules.
    const later = modRoom(v);
    assertRejected(() => later.check(plEvent(later, BOB, { ...current(later), ban: 5000 })), `${R.scalars}.2`);
  });

  test(`v${v} rule ${R.scalars}.1: changing or removing a level currently above the sender is rejected`, () => {
    const room = modRoom(v, { ban: 100 });
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), ban: 50 })), `${R.scalars}.1`);
    const removed = current(room);
    delete removed.ban;
    assertRejected(() => room.check(plEvent(room, BOB, removed)), `${R.scalars}.1`);
    // Unchanged, it is no alteration.
    assertAllowed(() => room.check(plEvent(room, BOB, { ...current(room), kick: 60 })));
  });

  test(`v${v} rule ${R.scalars}.2: setting a level above the sender is rejected`, () => {
    for (const key of ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite']) {
      const room = modRoom(v);
      assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), [key]: 76 })), `${R.scalars}.2`);
      assertAllowed(() => room.check(plEvent(room, BOB, { ...current(room), [key]: 75 })));
    }
  });

  test(`v${v} rule ${R.eventsOld}.1: changing or removing an events/notifications entry above the sender is rejected`, () => {
    const room = modRoom(v, { events: { 'm.room.name': 100 }, notifications: { room: 100 } });
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), events: { 'm.room.name': 50 } })), `${R.eventsOld}.1`);
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), events: {} })), `${R.eventsOld}.1`);
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), notifications: { room: 50 } })), `${R.eventsOld}.1`);
    assertAllowed(() => room.check(plEvent(room, BOB, { ...current(room), events: { 'm.room.name': 100, 'm.room.topic': 60 } })));
  });

  test(`v${v} rule ${R.eventsNew}.1: adding or changing an events/notifications entry to above the sender is rejected`, () => {
    const room = modRoom(v, { events: { 'm.room.name': 50 } });
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), events: { 'm.room.name': 80 } })), `${R.eventsNew}.1`);
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), events: { 'm.room.name': 50, x: 76 } })), `${R.eventsNew}.1`);
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), notifications: { room: 76 } })), `${R.eventsNew}.1`);
    assertAllowed(() => room.check(plEvent(room, BOB, { ...current(room), notifications: { room: 75 } })));
  });

  test(`v${v} rule ${R.usersOld}.1: changing or removing another user at or above the sender is rejected`, () => {
    const room = modRoom(v);
    assertRejected(
      () =>
        room.check(
          plEvent(
            room,
            BOB,
            withUsers(room, (u) => (u[CAROL] = 10)),
          ),
        ),
      `${R.usersOld}.1`,
    );
    assertRejected(
      () =>
        room.check(
          plEvent(
            room,
            BOB,
            withUsers(room, (u) => delete u[CAROL]),
          ),
        ),
      `${R.usersOld}.1`,
    );
    // Below the sender, and the sender's own entry, may change.
    assertAllowed(() =>
      room.check(
        plEvent(
          room,
          BOB,
          withUsers(room, (u) => (u[DAVE] = 10)),
        ),
      ),
    );
    assertAllowed(() =>
      room.check(
        plEvent(
          room,
          BOB,
          withUsers(room, (u) => (u[BOB] = 10)),
        ),
      ),
    );
    assertAllowed(() =>
      room.check(
        plEvent(
          room,
          BOB,
          withUsers(room, (u) => delete u[BOB]),
        ),
      ),
    );
  });

  test(`v${v} rule ${R.usersNew}.1: giving any user, the sender included, more than the sender's level is rejected`, () => {
    const room = modRoom(v);
    assertRejected(
      () =>
        room.check(
          plEvent(
            room,
            BOB,
            withUsers(room, (u) => (u[DAVE] = 76)),
          ),
        ),
      `${R.usersNew}.1`,
    );
    assertRejected(
      () =>
        room.check(
          plEvent(
            room,
            BOB,
            withUsers(room, (u) => (u[BOB] = 76)),
          ),
        ),
      `${R.usersNew}.1`,
    );
    assertRejected(
      () =>
        room.check(
          plEvent(
            room,
            BOB,
            withUsers(room, (u) => (u['@new:e.example'] = 100)),
          ),
        ),
      `${R.usersNew}.1`,
    );
    assertAllowed(() =>
      room.check(
        plEvent(
          room,
          BOB,
          withUsers(room, (u) => (u[DAVE] = 75)),
        ),
      ),
    );
  });

  test(`v${v} rule ${R.allow}: a power levels change within the sender's level is allowed`, () => {
    const room = modRoom(v, { events: { 'm.room.name': 50 } });
    const content = withUsers(room, (u) => {
      u[DAVE] = 60;
      u['@new:e.example'] = 20;
    });
    Object.assign(content, { ban: 60, events: { 'm.room.name': 70, 'm.room.topic': 20 }, notifications: { room: 40 } });
    assertAllowed(() => room.check(plEvent(room, BOB, content)));
  });
}

for (const v of versionsFrom(10)) {
  const top = Number(v) >= 12 ? '10' : '9';

  test(`v${v} rule ${top}.1: users_default, events_default, state_default, ban, redact, kick and invite must be integers`, () => {
    for (const key of ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite']) {
      const room = modRoom(v);
      assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), [key]: '50' })), `${top}.1`);
      assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), [key]: null })), `${top}.1`);
    }
  });

  test(`v${v} rule ${top}.2: events and notifications must be objects of integers`, () => {
    const room = modRoom(v);
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), events: { 'm.room.name': '50' } })), `${top}.2`);
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), events: [] })), `${top}.2`);
    assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), notifications: 'room' })), `${top}.2`);
    assertAllowed(() => room.check(plEvent(room, BOB, { ...current(room), notifications: { room: 50 } })));
  });
}

test('v9 rule 9.3: before v10 levels may be integer strings, compared by value', () => {
  const room = modRoom('9', { ban: '100' });
  // "100" -> 100 is no change, so it passes although 100 is above the sender.
  assertAllowed(() => room.check(plEvent(room, BOB, { ...current(room), ban: 100, events: { 'm.room.name': '050' } })));
  assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), ban: '99' })), '9.3.1');
  assertRejected(() => room.check(plEvent(room, BOB, { ...current(room), kick: ' 80 ' })), '9.3.2');
});

test('v12 rule 10.4: the users map may not list a room creator', () => {
  const room = standardRoom('12', 'invite', { additionalCreators: [CAROL] }).join(BOB, CAROL);
  assertRejected(() => room.check(plEvent(room, ALICE, { users: { [ALICE]: 100 } })), '10.4');
  assertRejected(() => room.check(plEvent(room, ALICE, { users: { [CAROL]: 100 } })), '10.4');
  // Even for the first power levels event.
  room.remove('m.room.power_levels', '');
  assertRejected(() => room.check(plEvent(room, ALICE, { users: { [CAROL]: 1 } })), '10.4');
  assertAllowed(() => room.check(plEvent(room, ALICE, { users: { [BOB]: 1 } })));
});

test('v12 rule 10.10.1: a creator, at infinite power, may set any level; others stay bounded', () => {
  const room = modRoom('12');
  assertAllowed(() =>
    room.check(
      plEvent(
        room,
        ALICE,
        withUsers(room, (u) => (u[BOB] = 1_000_000)),
      ),
    ),
  );
  assertAllowed(() => room.check(plEvent(room, ALICE, { ...current(room), ban: 9_007_199_254_740_991 })));
  assertRejected(
    () =>
      room.check(
        plEvent(
          room,
          BOB,
          withUsers(room, (u) => (u[DAVE] = 1_000_000)),
        ),
      ),
    '10.10.1',
  );
});

// ---- power-levels.ts helpers ----

test('userPowerLevel: without m.room.power_levels the creator has 100 and others 0 (v6..v11)', () => {
  for (const v of ['6', '10', '11']) {
    const room = new Room(v);
    assert.equal(userPowerLevel(room.state, ALICE, room.version), 100);
    assert.equal(userPowerLevel(room.state, BOB, room.version), 0);
  }
  // v10 reads content.creator, v11 the sender.
  const v10 = new Room('10', { createContent: { creator: BOB } });
  assert.equal(userPowerLevel(v10.state, BOB, v10.version), 100);
  assert.equal(userPowerLevel(v10.state, ALICE, v10.version), 0);
  const v11 = new Room('11', { createContent: { creator: BOB } });
  assert.equal(userPowerLevel(v11.state, ALICE, v11.version), 100);
  assert.equal(userPowerLevel(v11.state, BOB, v11.version), 0);
});

test('userPowerLevel: v12 creators, additional ones included, are infinite with or without power levels', () => {
  const room = standardRoom('12', 'invite', { additionalCreators: [BOB] });
  assert.equal(userPowerLevel(room.state, ALICE, room.version), Infinity);
  assert.equal(userPowerLevel(room.state, BOB, room.version), Infinity);
  assert.equal(userPowerLevel(room.state, CAROL, room.version), 0);
  room.remove('m.room.power_levels', '');
  assert.equal(userPowerLevel(room.state, BOB, room.version), Infinity);
  assert.equal(userPowerLevel(room.state, CAROL, room.version), 0);
});

test('userPowerLevel: users entry, else users_default, else 0', () => {
  const room = modRoom('10', { users_default: 7 });
  assert.equal(userPowerLevel(room.state, BOB, room.version), 75);
  assert.equal(userPowerLevel(room.state, '@x:e.example', room.version), 7);
  room.powerLevels({ users: {} });
  assert.equal(userPowerLevel(room.state, '@x:e.example', room.version), 0);
  room.powerLevels({ users: { [BOB]: '42' } }); // an accepted pre-v10 event
  assert.equal(userPowerLevel(room.state, BOB, room.version), 42);
});

test('requiredPowerLevelForEvent, powerLevelFor, notificationsRoomLevel: the schema defaults', () => {
  const empty = new Room('10');
  assert.equal(requiredPowerLevelForEvent(empty.state, 'm.room.name', true), 50);
  assert.equal(requiredPowerLevelForEvent(empty.state, 'm.room.message', false), 0);
  assert.deepEqual(
    (['invite', 'kick', 'ban', 'redact'] as const).map((a) => powerLevelFor(a, empty.state)),
    [0, 50, 50, 50],
  );
  assert.equal(notificationsRoomLevel(empty.state), 50);
  const set = new Room('10').powerLevels({
    events: { 'm.room.name': 10 },
    state_default: 20,
    events_default: 30,
    invite: 40,
    kick: 41,
    ban: 42,
    redact: 43,
    notifications: { room: 44 },
  });
  assert.equal(requiredPowerLevelForEvent(set.state, 'm.room.name', true), 10);
  assert.equal(requiredPowerLevelForEvent(set.state, 'm.room.topic', true), 20);
  assert.equal(requiredPowerLevelForEvent(set.state, 'm.room.message', false), 30);
  assert.deepEqual(
    (['invite', 'kick', 'ban', 'redact'] as const).map((a) => powerLevelFor(a, set.state)),
    [40, 41, 42, 43],
  );
  assert.equal(notificationsRoomLevel(set.state), 44);
});

test('parsePowerLevel: integer strings only before v10, in the stringy-power-levels format', () => {
  assert.equal(parsePowerLevel(50, false), 50);
  assert.equal(parsePowerLevel('50', false), undefined);
  for (const [text, value] of [
    ['100', 100],
    ['000100', 100],
    ['+100', 100],
    ['-100', -100],
    [' 00100 ', 100],
  ] as const) {
    assert.equal(parsePowerLevel(text, true), value, text);
  }
  for (const bad of ['1.5', '1e3', '', ' ', '+-1', '0x10', '99999999999999999999']) assert.equal(parsePowerLevel(bad, true), undefined, bad);
  assert.equal(parsePowerLevel(1.5, true), undefined);
  assert.equal(parsePowerLevel(null, true), undefined);
});

test('defaultPowerLevelsContent: v11 lists the creator at 100 and passes the auth rules', () => {
  const version = authRulesVersion('11')!;
  const content = defaultPowerLevelsContent(ALICE, version, { preset: 'private_chat' });
  assert.deepEqual(content.users, { [ALICE]: 100 });
  assert.equal(content.invite, 0);
  assert.equal((content.events as JsonObject)['m.room.tombstone'], 100);
  const room = new Room('11').join(ALICE);
  assertAllowed(() => room.check(plEvent(room, ALICE, content)));
  const trusted = defaultPowerLevelsContent(ALICE, version, { preset: 'trusted_private_chat', invitees: [BOB] });
  assert.deepEqual(trusted.users, { [ALICE]: 100, [BOB]: 100 });
  assert.equal(defaultPowerLevelsContent(ALICE, version, { preset: 'public_chat' }).invite, 50);
});

test('defaultPowerLevelsContent: v12 lists no creator, puts m.room.tombstone above state_default, and passes rule 10.4', () => {
  const version = authRulesVersion('12')!;
  const content = defaultPowerLevelsContent([ALICE, BOB], version, { preset: 'trusted_private_chat', invitees: [BOB] });
  assert.deepEqual(content.users, {});
  assert.ok(((content.events as JsonObject)['m.room.tombstone'] as number) > (content.state_default as number));
  const room = new Room('12', { additionalCreators: [BOB] }).join(ALICE);
  assertAllowed(() => room.check(plEvent(room, ALICE, content)));
});
