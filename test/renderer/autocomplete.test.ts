// The composer's @-autocomplete (renderer/src/lib/autocomplete.ts): which `@query` is being
// typed, which members it matches, and the text once one is picked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { insertMention, matchMembers, mentionQuery } from '../../renderer/src/lib/autocomplete.ts';

const members = [
  { userId: '@alice:localhost', name: 'Alice Martin' },
  { userId: '@bob:localhost', name: 'Bob Chen' },
  { userId: '@robert:localhost', name: 'Robert Bobbins' },
  { userId: '@carol:localhost', name: 'Carol' },
];

test('an @ at the start of a word opens a query up to the caret; one inside an address or after a space does not', () => {
  assert.deepEqual(mentionQuery('hi @bo', 6), { start: 3, query: 'bo' });
  assert.deepEqual(mentionQuery('@', 1), { start: 0, query: '' });
  assert.deepEqual(mentionQuery('(@car) later', 5), { start: 1, query: 'car' });
  assert.equal(mentionQuery('mail me@example.org', 19), null);
  assert.equal(mentionQuery('hi @bob and', 11), null);
  assert.equal(mentionQuery('no at sign', 10), null);
});

test('members match by name or user ID prefix first, then a word of the name, then anywhere; never the sender', () => {
  assert.deepEqual(
    matchMembers('bo', members, '@alice:localhost').map((m) => m.userId),
    ['@bob:localhost', '@robert:localhost'],
  );
  assert.deepEqual(
    matchMembers('ROB', members, '@alice:localhost').map((m) => m.userId),
    ['@robert:localhost'],
  );
  assert.deepEqual(
    matchMembers('', members, '@alice:localhost').map((m) => m.userId),
    ['@bob:localhost', '@carol:localhost', '@robert:localhost'],
  );
  assert.deepEqual(matchMembers('ali', members, '@alice:localhost'), []);
  assert.equal(
    matchMembers(
      '',
      Array.from({ length: 30 }, (_, i) => ({ userId: `@u${i}:x`, name: `U${i}` })),
      '@me:x',
    ).length,
    8,
  );
});

test('a pick replaces the @query with the name and one space, and puts the caret after it', () => {
  assert.deepEqual(insertMention('hi @bo', { start: 3, query: 'bo' }, 'Bob Chen'), { text: 'hi Bob Chen ', caret: 12 });
  assert.deepEqual(insertMention('hi @bo see you', { start: 3, query: 'bo' }, 'Bob Chen'), { text: 'hi Bob Chen see you', caret: 12 });
});
