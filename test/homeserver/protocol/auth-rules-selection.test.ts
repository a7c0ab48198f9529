// server-server-api.md "Auth events selection", which auth rule 2.2 (v12: 3.2) enforces.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authEventKeysFor } from '../../../homeserver/protocol/auth-events-selection.ts';
import { authRulesVersion } from '../../../homeserver/protocol/auth-rules-versions.ts';
import type { AuthRulesVersion } from '../../../homeserver/protocol/auth-rules-versions.ts';
import { ALICE, BOB, CAROL } from './fixtures/room-state.ts';

const V = (id: string): AuthRulesVersion => authRulesVersion(id)!;

test('auth events selection: m.room.create has no auth events', () => {
  assert.deepEqual(authEventKeysFor({ type: 'm.room.create', sender: ALICE, state_key: '', content: {} }, V('10')), []);
});

test("auth events selection: create, power levels and the sender's membership for any event (v6..v11)", () => {
  assert.deepEqual(authEventKeysFor({ type: 'm.room.message', sender: BOB, content: { body: 'x' } }, V('6')), [
    ['m.room.create', ''],
    ['m.room.power_levels', ''],
    ['m.room.member', BOB],
  ]);
});

test('auth events selection: v12 never selects m.room.create', () => {
  assert.deepEqual(authEventKeysFor({ type: 'm.room.topic', sender: BOB, state_key: '', content: {} }, V('12')), [
    ['m.room.power_levels', ''],
    ['m.room.member', BOB],
  ]);
});

test('auth events selection: a membership event adds the target and, for join/invite/knock, the join rules', () => {
  const kick = authEventKeysFor({ type: 'm.room.member', sender: ALICE, state_key: BOB, content: { membership: 'leave' } }, V('10'));
  assert.deepEqual(kick, [
    ['m.room.create', ''],
    ['m.room.power_levels', ''],
    ['m.room.member', ALICE],
    ['m.room.member', BOB],
  ]);
  for (const membership of ['join', 'invite', 'knock']) {
    const keys = authEventKeysFor({ type: 'm.room.member', sender: BOB, state_key: BOB, content: { membership } }, V('10'));
    // The sender is the target: listed once.
    assert.deepEqual(keys, [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
      ['m.room.member', BOB],
      ['m.room.join_rules', ''],
    ]);
  }
});

test('auth events selection: a third-party invite adds the m.room.third_party_invite named by its token', () => {
  const content = { membership: 'invite', third_party_invite: { signed: { mxid: CAROL, token: 'tok' } } };
  const keys = authEventKeysFor({ type: 'm.room.member', sender: BOB, state_key: CAROL, content }, V('8'));
  assert.deepEqual(keys.slice(-1), [['m.room.third_party_invite', 'tok']]);
  const unsigned = authEventKeysFor(
    { type: 'm.room.member', sender: BOB, state_key: CAROL, content: { membership: 'invite', third_party_invite: {} } },
    V('8'),
  );
  assert.ok(!unsigned.some(([type]) => type === 'm.room.third_party_invite'));
});

test("auth events selection: a restricted join adds the authorising user's membership from v8 only", () => {
  const join = { type: 'm.room.member', sender: CAROL, state_key: CAROL, content: { membership: 'join', join_authorised_via_users_server: BOB } };
  assert.deepEqual(authEventKeysFor(join, V('8')).slice(-1), [['m.room.member', BOB]]);
  assert.deepEqual(authEventKeysFor(join, V('12')).slice(-1), [['m.room.member', BOB]]);
  assert.ok(!authEventKeysFor(join, V('7')).some(([type, key]) => type === 'm.room.member' && key === BOB));
  // Only for joins.
  const leave = { ...join, content: { membership: 'leave', join_authorised_via_users_server: BOB } };
  assert.ok(!authEventKeysFor(leave, V('10')).some(([type, key]) => type === 'm.room.member' && key === BOB));
});

test('authRulesVersion: flags per room version, undefined outside 6..12', () => {
  assert.equal(authRulesVersion('5'), undefined);
  assert.equal(authRulesVersion('13'), undefined);
  const flags = ['6', '7', '8', '9', '10', '11', '12'].map((id) => {
    const v = V(id);
    return [
      v.knockJoinRule,
      v.restrictedJoinRule,
      v.knockRestrictedJoinRule,
      v.integerPowerLevels,
      v.creatorFromSender,
      v.roomIdFromCreateEvent,
      v.creatorsHaveInfinitePower,
    ]
      .map(Number)
      .join('');
  });
  assert.deepEqual(flags, ['0000000', '1000000', '1100000', '1100000', '1111000', '1111100', '1111111']);
});
