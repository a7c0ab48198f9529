import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ROOM_VERSION, getRoomVersion, SUPPORTED_ROOM_VERSIONS } from '../../../homeserver/protocol/room-versions.ts';
import type { RoomVersion } from '../../../homeserver/protocol/room-versions.ts';
import { authRulesVersion } from '../../../homeserver/protocol/auth-rules-versions.ts';
import type { AuthRulesVersion } from '../../../homeserver/protocol/auth-rules-versions.ts';

test('versions 6 to 12 are supported and 11 is the default (changelog v1.16: "SHOULD keep using room version 11 for a little while")', () => {
  assert.deepEqual(SUPPORTED_ROOM_VERSIONS, ['6', '7', '8', '9', '10', '11', '12']);
  assert.equal(DEFAULT_ROOM_VERSION, '11');
  assert.equal(getRoomVersion(DEFAULT_ROOM_VERSION)?.id, '11');
});

test('unsupported, older and malformed versions are undefined', () => {
  for (const id of ['1', '5', '13', '', '12 ', 'org.example.v1', 'constructor', '__proto__']) {
    assert.equal(getRoomVersion(id), undefined, JSON.stringify(id));
  }
});

// Each flag and the first version that has it, from the version documents.
const INTRODUCED_IN: [keyof RoomVersion, number, string][] = [
  ['knockJoinRule', 7, 'v7.md: knocking'],
  ['restrictedJoinRule', 8, 'v8.md: restricted join rule'],
  ['redactionKeepsJoinRulesAllow', 8, 'v8.md Redactions: join_rules keeps allow'],
  ['redactionKeepsJoinAuthorisedVia', 9, 'v9-redactions: member keeps join_authorised_via_users_server'],
  ['knockRestrictedJoinRule', 10, 'v10.md: knock_restricted'],
  ['integerPowerLevels', 10, 'v10.md: power levels must be integers'],
  ['creatorFromSender', 11, 'v11.md: creator property removed'],
  ['updatedRedactionRules', 11, 'v11-redactions'],
  ['redactsInContent', 11, 'v11.md: redacts moved to content'],
  ['roomIdFromCreateEvent', 12, 'v12.md: room id is the create event hash'],
  ['additionalCreators', 12, 'v12.md: additional_creators'],
  ['creatorsHaveInfinitePower', 12, 'v12.md: creators have infinite power'],
];

for (const [flag, since, source] of INTRODUCED_IN) {
  test(`${flag} is set from v${since} on and not before (${source})`, () => {
    for (const id of SUPPORTED_ROOM_VERSIONS) {
      assert.equal(getRoomVersion(id)?.[flag], Number(id) >= since, `v${id}`);
    }
  });
}

test('every boolean flag is covered by the table above', () => {
  const flags = Object.entries(getRoomVersion('12') as object)
    .filter(([, value]) => typeof value === 'boolean')
    .map(([key]) => key)
    .sort();
  assert.deepEqual(flags, INTRODUCED_IN.map(([flag]) => flag).sort());
});

test('state resolution is v2 up to v11 and v2.1 in v12', () => {
  for (const id of SUPPORTED_ROOM_VERSIONS) {
    assert.equal(getRoomVersion(id)?.stateResolution, id === '12' ? 'v2.1' : 'v2', `v${id}`);
  }
});

test('room versions are frozen so no caller can change a rule for everyone', () => {
  const v = getRoomVersion('12') as { knockJoinRule: boolean };
  assert.throws(() => {
    v.knockJoinRule = false;
  }, TypeError);
  assert.equal(Object.isFrozen(SUPPORTED_ROOM_VERSIONS), true);
});

test('a RoomVersion carries the same auth-rule flags as auth-rules-versions.ts, for every version', () => {
  for (const id of SUPPORTED_ROOM_VERSIONS) {
    const full = getRoomVersion(id) as RoomVersion;
    const auth = authRulesVersion(id) as AuthRulesVersion;
    // Type-level check too: a RoomVersion is usable wherever an AuthRulesVersion is expected.
    const asAuth: AuthRulesVersion = full;
    for (const key of Object.keys(auth) as (keyof AuthRulesVersion)[]) {
      assert.equal(asAuth[key], auth[key], `v${id} ${key}`);
    }
  }
});
