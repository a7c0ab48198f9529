// A room's "all / mentions only / mute" as push rules, the way Element keeps them
// (renderer/src/lib/room-notifications.ts; push.md "Push rules").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountNotificationsOn, roomModeChanges, roomNotificationMode } from '../../renderer/src/lib/room-notifications.ts';

const R = '!room:s';
const muteRule = { rule_id: R, enabled: true, actions: [], conditions: [{ kind: 'event_match', key: 'room_id', pattern: R }] };
const mentionsRule = { rule_id: R, enabled: true, actions: [] };

test('the mode read from the rules: an override for the room mutes, a silent room rule is mentions only', () => {
  assert.equal(roomNotificationMode(undefined, R), 'all');
  assert.equal(roomNotificationMode({ override: [muteRule] }, R), 'mute');
  assert.equal(roomNotificationMode({ override: [{ ...muteRule, actions: ['dont_notify'] }] }, R), 'mute', 'the deprecated dont_notify is silent too');
  assert.equal(roomNotificationMode({ room: [mentionsRule] }, R), 'mentions');
  assert.equal(roomNotificationMode({ room: [{ ...mentionsRule, actions: ['notify'] }] }, R), 'all', 'a room rule that notifies is not mentions only');
  assert.equal(roomNotificationMode({ override: [{ ...muteRule, enabled: false }] }, R), 'all', 'a disabled rule does nothing');
  assert.equal(roomNotificationMode({ override: [muteRule] }, '!other:s'), 'all');
});

test('the changes from one mode to another remove the old rule and add the new one', () => {
  assert.deepEqual(roomModeChanges(undefined, R, 'mute'), [
    { op: 'add', kind: 'override', ruleId: R, body: { actions: [], conditions: [{ kind: 'event_match', key: 'room_id', pattern: R }] } },
  ]);
  assert.deepEqual(roomModeChanges({ override: [muteRule] }, R, 'mentions'), [
    { op: 'delete', kind: 'override', ruleId: R },
    { op: 'add', kind: 'room', ruleId: R, body: { actions: [] } },
  ]);
  assert.deepEqual(roomModeChanges({ override: [muteRule], room: [mentionsRule] }, R, 'all'), [
    { op: 'delete', kind: 'override', ruleId: R },
    { op: 'delete', kind: 'room', ruleId: R },
  ]);
  assert.deepEqual(roomModeChanges(undefined, R, 'all'), []);
});

test('the account gets notifications unless the master rule is enabled', () => {
  assert.equal(accountNotificationsOn(undefined), true);
  assert.equal(accountNotificationsOn({ override: [{ rule_id: '.m.rule.master', enabled: false, actions: [] }] }), true);
  assert.equal(accountNotificationsOn({ override: [{ rule_id: '.m.rule.master', enabled: true, actions: [] }] }), false);
});
