// Push rule evaluation, table-driven from client-server-api/modules/push.md: one table per
// condition kind (with the spec's own examples), one case per predefined rule, then actions,
// evaluation order and the merging of a user's stored ruleset with the server defaults.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  conditionMatches,
  evaluatePushRules,
  globMatches,
  memberCountMatches,
  splitPath,
  type PushContext,
} from '../../../homeserver/protocol/push-rules-eval.ts';
import { defaultPushRules, effectiveRuleset, type PushRuleset } from '../../../homeserver/protocol/push-rules.ts';
import type { JsonObject } from '../../../homeserver/protocol/types.ts';

const BOB = '@bob:example.org';
const ALICE = '@alice:example.org';
const ROOM = '!room:example.org';

const CTX: PushContext = { userId: BOB, displayName: 'Bob Smith', memberCount: 3, senderPowerLevel: 0, notificationLevels: {} };

function ev(type: string, content: JsonObject, extra: JsonObject = {}): JsonObject {
  return { type, content, sender: ALICE, room_id: ROOM, event_id: '$e', origin_server_ts: 1, ...extra };
}
const text = (body: string, extra: JsonObject = {}) => ev('m.room.message', { msgtype: 'm.text', body, ...extra });

function outcome(event: JsonObject, ctx: Partial<PushContext> = {}, rules: PushRuleset = defaultPushRules(BOB)) {
  return evaluatePushRules(rules, event, { ...CTX, ...ctx });
}

describe('event_match', () => {
  const topic = (value: unknown) => ev('m.room.topic', value === undefined ? {} : ({ topic: value } as JsonObject), { state_key: '' });
  const cases: Array<[string, unknown, string, boolean]> = [
    ['the spec example: lunc?* matches "Lunch plans"', 'Lunch plans', 'lunc?*', true],
    ['case-insensitive, * may match nothing: "LUNCH"', 'LUNCH', 'lunc?*', true],
    ['the whole value must match: " lunch" (leading space)', ' lunch', 'lunc?*', false],
    ['? must match a character: "lunc"', 'lunc', 'lunc?*', false],
    ['a null value is not a string', null, 'lunc?*', false],
    ['a number is not a string, even for *', 42, '*', false],
    ['an absent property never matches, even *', undefined, '*', false],
    ['regex metacharacters in patterns are literal', 'a.b', 'a.b', true],
    ['a dot in the pattern is not a wildcard', 'axb', 'a.b', false],
  ];
  for (const [name, value, pattern, expected] of cases) {
    test(name, () => assert.equal(conditionMatches({ kind: 'event_match', key: 'content.topic', pattern }, topic(value), CTX), expected));
  }

  const body: Array<[string, string, string, boolean]> = [
    ['content.body: the spec example ex*ple in "An example event."', 'An example event.', 'ex*ple', true],
    ['content.body: at the start and end of the body ("exple")', 'exple', 'ex*ple', true],
    ['content.body: across words, "-" separating ("An exciting triple-whammy")', 'An exciting triple-whammy', 'ex*ple', true],
    ['content.body: must end at a word boundary ("examples")', 'examples', 'ex*ple', false],
    ['content.body: must start at a word boundary ("pancake")', 'I like pancake', 'cake', false],
    ['content.body: punctuation is a boundary ("cake!")', 'Is there cake!', 'cake', true],
    ['content.body: "_" is a word character ("cake_time")', 'cake_time', 'cake', false],
    ['content.body: characters outside [A-Za-z0-9_] are boundaries ("écake")', 'écake', 'cake', true],
    ['content.body: case-insensitive', 'CAKE time', 'cake', true],
  ];
  for (const [name, value, pattern, expected] of body) {
    test(name, () => assert.equal(conditionMatches({ kind: 'event_match', key: 'content.body', pattern }, text(value), CTX), expected));
  }

  test('other keys match the whole value even when a word would match', () => {
    assert.equal(globMatches('cake', 'cake time', false), false);
    assert.equal(globMatches('cake', 'cake time', true), true);
  });
});

