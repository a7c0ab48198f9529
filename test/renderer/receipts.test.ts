// Where read-receipt avatars go and where unread messages start (renderer/src/lib/receipts.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstUnread, foldReaders, placeReceipts, readByLabel, type EventView } from '../../renderer/src/lib/receipts.ts';

const ev = (id: string, sender: string, hasRow = true): EventView => ({ id, sender, hasRow });
const events = [ev('$join', '@bob:x', false), ev('$1', '@alice:x'), ev('$2', '@alice:x'), ev('$name', '@alice:x', false), ev('$3', '@bob:x')];

test('each receipt sits under the event its reader has read up to', () => {
  const placed = placeReceipts(
    events,
    new Map([
      ['@bob:x', '$2'],
      ['@carol:x', '$2'],
      ['@dan:x', '$3'],
    ]),
  );
  assert.deepEqual(Object.fromEntries(placed), { $2: ['@bob:x', '@carol:x'], $3: ['@dan:x'] });
});

test('a receipt on an event without a row moves back to the nearest earlier row', () => {
  assert.deepEqual(Object.fromEntries(placeReceipts(events, new Map([['@bob:x', '$name']]))), { $2: ['@bob:x'] });
});

test('a receipt on an event not loaded, or before every row, shows nowhere', () => {
  assert.deepEqual(placeReceipts(events, new Map([['@bob:x', '$older']])).size, 0);
  assert.deepEqual(placeReceipts(events, new Map([['@bob:x', '$join']])).size, 0);
});

test('at most three avatars: a fourth reader and more fold into "+n"', () => {
  assert.deepEqual(foldReaders(['a', 'b', 'c']), { shown: ['a', 'b', 'c'], more: 0 });
  assert.deepEqual(foldReaders(['a', 'b', 'c', 'd']), { shown: ['a', 'b'], more: 2 });
  assert.deepEqual(foldReaders(['a', 'b', 'c', 'd', 'e', 'f']), { shown: ['a', 'b'], more: 4 });
});

test('the accessible name lists every reader', () => {
  assert.equal(readByLabel(['Bob', 'Carol']), 'Read by Bob, Carol');
});

test('the first unread is the first message from someone else after the marker', () => {
  assert.deepEqual(firstUnread(events, '$1', '@alice:x'), { found: true, id: '$3' });
  assert.deepEqual(firstUnread(events, '$1', '@bob:x'), { found: true, id: '$2' });
});

test('nothing after the marker, or no marker, means nothing unread; a marker not loaded asks for more history', () => {
  assert.deepEqual(firstUnread(events, '$3', '@alice:x'), { found: true, id: null });
  assert.deepEqual(firstUnread(events, undefined, '@alice:x'), { found: true, id: null });
  assert.deepEqual(firstUnread(events, '$older', '@alice:x'), { found: false, id: null });
});
