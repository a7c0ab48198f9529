// Timeline rows keep their object while nothing they show changes (renderer/src/lib/row-reuse.ts),
// so that Svelte's keyed {#each}, which compares rows by identity, re-renders only what changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RowReuse } from '../../renderer/src/lib/row-reuse.ts';

interface Row {
  key: string;
  text: string;
  status?: string;
  lines?: string[];
}

test('an equal row is the previous object; a new row and a changed one are the new objects', () => {
  const reuse = new RowReuse<Row>();
  const first = reuse.reuse([
    { key: 'a', text: 'hello' },
    { key: 'b', text: 'there', status: 'sending' },
  ]);
  const next = [
    { key: 'z', text: 'older' },
    { key: 'a', text: 'hello' },
    { key: 'b', text: 'there', status: 'sent' },
  ];
  const second = reuse.reuse(next);
  assert.equal(second[0], next[0], 'a new row is itself');
  assert.equal(second[1], first[0], 'an unchanged row keeps its object');
  assert.equal(second[2], next[2], 'a row whose status changed is the new object');
  assert.deepEqual(second, next, 'the rows say what the new ones say');
});

test('arrays of equal items count as equal; a field added or removed does not', () => {
  const reuse = new RowReuse<Row>();
  const [first] = reuse.reuse([{ key: 'c', text: 'created', lines: ['named it', 'set a topic'] }]);
  assert.equal(reuse.reuse([{ key: 'c', text: 'created', lines: ['named it', 'set a topic'] }])[0], first);
  const changed = { key: 'c', text: 'created', lines: ['named it', 'set a topic', 'made it public'] };
  assert.equal(reuse.reuse([changed])[0], changed);
  const fewer = { key: 'c', text: 'created' };
  assert.equal(reuse.reuse([fewer])[0], fewer);
});

test('a row that left the list is forgotten: coming back, it is the new object', () => {
  const reuse = new RowReuse<Row>();
  reuse.reuse([{ key: 'a', text: 'hi' }]);
  reuse.reuse([]);
  const again = { key: 'a', text: 'hi' };
  assert.equal(reuse.reuse([again])[0], again);
});

test('a row whose plain-object fields (content, readers) are rebuilt equal keeps its object; a changed reader makes it new', () => {
  const reuse = new RowReuse<{ key: string; content: { html: string | null }; readers: Array<{ userId: string }> }>();
  const first = reuse.reuse([{ key: 'a', content: { html: '<b>x</b>' }, readers: [{ userId: '@b:x' }] }]);
  const again = reuse.reuse([{ key: 'a', content: { html: '<b>x</b>' }, readers: [{ userId: '@b:x' }] }]);
  assert.equal(again[0], first[0]);
  const changed = reuse.reuse([{ key: 'a', content: { html: '<b>x</b>' }, readers: [{ userId: '@c:x' }] }]);
  assert.notEqual(changed[0], first[0]);
});