describe('event_property_is', () => {
  const create = ev('m.room.create', { creator: ALICE, 'm.federate': true, room_version: '1', nothing: null }, { state_key: '' });
  const cases: Array<[string, string, JsonObject['x'], boolean]> = [
    ['the spec example: content.m\\.federate is true', 'content.m\\.federate', true, true],
    ['a string "true" does not equal true', 'content.m\\.federate', 'true', false],
    ['1 does not equal true (no casting)', 'content.m\\.federate', 1, false],
    ['null matches a property that is null', 'content.nothing', null, true],
    ['null does not match an absent property', 'content.absent', null, false],
    ['a compound value never matches', 'content', null, false],
    ['strings match exactly, case included', 'content.room_version', '1', true],
  ];
  for (const [name, key, value, expected] of cases) {
    test(name, () => assert.equal(conditionMatches({ kind: 'event_property_is', key, value }, create, CTX), expected));
  }
});

describe('event_property_contains', () => {
  const aliases = ev(
    'm.room.canonical_alias',
    { alias: '#somewhere:localhost', alt_aliases: ['#somewhere:example.org', '#myroom:example.com', { x: 1 }], one: 'x' },
    { state_key: '' },
  );
  const cases: Array<[string, string, JsonObject['x'], boolean]> = [
    ['the spec example: alt_aliases contains "#myroom:example.com"', 'content.alt_aliases', '#myroom:example.com', true],
    ['partial values do not match', 'content.alt_aliases', ':example.com', false],
    ['a property that is not an array does not match', 'content.one', 'x', false],
    ['an absent property does not match', 'content.none', 'x', false],
  ];
  for (const [name, key, value, expected] of cases) {
    test(name, () => assert.equal(conditionMatches({ kind: 'event_property_contains', key, value }, aliases, CTX), expected));
  }
});

describe('dot-separated property paths (appendices)', () => {
  const cases: Array<[string, string[]]> = [
    ['content.body', ['content', 'body']],
    ['content.m\\.relates_to', ['content', 'm.relates_to']],
    ['content.m\\\\foo', ['content', 'm\\foo']],
    ['content.m\\xfoo', ['content', 'm\\xfoo']],
    ['content.m\\.mentions.user_ids', ['content', 'm.mentions', 'user_ids']],
  ];
  for (const [key, parts] of cases) test(`${key} splits into ${JSON.stringify(parts)}`, () => assert.deepEqual(splitPath(key), parts));
});

describe('contains_display_name (deprecated, still defined)', () => {
  const cases: Array<[string, string | null, string, boolean]> = [
    ['the display name as words in the body', 'Bob Smith', 'hey bob smith, look', true],
    ['not inside a longer word', 'Bob', 'bobsleigh today', false],
    ['regex characters in the name are literal', 'B.b', 'hey bob', false],
    ['no display name: no match', null, 'hey bob', false],
  ];
  for (const [name, displayName, body, expected] of cases) {
    test(name, () => assert.equal(conditionMatches({ kind: 'contains_display_name' }, text(body), { ...CTX, displayName }), expected));
  }
});

describe('room_member_count', () => {
  const cases: Array<[string, number, boolean]> = [
    ['2', 2, true],
    ['2', 3, false],
    ['==2', 2, true],
    ['<3', 2, true],
    ['<2', 2, false],
    ['>2', 3, true],
    ['>2', 2, false],
    ['>=2', 2, true],
    ['<=1', 2, false],
    ['<=10', 7, true],
    ['x', 2, false],
    ['=2', 2, false],
    ['', 2, false],
  ];
  for (const [is, count, expected] of cases) test(`is '${is}' with ${count} members: ${expected}`, () => assert.equal(memberCountMatches(is, count), expected));
});

