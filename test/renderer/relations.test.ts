// Replies, edits and reactions as the web client sends and reads them (renderer/src/lib/relations.ts),
// from client-server-api "Rich replies", "Event replacements" and "Event annotations and reactions".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  editContent,
  editHistory,
  groupReactions,
  isEditable,
  lastEditable,
  listNames,
  reactionContent,
  replyRelation,
  replyTarget,
  stripReplyFallback,
  type RelatedEventLike,
} from '../../renderer/src/lib/relations.ts';
import { messageText } from '../../renderer/src/lib/events.ts';
import { prepareEmoji, searchEmoji } from '../../renderer/src/lib/emoji.ts';

function ev(
  over: Partial<{ id: string; type: string; sender: string; content: Record<string, unknown>; ts: number; redacted: boolean; status: string | null }>,
): RelatedEventLike & {
  getPrevContent(): Record<string, unknown>;
  getStateKey(): undefined;
} {
  const e = { id: '$e', type: 'm.room.message', sender: '@alice:x', content: { msgtype: 'm.text', body: 'hi' }, ts: 1, redacted: false, status: null, ...over };
  return {
    getId: () => e.id,
    getType: () => e.type,
    getSender: () => e.sender,
    getContent: () => e.content,
    getPrevContent: () => ({}),
    getStateKey: () => undefined,
    getTs: () => e.ts,
    isRedacted: () => e.redacted,
    status: e.status,
  };
}

