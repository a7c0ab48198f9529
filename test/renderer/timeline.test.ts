// The renderer's pure helpers, in plain Node: how the timeline is grouped and labelled, how
// events read as text, and which words each standard Matrix error gets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildTimeline, clockTime, dayLabel, GROUP_GAP_MS, initials, linkify, safeTs, shortTime } from '../../renderer/src/lib/timeline.ts';
import { describeEvent, isEdited, messageText, type EventLike } from '../../renderer/src/lib/events.ts';
import { describeError } from '../../renderer/src/lib/errors.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 10, 9, 0);

function ev(
  type: string,
  sender: string,
  ts: number,
  content: Record<string, unknown> = {},
  stateKey?: string,
  prev: Record<string, unknown> = {},
): EventLike & { id: string } {
  return {
    id: `${type}-${sender}-${ts}`,
    getType: () => type,
    getContent: () => content,
    getPrevContent: () => prev,
    getSender: () => sender,
    getStateKey: () => stateKey,
    getTs: () => ts,
  };
}
const msg = (sender: string, ts: number, body = 'hi') => ev('m.room.message', sender, ts, { msgtype: 'm.text', body });
const keyOf = (e: { id: string }) => e.id;
const nameOf = (id: string) => ({ '@a:x': 'Alice', '@b:x': 'Bob' })[id] ?? id;

describe('buildTimeline', () => {
  test('consecutive messages from one sender within five minutes are grouped; a gap, another sender or a notice breaks the group', () => {
    const items = buildTimeline(
      [
        msg('@a:x', T0),
        msg('@a:x', T0 + 60_000),
        msg('@b:x', T0 + 120_000),
        msg('@a:x', T0 + 180_000),
        msg('@a:x', T0 + 180_000 + GROUP_GAP_MS),
        ev('m.room.member', '@b:x', T0 + 400_000, { membership: 'leave' }, '@b:x', { membership: 'join' }),
        msg('@a:x', T0 + 401_000),
      ],
      keyOf,
      new Date(T0),
    );
    assert.deepEqual(
      items.map((i) => (i.kind === 'message' ? (i.continuation ? 'cont' : 'head') : i.kind)),
      ['day', 'head', 'cont', 'head', 'head', 'head', 'notice', 'head'],
    );
  });

  test('a day separator starts each calendar day, labelled Today, Yesterday, then by date', () => {
    const now = new Date(T0 + 2 * DAY);
    const items = buildTimeline([msg('@a:x', T0), msg('@a:x', T0 + 60_000), msg('@a:x', T0 + DAY), msg('@a:x', T0 + 2 * DAY)], keyOf, now);
    const days = items.filter((i) => i.kind === 'day').map((i) => (i as { label: string }).label);
    assert.equal(days.length, 3);
    assert.deepEqual(days.slice(1), ['Yesterday', 'Today']);
    assert.equal(items.filter((i) => i.kind === 'message' && i.continuation).length, 1, 'a new day starts a new group');
  });

  test("the room's creation and the creator's first settings fold into one item; the next person's join does not", () => {
    const items = buildTimeline(
      [
        ev('m.room.create', '@a:x', T0, {}, ''),
        ev('m.room.member', '@a:x', T0 + 1, { membership: 'join' }, '@a:x'),
        ev('m.room.name', '@a:x', T0 + 2, { name: 'Plans' }, ''),
        ev('m.room.member', '@a:x', T0 + 3, { membership: 'invite' }, '@b:x'),
        ev('m.room.member', '@b:x', T0 + 4, { membership: 'join' }, '@b:x', { membership: 'invite' }),
      ],
      keyOf,
      new Date(T0),
    );
    assert.deepEqual(
      items.map((i) => i.kind),
      ['day', 'creation', 'notice'],
    );
    const creation = items[1] as { settings: unknown[] };
    assert.equal(creation.settings.length, 3);
  });

  test('events a chat does not show (power levels, join rules, unknown types) are left out', () => {
    const items = buildTimeline([ev('m.room.power_levels', '@a:x', T0, {}, ''), ev('org.example.custom', '@a:x', T0)], keyOf, new Date(T0));
    assert.deepEqual(items, []);
  });
  test('an m.replace edit is not an item of its own (its original shows the new content); an encrypted event is a message', () => {
    const edit = ev('m.room.message', '@a:x', T0 + 1000, {
      msgtype: 'm.text',
      body: '* fixed',
      'm.new_content': { msgtype: 'm.text', body: 'fixed' },
      'm.relates_to': { rel_type: 'm.replace', event_id: '$orig' },
    });
    const encrypted = ev('m.room.encrypted', '@b:x', T0 + 2000, { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'x' });
    const items = buildTimeline([msg('@a:x', T0, 'fixd'), edit, encrypted], keyOf, new Date(T0));
    assert.deepEqual(
      items.map((i) => (i.kind === 'message' ? i.event.getType() : i.kind)),
      ['day', 'm.room.message', 'm.room.encrypted'],
    );
  });
});