describe('sender_notification_permission', () => {
  const cases: Array<[string, number, Record<string, number>, boolean]> = [
    ['room defaults to 50: a sender at 50 may', 50, {}, true],
    ['room defaults to 50: a sender at 49 may not', 49, {}, false],
    ['notifications.room lowered to 0: anyone may', 0, { room: 0 }, true],
    ['a v12 creator (infinite power) always may', Infinity, { room: 100 }, true],
  ];
  for (const [name, senderPowerLevel, notificationLevels, expected] of cases) {
    test(name, () =>
      assert.equal(
        conditionMatches({ kind: 'sender_notification_permission', key: 'room' }, text('@room'), { ...CTX, senderPowerLevel, notificationLevels }),
        expected,
      ),
    );
  }
});

test('an unrecognised condition kind matches nothing, disabling its rule', () => {
  assert.equal(conditionMatches({ kind: 'org.example.always' }, text('hi'), CTX), false);
  const rules = defaultPushRules(BOB);
  rules.override.unshift({
    rule_id: 'mine',
    default: false,
    enabled: true,
    conditions: [{ kind: 'org.example.always' }],
    actions: ['notify', { set_tweak: 'highlight' }],
  });
  assert.equal(outcome(text('hi'), {}, rules)?.ruleId, '.m.rule.message');
});

