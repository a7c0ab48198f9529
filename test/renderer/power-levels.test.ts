// What the member list and room settings offer (renderer/src/lib/power-levels.ts), checked
// against the auth rules' text (rooms/v1.md "Authorization rules": kick, ban, power_levels).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { levelOf, memberActions, roleName, settingLevel, stateEventLevel, withSettingLevels, withUserLevel } from '../../renderer/src/lib/power-levels.ts';

const content = {
  users: { '@admin:s': 100, '@mod:s': 50, '@low:s': 10 },
  users_default: 0,
  events: { 'm.room.power_levels': 100 },
  kick: 50,
  ban: 50,
};

test("a member's level is theirs in `users`, else users_default; v12 creators are infinite", () => {
  assert.equal(levelOf(content, '@mod:s'), 50);
  assert.equal(levelOf(content, '@nobody:s'), 0);
  assert.equal(levelOf({ users_default: 5 }, '@nobody:s'), 5);
  assert.equal(levelOf(undefined, '@nobody:s'), 0);
  assert.equal(levelOf(content, '@creator:s', new Set(['@creator:s'])), Infinity);
  // A key from Object.prototype is no user.
  assert.equal(levelOf(content, 'constructor'), 0);
});

test('the spec defaults apply to absent keys: state_default 50, invite 0, kick/ban/redact 50', () => {
  assert.equal(settingLevel({}, 'state_default'), 50);
  assert.equal(settingLevel({}, 'invite'), 0);
  assert.equal(settingLevel({}, 'kick'), 50);
  assert.equal(settingLevel({}, 'redact'), 50);
  assert.equal(stateEventLevel(content, 'm.room.power_levels'), 100);
  assert.equal(stateEventLevel(content, 'm.room.name'), 50);
  assert.equal(stateEventLevel({ state_default: 'x' as never }, 'm.room.name'), 50, 'a malformed level falls back to the default');
});

test('roles: Admin from 100, Moderator from 50, nothing at the default, else the number; creators are Owner', () => {
  assert.equal(roleName(100), 'Admin');
  assert.equal(roleName(50), 'Moderator');
  assert.equal(roleName(0), '');
  assert.equal(roleName(10), 'Level 10');
  assert.equal(roleName(Infinity), 'Owner');
});

test('kick and ban need their level and a level above the target; nobody kicks themself', () => {
  assert.deepEqual(memberActions(content, '@admin:s', '@mod:s'), { kick: true, ban: true, changeLevel: true, maxLevel: 100 });
  const modOnAdmin = memberActions(content, '@mod:s', '@admin:s');
  assert.equal(modOnAdmin.kick, false, 'a moderator cannot kick an admin');
  assert.equal(modOnAdmin.changeLevel, false);
  const modOnLow = memberActions(content, '@mod:s', '@low:s');
  assert.equal(modOnLow.kick, true);
  assert.equal(modOnLow.changeLevel, false, 'm.room.power_levels needs 100 here');
  assert.equal(memberActions(content, '@low:s', '@nobody:s').kick, false, 'above the target but under the kick level');
  assert.equal(memberActions(content, '@admin:s', '@admin:s').kick, false);
});

test('changing levels: an equal peer cannot be changed, yourself can; the new level is capped at your own', () => {
  const peers = { users: { '@a:s': 100, '@b:s': 100 } };
  assert.equal(memberActions(peers, '@a:s', '@b:s').changeLevel, false);
  assert.equal(memberActions(peers, '@a:s', '@a:s').changeLevel, true);
  const mods = { users: { '@m:s': 50 }, events: { 'm.room.power_levels': 50 } };
  assert.deepEqual(memberActions(mods, '@m:s', '@x:s'), { kick: true, ban: true, changeLevel: true, maxLevel: 50 });
  assert.equal(memberActions(content, '@c:s', '@x:s', new Set(['@c:s'])).maxLevel, 100, 'a creator may hand out up to 100');
  assert.equal(memberActions(content, '@admin:s', '@c:s', new Set(['@c:s'])).changeLevel, false, "nobody changes a creator's level");
});

test('withUserLevel copies the content, setting a level or removing the entry at the default', () => {
  const raised = withUserLevel(content, '@bob:s', 50);
  assert.equal(raised.users!['@bob:s'], 50);
  assert.equal((content.users as Record<string, number>)['@bob:s'], undefined, 'the original is not changed');
  assert.equal(raised.kick, 50, 'the other keys are kept');
  const lowered = withUserLevel(content, '@mod:s', 0);
  assert.equal(Object.hasOwn(lowered.users!, '@mod:s'), false);
  assert.deepEqual(withSettingLevels(content, { invite: 50 }).invite, 50);
});

test('levels written as strings (room versions 1-9, "m.room.power_levels events accept values as strings") are read as the numbers they say', () => {
  const stringy = {
    users: { '@admin:s': ' +100 ', '@mod:s': '0050', '@odd:s': '5.5' },
    users_default: '0',
    events: { 'm.room.name': '-10' },
    state_default: '75',
    kick: ' 25',
  } as never;
  assert.equal(levelOf(stringy, '@admin:s'), 100);
  assert.equal(levelOf(stringy, '@mod:s'), 50);
  // Not an integer in the spec's format: the default applies, as for any other bad value.
  assert.equal(levelOf(stringy, '@odd:s'), 0);
  assert.equal(stateEventLevel(stringy, 'm.room.name'), -10);
  assert.equal(stateEventLevel(stringy, 'm.room.topic'), 75);
  assert.equal(settingLevel(stringy, 'kick'), 25);
  assert.deepEqual(memberActions(stringy, '@admin:s', '@mod:s').kick, true);
});