describe('describeEvent', () => {
  const cases: Array<[string, EventLike, string]> = [
    ['a join', ev('m.room.member', '@b:x', T0, { membership: 'join', displayname: 'Bob' }, '@b:x'), 'Bob joined'],
    ['an invite', ev('m.room.member', '@a:x', T0, { membership: 'invite' }, '@b:x'), 'Alice invited Bob'],
    ['a declined invite', ev('m.room.member', '@b:x', T0, { membership: 'leave' }, '@b:x', { membership: 'invite' }), 'Bob declined the invite'],
    ['a kick', ev('m.room.member', '@a:x', T0, { membership: 'leave' }, '@b:x', { membership: 'join' }), 'Alice removed Bob'],
    [
      'a rename of a person',
      ev('m.room.member', '@b:x', T0, { membership: 'join', displayname: 'Robert' }, '@b:x', { membership: 'join', displayname: 'Bob' }),
      'Bob is now Robert',
    ],
    ['a topic', ev('m.room.topic', '@a:x', T0, { topic: 'Lunch' }, ''), 'Alice set the topic: Lunch'],
    ['an emote', ev('m.room.message', '@a:x', T0, { msgtype: 'm.emote', body: 'waves' }), '* Alice waves'],
  ];
  for (const [what, event, expected] of cases) {
    test(`${what} reads "${expected}"`, () => assert.equal(describeEvent(event, nameOf), expected));
  }
  test('a message preview names its sender', () => {
    assert.equal(describeEvent(msg('@b:x', T0, 'hello'), nameOf, true), 'Bob: hello');
  });
  test('an unreadable encrypted event, a failed decryption and a deleted message read as placeholders, never as nothing', () => {
    assert.equal(describeEvent(ev('m.room.encrypted', '@b:x', T0, { ciphertext: 'x' }), nameOf, true), 'Bob: Unable to decrypt this message');
    const failed = { ...msg('@b:x', T0, '** Unable to decrypt: no keys **'), isDecryptionFailure: () => true };
    assert.equal(messageText(failed), 'Unable to decrypt this message');
    const deleted = { ...ev('m.room.encrypted', '@b:x', T0, {}), isRedacted: () => true };
    assert.equal(messageText(deleted), 'Message deleted');
  });
  test('an edited message is marked edited until it is deleted', () => {
    const edited = { ...msg('@a:x', T0, 'fixed'), replacingEvent: () => ({}) };
    assert.equal(isEdited(edited), true);
    assert.equal(isEdited({ ...edited, isRedacted: () => true }), false);
    assert.equal(isEdited(msg('@a:x', T0)), false);
  });
});

describe('describeError', () => {
  const sdkError = (errcode: string, error: string, extra: Record<string, unknown> = {}) => ({ errcode, httpStatus: 400, data: { errcode, error, ...extra } });
  const cases: Array<[string, unknown, 'login' | 'register' | 'join' | 'dm' | 'general', RegExp]> = [
    ['M_FORBIDDEN at sign-in', sdkError('M_FORBIDDEN', 'Invalid username or password'), 'login', /^Wrong username or password\.$/],
    ['M_USER_IN_USE', sdkError('M_USER_IN_USE', 'User ID already taken'), 'register', /username is taken/],
    ['M_INVALID_USERNAME', sdkError('M_INVALID_USERNAME', 'bad'), 'register', /may only use/],
    ['M_LIMIT_EXCEEDED with retry_after_ms', sdkError('M_LIMIT_EXCEEDED', 'slow down', { retry_after_ms: 2500 }), 'login', /Try again in 3 s/],
    ['M_FORBIDDEN for a registration token', sdkError('M_FORBIDDEN', 'Invalid registration token'), 'register', /registration token is not valid/],
    ['M_NOT_FOUND on join', sdkError('M_NOT_FOUND', 'no alias'), 'join', /No room has that address/],
    ['M_NOT_FOUND for a DM', sdkError('M_NOT_FOUND', 'Profile not found'), 'dm', /No user has that ID/],
    ['an unknown errcode keeps the server words', sdkError('M_SOMETHING_NEW', 'The server explains'), 'general', /^The server explains$/],
  ];
  for (const [what, err, context, expected] of cases) {
    test(`${what} is shown as ${expected}`, () => assert.match(describeError(err, context).message, expected));
  }
  test("the server's own words and errcode are kept as the detail", () => {
    assert.equal(describeError(sdkError('M_USER_IN_USE', 'User ID already taken'), 'register').detail, 'User ID already taken (M_USER_IN_USE)');
  });
  test('a network failure says the server cannot be reached', () => {
    assert.match(describeError(Object.assign(new Error('fetch failed'), { name: 'ConnectionError' })).message, /Can't reach the server/);
  });
});

describe('small formatting helpers', () => {
  test('initials take up to two words and skip sigils and the server part', () => {
    assert.equal(initials('Design team'), 'DT');
    assert.equal(initials('@bob:localhost'), 'B');
    assert.equal(initials('#general'), 'G');
    assert.equal(initials(''), '?');
  });
  test('linkify splits out http(s) links without trailing punctuation, leaving other text as is', () => {
    assert.deepEqual(linkify('see https://example.org/a?b=1. or javascript:alert(1)'), [
      { text: 'see ' },
      { text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { text: '. or javascript:alert(1)' },
    ]);
  });
  test('the room list time is the clock today and a weekday within the week', () => {
    const now = new Date(T0 + 3 * DAY);
    assert.match(shortTime(T0 + 3 * DAY - 60_000, now), /\d{1,2}:\d{2}/);
    assert.doesNotMatch(shortTime(T0, now), /\d{1,2}:\d{2}/);
    assert.equal(dayLabel(new Date(T0), new Date(T0 + 1000)), 'Today');
  });
});

test("an event time no Date can hold (another server's origin_server_ts) does not break the timeline", () => {
  const keyOf = (e: EventLike) => String(e.getTs());
  for (const ts of [1e17, -1e17, Number.NaN, Number.POSITIVE_INFINITY]) {
    const items = buildTimeline([msg('@a:x', ts)], keyOf, new Date(0));
    assert.equal(items.filter((i) => i.kind === 'message').length, 1);
    assert.equal(safeTs(ts), 0);
    assert.doesNotThrow(() => new Date(safeTs(ts)).toISOString());
    assert.ok(clockTime(safeTs(ts)));
  }
  assert.equal(safeTs(1_700_000_000_000), 1_700_000_000_000);
});