describe('predefined rules (push.md "Predefined Rules", v1.17)', () => {
  const withMaster = () => {
    const rules = defaultPushRules(BOB);
    rules.override[0]!.enabled = true;
    return rules;
  };
  // [rule expected to win (undefined: none), event, context, notify, highlight]
  const cases: Array<[string, string | undefined, JsonObject, Partial<PushContext>, boolean, boolean, PushRuleset?]> = [
    ['.m.rule.master, when enabled, silences everything', '.m.rule.master', text('hi', { 'm.mentions': { user_ids: [BOB] } }), {}, false, false, withMaster()],
    ['.m.rule.master is disabled by default', '.m.rule.message', text('hi'), {}, true, false],
    [
      '.m.rule.suppress_notices: an m.notice does not notify',
      '.m.rule.suppress_notices',
      ev('m.room.message', { msgtype: 'm.notice', body: 'bot' }),
      {},
      false,
      false,
    ],
    [
      '.m.rule.invite_for_me: an invite for the user notifies',
      '.m.rule.invite_for_me',
      ev('m.room.member', { membership: 'invite' }, { state_key: BOB }),
      {},
      true,
      false,
    ],
    [
      '.m.rule.member_event: an invite for someone else is silent',
      '.m.rule.member_event',
      ev('m.room.member', { membership: 'invite' }, { state_key: '@carol:example.org' }),
      {},
      false,
      false,
    ],
    ['.m.rule.member_event: a join is silent', '.m.rule.member_event', ev('m.room.member', { membership: 'join' }, { state_key: ALICE }), {}, false, false],
    [
      '.m.rule.is_user_mention: m.mentions.user_ids names the user',
      '.m.rule.is_user_mention',
      text('hi', { 'm.mentions': { user_ids: [BOB] } }),
      {},
      true,
      true,
    ],
    [
      '.m.rule.is_user_mention: naming someone else is a plain message',
      '.m.rule.message',
      text('hi', { 'm.mentions': { user_ids: ['@carol:example.org'] } }),
      {},
      true,
      false,
    ],
    [
      '.m.rule.is_room_mention: m.mentions.room from a sender with the power',
      '.m.rule.is_room_mention',
      text('all', { 'm.mentions': { room: true } }),
      { senderPowerLevel: 50 },
      true,
      true,
    ],
    [
      '.m.rule.is_room_mention: without the power it is a plain message',
      '.m.rule.message',
      text('all', { 'm.mentions': { room: true } }),
      { senderPowerLevel: 0 },
      true,
      false,
    ],
    [
      '.m.rule.tombstone: a room upgrade highlights',
      '.m.rule.tombstone',
      ev('m.room.tombstone', { body: 'moved', replacement_room: '!new:example.org' }, { state_key: '' }),
      {},
      true,
      true,
    ],
    ['.m.rule.tombstone: needs a state_key (no implicit one)', undefined, ev('m.room.tombstone', { body: 'moved' }), {}, false, false],
    [
      '.m.rule.reaction: reactions are silent',
      '.m.rule.reaction',
      ev('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$x', key: '👍' } }),
      {},
      false,
      false,
    ],
    [
      '.m.rule.room.server_acl: ACL changes are silent',
      '.m.rule.room.server_acl',
      ev('m.room.server_acl', { allow: ['*'] }, { state_key: '' }),
      {},
      false,
      false,
    ],
    [
      '.m.rule.suppress_edits: replacements are silent',
      '.m.rule.suppress_edits',
      text('* fixed', { 'm.relates_to': { rel_type: 'm.replace', event_id: '$x' }, 'm.new_content': { msgtype: 'm.text', body: 'fixed' } }),
      {},
      false,
      false,
    ],
    ['.m.rule.call: a call invite rings', '.m.rule.call', ev('m.call.invite', { call_id: 'c', version: 1 }), {}, true, false],
    [
      '.m.rule.encrypted_room_one_to_one: encrypted in a room of 2',
      '.m.rule.encrypted_room_one_to_one',
      ev('m.room.encrypted', { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'x' }),
      { memberCount: 2 },
      true,
      false,
    ],
    ['.m.rule.room_one_to_one: a message in a room of 2', '.m.rule.room_one_to_one', text('hi'), { memberCount: 2 }, true, false],
    ['.m.rule.message: a message in a group', '.m.rule.message', text('hi'), { memberCount: 5 }, true, false],
    [
      '.m.rule.encrypted: encrypted in a group',
      '.m.rule.encrypted',
      ev('m.room.encrypted', { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'x' }),
      { memberCount: 5 },
      true,
      false,
    ],
    [
      'v1.17 removed the body rules: the display name or user id in the body alone does not highlight',
      '.m.rule.message',
      text(`Bob Smith, ${BOB} and @room`),
      { senderPowerLevel: 100 },
      true,
      false,
    ],
    ['other event types match no rule', undefined, ev('m.room.topic', { topic: 'x' }, { state_key: '' }), {}, false, false],
  ];
  for (const [name, ruleId, event, ctx, notify, highlight, rules] of cases) {
    test(name, () => {
      const o = outcome(event, ctx, rules);
      assert.equal(o?.ruleId, ruleId);
      assert.equal(o?.notify ?? false, notify, 'notify');
      assert.equal(o?.highlight ?? false, highlight, 'highlight');
    });
  }

  test('the sounds the spec gives: default for invites and mentions, ring for calls', () => {
    assert.deepEqual(outcome(ev('m.call.invite', {}))?.actions, ['notify', { set_tweak: 'sound', value: 'ring' }]);
    assert.deepEqual(outcome(text('x', { 'm.mentions': { user_ids: [BOB] } }))?.actions, [
      'notify',
      { set_tweak: 'sound', value: 'default' },
      { set_tweak: 'highlight' },
    ]);
  });
});

describe('actions', () => {
  const ruleWith = (actions: JsonObject['x']): PushRuleset => {
    const rules = defaultPushRules(BOB);
    rules.override.unshift({ rule_id: 'r', default: false, enabled: true, conditions: [], actions });
    return rules;
  };
  test('dont_notify is ignored: ["dont_notify"] equals []', () => {
    const o = outcome(text('x'), {}, ruleWith(['dont_notify']));
    assert.deepEqual(o?.actions, []);
    assert.equal(o?.notify, false);
  });
  test('coalesce is ignored, notify kept', () => assert.deepEqual(outcome(text('x'), {}, ruleWith(['notify', 'coalesce']))?.actions, ['notify']));
  test('a highlight tweak without value is true', () =>
    assert.equal(outcome(text('x'), {}, ruleWith(['notify', { set_tweak: 'highlight' }]))?.highlight, true));
  test('a highlight tweak with value false is false', () =>
    assert.equal(outcome(text('x'), {}, ruleWith(['notify', { set_tweak: 'highlight', value: false }]))?.highlight, false));
  test('no highlight tweak is false', () =>
    assert.equal(outcome(text('x'), {}, ruleWith(['notify', { set_tweak: 'sound', value: 'default' }]))?.highlight, false));
});

