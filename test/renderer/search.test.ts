// The pure parts of search (renderer/src/lib/search.ts): which words of a result are marked, the
// snippet a long result shows, and the room list's filter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterRoomLists, highlightSegments, matchesRoomFilter, snippet } from '../../renderer/src/lib/search.ts';

const marked = (text: string, terms: string[]) =>
  highlightSegments(text, terms)
    .map((s) => (s.match ? `[${s.text}]` : s.text))
    .join('');

test('every occurrence of a term is marked, in any case, keeping the original text', () => {
  assert.equal(marked('Budget: the budget is over BUDGET', ['budget']), '[Budget]: the [budget] is over [BUDGET]');
  assert.equal(marked('no match here', ['budget']), 'no match here');
  assert.equal(marked('', ['budget']), '');
  assert.equal(marked('anything', []), 'anything');
  assert.equal(marked('anything', ['  ']), 'anything');
});

test('accents are ignored both ways, and the marked text keeps its own accents', () => {
  assert.equal(marked('Un café à Zürich', ['cafe', 'zurich']), 'Un [café] à [Zürich]');
  assert.equal(marked('Un cafe', ['café']), 'Un [cafe]');
  // A decomposed é (e + combining acute) is kept whole inside the mark.
  assert.equal(marked('cafe\u0301 noir', ['cafe']), '[cafe\u0301] noir');
});

test('the longer of two overlapping terms wins, and text outside the BMP is not split', () => {
  assert.equal(marked('release notes', ['release', 'rel']), '[release] notes');
  assert.equal(marked('🎉 party 🎉', ['party']), '🎉 [party] 🎉');
});

test('a long message is cut around its first match, with ellipses where it was cut', () => {
  const text = `${'a'.repeat(1000)} needle ${'b'.repeat(1000)}`;
  const s = snippet(text, ['needle'], 100);
  assert.ok(s.startsWith('…') && s.endsWith('…'), s);
  assert.ok(s.includes('needle'));
  assert.ok(s.length <= 102);
  assert.equal(snippet('short', ['x'], 100), 'short');
  // Hangul syllables fold to longer jamo sequences: positions still map back to the text.
  const korean = `${'가'.repeat(300)}회의${'나'.repeat(300)}`;
  assert.ok(snippet(korean, ['회의'], 60).includes('회의'));
  // No match: the start of the message.
  assert.ok(snippet('c'.repeat(500), ['zzz'], 100).startsWith('ccc'));
});

test('the room filter keeps rooms whose name holds every word of the query, in any order, case or accent', () => {
  assert.equal(matchesRoomFilter('Garden club', 'gard'), true);
  assert.equal(matchesRoomFilter('Garden club', 'CLUB garden'), true);
  assert.equal(matchesRoomFilter('Garden club', 'garden party'), false);
  assert.equal(matchesRoomFilter('Équipe café', 'equipe cafe'), true);
  assert.equal(matchesRoomFilter('anything', '   '), true);
  const lists = { rooms: [{ name: 'Design team' }, { name: 'Garden club' }], invites: [{ name: 'Design review' }] };
  assert.deepEqual(filterRoomLists(lists, 'design'), { rooms: [{ name: 'Design team' }], invites: [{ name: 'Design review' }] });
  assert.equal(filterRoomLists(lists, ''), lists);
});

test('the room list puts direct chats under People, before the rooms, each keeping its order', async () => {
  const { splitPeople } = await import('../../renderer/src/lib/search.ts');
  const list = [
    { name: 'Design', isDirect: false },
    { name: 'Carol', isDirect: true },
    { name: 'Lobby', isDirect: false },
    { name: 'Bob', isDirect: true },
  ];
  assert.deepEqual(splitPeople(list), { people: [list[1], list[3]], rooms: [list[0], list[2]] });
});
