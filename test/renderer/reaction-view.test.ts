// What a message's reaction buttons show (renderer/src/lib/reaction-view.ts): plain values, so
// that the timeline keeps a row unchanged while its reactions are (lib/row-reuse.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reactionView } from '../../renderer/src/lib/reaction-view.ts';
import { RowReuse } from '../../renderer/src/lib/row-reuse.ts';
import type { RelatedEventLike } from '../../renderer/src/lib/relations.ts';

function reaction(sender: string, key: string, ts: number, redacted = false): RelatedEventLike {
  return {
    getId: () => `$r${ts}`,
    getType: () => 'm.reaction',
    getSender: () => sender,
    getContent: () => ({ 'm.relates_to': { rel_type: 'm.annotation', event_id: '$m', key } }),
    getTs: () => ts,
    isRedacted: () => redacted,
    status: null,
  };
}

const names: Record<string, string> = { '@bob:x': 'Bob', '@carol:x': 'Carol' };
const nameOf = (id: string) => names[id] ?? id;

test('reactions group by emoji in first-use order, with counts, "you" for the user, and who reacted', () => {
  const view = reactionView(
    [reaction('@bob:x', '👍', 1), reaction('@carol:x', '🎉', 2), reaction('@me:x', '👍', 3), reaction('@carol:x', '👍', 4, true)],
    '@me:x',
    nameOf,
  );
  assert.deepEqual(view, [
    { key: '👍', count: 2, mine: true, who: 'Bob and you reacted with 👍' },
    { key: '🎉', count: 1, mine: false, who: 'Carol reacted with 🎉' },
  ]);
});

test('no annotations: no reactions', () => {
  assert.deepEqual(reactionView(undefined, '@me:x', nameOf), []);
  assert.deepEqual(reactionView([], '@me:x', nameOf), []);
});

test('a row whose reactions are worked out again but equal keeps its object; a new reaction makes a new row', () => {
  const reuse = new RowReuse<{ key: string; reactions: ReturnType<typeof reactionView> }>();
  const a = [reaction('@bob:x', '👍', 1)];
  const [first] = reuse.reuse([{ key: 'ev1', reactions: reactionView(a, '@me:x', nameOf) }]);
  const [again] = reuse.reuse([{ key: 'ev1', reactions: reactionView(a, '@me:x', nameOf) }]);
  assert.equal(again, first, 'equal reactions: the same row object, nothing to re-render');
  const [changed] = reuse.reuse([{ key: 'ev1', reactions: reactionView([...a, reaction('@carol:x', '👍', 2)], '@me:x', nameOf) }]);
  assert.notEqual(changed, first);
  assert.equal(changed!.reactions[0]!.count, 2);
});
