// Thread summaries and thread membership of events (renderer/src/lib/threads.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canStartThread,
  countReplies,
  latestThreadReply,
  summarizeThread,
  threadListItems,
  threadReplyTo,
  threadRootOf,
} from '../../renderer/src/lib/threads.ts';
import type { EventLike } from '../../renderer/src/lib/events.ts';

function event(sender: string, content: Record<string, unknown>): EventLike {
  return {
    getType: () => 'm.room.message',
    getContent: () => content,
    getPrevContent: () => ({}),
    getSender: () => sender,
    getStateKey: () => undefined,
    getTs: () => 0,
  };
}
const names: Record<string, string> = { '@bob:x': 'Bob' };
const nameOf = (id: string) => names[id] ?? id;

test('a reply with rel_type m.thread belongs to its root; a reply or an edit does not make a thread', () => {
  const reply = event('@bob:x', {
    body: 'ok',
    'm.relates_to': { rel_type: 'm.thread', event_id: '$root', is_falling_back: true, 'm.in_reply_to': { event_id: '$root' } },
  });
  assert.equal(threadRootOf(reply), '$root');
  assert.equal(threadRootOf(event('@bob:x', { body: 'x', 'm.relates_to': { 'm.in_reply_to': { event_id: '$a' } } })), null);
  assert.equal(threadRootOf(event('@bob:x', { body: 'x', 'm.relates_to': { rel_type: 'm.replace', event_id: '$a' } })), null);
  assert.equal(threadRootOf(event('@bob:x', { body: 'x', 'm.relates_to': 'nonsense' })), null);
});

test('the summary counts the replies and quotes the last one with its sender', () => {
  const last = event('@bob:x', { msgtype: 'm.text', body: 'ok' });
  assert.deepEqual(summarizeThread({ length: 3, replyToEvent: last }, nameOf), { replies: 3, unread: false, text: '3 replies · last: Bob: ok' });
  assert.equal(summarizeThread({ length: 3, replyToEvent: last }, nameOf, 2)?.unread, true, 'unread replies mark the summary');
  assert.equal(summarizeThread({ length: 1, replyToEvent: last }, nameOf)?.text, '1 reply · last: Bob: ok');
});

test('a long or multi-line last reply is cut to one line', () => {
  const last = event('@bob:x', { msgtype: 'm.text', body: `first\nsecond ${'x'.repeat(200)}` });
  const text = summarizeThread({ length: 2, replyToEvent: last }, nameOf)!.text;
  assert.ok(text.startsWith('2 replies · last: Bob: first second x'));
  assert.ok(text.endsWith('…') && !text.includes('\n'));
});

test('no thread, or one with no replies yet, has no summary', () => {
  assert.equal(summarizeThread(null, nameOf), null);
  assert.equal(summarizeThread({ length: 0, replyToEvent: null }, nameOf), null);
});

test('a thread starts from any event without a rel_type, a rich reply included, and from nothing with one', () => {
  assert.equal(canStartThread(event('@a:x', { body: 'root' })), true);
  assert.equal(canStartThread(event('@a:x', { body: 'r', 'm.relates_to': { 'm.in_reply_to': { event_id: '$a' } } })), true);
  assert.equal(canStartThread(event('@a:x', { body: 'r', 'm.relates_to': { rel_type: 'm.thread', event_id: '$a' } })), false);
  assert.equal(canStartThread(event('@a:x', { body: 'r', 'm.relates_to': { rel_type: 'm.replace', event_id: '$a' } })), false);
});

test("the room list's latest thread reply is the newest sent one across threads", () => {
  const at = (ts: number, status: string | null = null) => ({ getTs: () => ts, status });
  const old = at(1);
  const newest = at(5);
  assert.equal(latestThreadReply([{ replyToEvent: old }, { replyToEvent: newest }, { replyToEvent: null }]), newest);
  assert.equal(latestThreadReply([{ replyToEvent: old }, { replyToEvent: at(9, 'sending') }]), old, 'a reply still being sent is not news yet');
  assert.equal(latestThreadReply([]), undefined);
});

test("a thread loaded back to its root counts its replies itself; otherwise the SDK's running count stands", () => {
  assert.equal(countReplies(3, true, 2), 2, "the SDK's count can run ahead of the replies (one counted twice)");
  assert.equal(countReplies(40, false, 30), 40, 'older replies not loaded yet still count');
  assert.equal(countReplies(0, false, 1), 1, 'a reply being sent counts before the SDK knows the thread');
});

test('in a thread, only a real reply quotes its event; the fallback for unthreaded clients does not', () => {
  const thread = { rel_type: 'm.thread', event_id: '$root' };
  assert.equal(
    threadReplyTo(event('@bob:x', { body: 'a', 'm.relates_to': { ...thread, is_falling_back: true, 'm.in_reply_to': { event_id: '$prev' } } })),
    null,
  );
  assert.equal(
    threadReplyTo(event('@bob:x', { body: 'a', 'm.relates_to': { ...thread, is_falling_back: false, 'm.in_reply_to': { event_id: '$quoted' } } })),
    '$quoted',
  );
  assert.equal(threadReplyTo(event('@bob:x', { body: 'a', 'm.relates_to': { ...thread, 'm.in_reply_to': { event_id: '$quoted' } } })), '$quoted');
  assert.equal(threadReplyTo(event('@bob:x', { body: 'a', 'm.relates_to': { ...thread, 'm.in_reply_to': { event_id: 7 } } })), null);
  assert.equal(threadReplyTo(event('@bob:x', { body: 'a' })), null);
});

test('the thread list shows threads with replies, the most recently active first, with root, count, latest reply and unread', () => {
  const at = (sender: string, body: string, ts: number): EventLike => ({ ...event(sender, { body }), getTs: () => ts });
  const threads = [
    { id: '$old', rootEvent: at('@bob:x', 'Old\nquestion', 1), length: 1, replyToEvent: at('@carol:x', 'answer', 5) },
    { id: '$new', rootEvent: at('@carol:x', 'Lunch?', 2), length: 3, replyToEvent: at('@bob:x', 'yes', 9) },
    { id: '$empty', rootEvent: at('@bob:x', 'nobody replied', 10), length: 0, replyToEvent: null },
  ];
  const items = threadListItems(threads, nameOf, (id) => (id === '$new' ? 2 : 0));
  assert.deepEqual(
    items.map((i) => [i.rootId, i.rootSender, i.rootText, i.replies, i.latest, i.unread]),
    [
      ['$new', '@carol:x', 'Lunch?', 3, 'Bob: yes', true],
      ['$old', 'Bob', 'Old question', 1, '@carol:x: answer', false],
    ],
  );
});
