// Which members a composed message names (renderer/src/lib/mentions.ts), the m.mentions the
// web client sends so the server's intentional-mention push rules highlight for them (push.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findMentions } from '../../renderer/src/lib/mentions.ts';

const members = [
  { userId: '@alice:localhost', name: 'Alice Martin' },
  { userId: '@bob:localhost', name: 'Bob' },
  { userId: '@carol:localhost', name: null },
];

test('a member is named by display name as a whole word, in any case, or by user ID', () => {
  assert.deepEqual(findMentions('thanks bob!', members, '@alice:localhost', false), { user_ids: ['@bob:localhost'] });
  assert.deepEqual(findMentions('ask @carol:localhost and Bob', members, '@alice:localhost', false), { user_ids: ['@bob:localhost', '@carol:localhost'] });
});

test('a name inside a longer word, or the sender naming themself, is no mention', () => {
  assert.deepEqual(findMentions('Bobby and Alice Martin', members, '@alice:localhost', false), {});
});

test('@room counts only when the sender may notify the room', () => {
  assert.deepEqual(findMentions('@room lunch', members, '@alice:localhost', true), { room: true });
  assert.deepEqual(findMentions('@room lunch', members, '@alice:localhost', false), {});
  assert.deepEqual(findMentions('mail me@roomy.example', members, '@alice:localhost', true), {});
});