const reaction = (sender: string, key: string, ts: number, redacted = false) =>
  ev({ id: `$r${ts}`, type: 'm.reaction', sender, ts, redacted, content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$m', key } } });

test('a reply relates to its event with m.in_reply_to only, and is read back from any relates_to', () => {
  assert.deepEqual(replyRelation('$orig'), { 'm.relates_to': { 'm.in_reply_to': { event_id: '$orig' } } });
  assert.equal(replyTarget(replyRelation('$orig')), '$orig');
  // A threaded reply carries m.in_reply_to beside rel_type m.thread (client-server-api "Threading").
  assert.equal(replyTarget({ 'm.relates_to': { rel_type: 'm.thread', event_id: '$root', 'm.in_reply_to': { event_id: '$prev' } } }), '$prev');
  assert.equal(replyTarget({ body: 'x' }), null);
  assert.equal(replyTarget({ 'm.relates_to': { 'm.in_reply_to': { event_id: 42 } } }), null);
});

test("an older client's reply fallback is stripped from the body: the leading '> ' lines and the blank line after", () => {
  assert.equal(stripReplyFallback('> <@bob:x> Lunch?\n> second line\n\nSure, at one'), 'Sure, at one');
  assert.equal(stripReplyFallback('> <@bob:x> Lunch?\nSure'), 'Sure');
  // Only at the start: a quote further down is what was said.
  assert.equal(stripReplyFallback('Sure\n> quoted later'), 'Sure\n> quoted later');
  // '>' without the space is not the fallback's prefix.
  assert.equal(stripReplyFallback('>not a quote\nrest'), '>not a quote\nrest');
  // A body that is nothing but quote lines keeps them: nothing else would be left to show.
  assert.equal(stripReplyFallback('> only a quote'), '> only a quote');
});

test('messageText strips the fallback of replies only, so a plain message starting with "> " keeps its quote', () => {
  const reply = ev({ content: { msgtype: 'm.text', body: '> <@bob:x> Lunch?\n\nSure', 'm.relates_to': { 'm.in_reply_to': { event_id: '$l' } } } });
  assert.equal(messageText(reply), 'Sure');
  assert.equal(messageText(ev({ content: { msgtype: 'm.text', body: '> a quote\n\nmine' } })), '> a quote\n\nmine');
});

test('an edit carries the new text in m.new_content, "* text" as fallback, and notifies only the newly mentioned', () => {
  const c = editContent('$orig', 'Lunch at one, @bob', 'm.text', { user_ids: ['@bob:x', '@carol:x'] }, { user_ids: ['@carol:x'] });
  assert.deepEqual(c, {
    msgtype: 'm.text',
    body: '* Lunch at one, @bob',
    'm.new_content': { msgtype: 'm.text', body: 'Lunch at one, @bob', 'm.mentions': { user_ids: ['@bob:x', '@carol:x'] } },
    'm.mentions': { user_ids: ['@bob:x'] },
    'm.relates_to': { rel_type: 'm.replace', event_id: '$orig' },
  });
  assert.deepEqual(editContent('$o', 'x', 'm.emote')['m.mentions'], {}, 'nobody newly mentioned: an empty m.mentions, so no one is pinged by the edit');
});

test('a reaction is an m.annotation with the emoji as key', () => {
  assert.deepEqual(reactionContent('$m', '👍'), { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$m', key: '👍' } });
});

test('reactions group by key in order of first use, count each person once, skip redacted ones and find the own one', () => {
  const groups = groupReactions(
    [
      reaction('@bob:x', '👍', 1),
      reaction('@alice:x', '🎉', 2),
      reaction('@alice:x', '👍', 3),
      reaction('@bob:x', '👍', 4),
      reaction('@carol:x', '🎉', 5, true),
    ],
    '@alice:x',
  );
  assert.deepEqual(
    groups.map((g) => [g.key, g.senders, g.mine?.getId()]),
    [
      ['👍', ['@bob:x', '@alice:x'], '$r3'],
      ['🎉', ['@alice:x'], '$r2'],
    ],
  );
});

test('the same emoji with and without the variation selector is one reaction', () => {
  const groups = groupReactions([reaction('@bob:x', '👍', 1), reaction('@alice:x', '👍\uFE0F', 2)], '@alice:x');
  assert.equal(groups.length, 1);
  assert.deepEqual(groups[0]!.senders, ['@bob:x', '@alice:x']);
});

test('names are listed as a sentence', () => {
  assert.equal(listNames(['Bob']), 'Bob');
  assert.equal(listNames(['Bob', 'you']), 'Bob and you');
  assert.equal(listNames(['Bob', 'Carol', 'you']), 'Bob, Carol and you');
});

test('Up edits the own latest text message that is on the server, not an edit, a pending echo or a deleted one', () => {
  const mine = ev({ id: '$1', ts: 1 });
  const events = [
    mine,
    ev({ id: '$2', sender: '@bob:x', ts: 2 }),
    ev({ id: '$3', ts: 3, content: { msgtype: 'm.text', body: '* x', 'm.relates_to': { rel_type: 'm.replace', event_id: '$1' } } }),
    ev({ id: '$4', ts: 4, redacted: true }),
    ev({ id: '$5', ts: 5, content: { msgtype: 'm.image', body: 'cat.png' } }),
    ev({ id: '~6', ts: 6, status: 'sending' }),
  ];
  assert.equal(lastEditable(events, '@alice:x')?.getId(), '$1');
  assert.equal(lastEditable(events, '@carol:x'), undefined);
  assert.equal(isEditable(ev({ content: { msgtype: 'm.emote', body: 'waves' } }), '@alice:x'), true);
});

test("the edit history lists the original then each of the sender's edits, oldest first, ignoring others' edits", () => {
  const versions = editHistory(
    { content: { msgtype: 'm.text', body: '> <@b:x> q\n\nSee you at 6', 'm.relates_to': { 'm.in_reply_to': { event_id: '$q' } } }, sender: '@alice:x', ts: 1 },
    [
      { type: 'm.room.message', sender: '@alice:x', ts: 3, content: { body: '* See you at 8', 'm.new_content': { body: 'See you at 8' } } },
      { type: 'm.room.message', sender: '@mallory:x', ts: 4, content: { body: '* pwned', 'm.new_content': { body: 'pwned' } } },
      { type: 'm.room.message', sender: '@alice:x', ts: 2, content: { body: '* See you at 7', 'm.new_content': { body: 'See you at 7' } } },
    ],
  );
  assert.deepEqual(
    versions.map((v) => v.body),
    ['See you at 6', 'See you at 7', 'See you at 8'],
  );
});

test('emoji search finds "tada" as 🎉 first, matches word starts, and leaves out skin-tone components', () => {
  const all = prepareEmoji([
    { unicode: '🎉', label: 'party popper', tags: ['celebrate', 'tada'], group: 6, order: 2 },
    { unicode: '🥳', label: 'partying face', tags: ['celebration', 'party'], group: 0, order: 1 },
    { unicode: '🏻', label: 'light skin tone', tags: ['skin'], group: 2, order: 0 },
    { unicode: '🇦', label: 'regional indicator A' },
    { unicode: '😀', label: 'grinning face', tags: ['face', 'grin'], group: 0, order: 0, emoticon: ':D' },
  ]);
  assert.deepEqual(
    all.map((e) => e.unicode),
    ['😀', '🥳', '🎉'],
  );
  assert.deepEqual(
    searchEmoji(all, 'tada').map((e) => e.unicode),
    ['🎉'],
  );
  assert.deepEqual(
    searchEmoji(all, ':party').map((e) => e.unicode),
    ['🥳', '🎉'],
  );
  assert.deepEqual(
    searchEmoji(all, 'party popper').map((e) => e.unicode),
    ['🎉'],
  );
  assert.deepEqual(
    searchEmoji(all, ':D').map((e) => e.unicode),
    ['😀'],
  );
  assert.equal(searchEmoji(all, 'zzz').length, 0);
});

test('an edit with formatting carries the HTML in m.new_content, and a "* " fallback of it outside', () => {
  const c = editContent('$o', '**Lunch** at one', 'm.text', {}, {}, '<strong>Lunch</strong> at one') as Record<string, any>;
  assert.equal(c['m.new_content'].format, 'org.matrix.custom.html');
  assert.equal(c['m.new_content'].formatted_body, '<strong>Lunch</strong> at one');
  assert.equal(c.formatted_body, '* <strong>Lunch</strong> at one');
  assert.equal(
    editContent('$o', 'plain', 'm.text')['m.new_content'] && 'formatted_body' in (editContent('$o', 'plain', 'm.text')['m.new_content'] as object),
    false,
  );
});