describe('evaluation order: override, content, room, sender, underride; first enabled match wins', () => {
  const rules = (): PushRuleset => {
    const r = defaultPushRules(BOB);
    r.content.push({ rule_id: 'cake', default: false, enabled: true, pattern: 'cake', actions: ['notify', { set_tweak: 'highlight' }] });
    r.room.push({ rule_id: ROOM, default: false, enabled: true, actions: [] });
    r.sender.push({ rule_id: ALICE, default: false, enabled: true, actions: ['notify', { set_tweak: 'sound', value: 'alice' }] });
    return r;
  };
  test('override before content: a notice about cake is still suppressed', () =>
    assert.equal(outcome(ev('m.room.message', { msgtype: 'm.notice', body: 'cake' }), {}, rules())?.ruleId, '.m.rule.suppress_notices'));
  test('content before room: a keyword highlights in a muted room', () => assert.equal(outcome(text('cake!'), {}, rules())?.ruleId, 'cake'));
  test('room before sender: the room rule mutes alice too', () => assert.equal(outcome(text('hi'), {}, rules())?.ruleId, ROOM));
  test('sender before underride', () => {
    const r = rules();
    r.room = [];
    assert.equal(outcome(text('hi'), {}, r)?.ruleId, ALICE);
  });
  test('a disabled rule never matches', () => {
    const r = rules();
    r.content[0]!.enabled = false;
    assert.equal(outcome(text('cake!'), {}, r)?.ruleId, ROOM);
  });
  test('within a kind the first listed rule wins', () => {
    const r = defaultPushRules(BOB);
    r.content.push({ rule_id: 'tea', default: false, enabled: true, pattern: 'tea', actions: ['notify'] });
    r.content.push({ rule_id: 'time', default: false, enabled: true, pattern: 'time', actions: [] });
    assert.equal(outcome(text("It's time for tea"), {}, r)?.ruleId, 'tea');
  });
});

describe('effectiveRuleset: stored rules merged with the server defaults', () => {
  test('no stored rules: the defaults', () => assert.deepEqual(effectiveRuleset(BOB), defaultPushRules(BOB)));
  test('changes to server-default rules are kept; user rules come first but after .m.rule.master', () => {
    const stored = {
      override: [
        { rule_id: '.m.rule.master', default: true, enabled: true, conditions: [], actions: [] },
        { rule_id: 'mine', default: false, enabled: true, conditions: [], actions: ['notify'] },
        { rule_id: '.m.rule.suppress_notices', default: true, enabled: false, conditions: [], actions: ['notify'] },
      ],
      underride: [{ rule_id: '.m.rule.message', default: true, enabled: true, conditions: [], actions: [] }],
    };
    const rules = effectiveRuleset(BOB, stored);
    assert.deepEqual(
      rules.override.slice(0, 3).map((r) => [r.rule_id, r.enabled]),
      [
        ['.m.rule.master', true],
        ['mine', true],
        ['.m.rule.suppress_notices', false],
      ],
    );
    // The default's conditions come from today's definition; only enabled and actions are the user's.
    assert.deepEqual(rules.override[2]!.conditions, [{ kind: 'event_match', key: 'content.msgtype', pattern: 'm.notice' }]);
    assert.deepEqual(rules.underride.find((r) => r.rule_id === '.m.rule.message')!.actions, []);
    assert.equal(rules.override.length, defaultPushRules(BOB).override.length + 1);
  });
  test('stored rules a server no longer defines are dropped', () => {
    const rules = effectiveRuleset(BOB, {
      content: [{ rule_id: '.m.rule.contains_user_name', default: true, enabled: true, pattern: 'bob', actions: ['notify'] }],
    });
    assert.deepEqual(rules.content, []);
  });
});
