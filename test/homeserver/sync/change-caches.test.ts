// The in-memory change caches an incremental /sync consults before it queries: they may say
// "maybe" too often, never "nothing changed" when something did.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamChangeCache } from '../../../homeserver/sync/stream-change-cache.ts';
import { RecentEvents } from '../../../homeserver/rooms/recent-events.ts';

describe('StreamChangeCache', () => {
  test('names the keys changed after a position, and only those', () => {
    const c = new StreamChangeCache(10);
    c.record('!a', 11);
    c.record('!b', 12);
    c.record('!a', 13);
    assert.deepEqual([...c.changedSince(10)!].sort(), ['!a', '!b']);
    assert.deepEqual([...c.changedSince(12)!], ['!a']);
    assert.deepEqual([...c.changedSince(13)!], []);
    assert.equal(c.position, 13);
    assert.equal(c.mayHaveChanged('!b', 12), false);
    assert.equal(c.mayHaveChanged('!b', 11), true);
    assert.equal(c.mayHaveChanged('!never', 10), false);
  });

  test('a position before the start is unknown: the caller must query', () => {
    const c = new StreamChangeCache(10);
    c.record('!a', 11);
    assert.equal(c.changedSince(9), undefined);
    assert.equal(c.mayHaveChanged('!never', 9), true);
  });

  test('a change recorded out of order keeps the latest position per key', () => {
    const c = new StreamChangeCache(0);
    c.record('@u', 5);
    c.record('@u', 3);
    assert.equal(c.mayHaveChanged('@u', 4), true);
    assert.equal(c.position, 5);
  });
});

describe('RecentEvents', () => {
  test("a room's events after a position, newest first, up to the limit and the upper bound", () => {
    const r = new RecentEvents(100);
    for (let i = 101; i <= 110; i++) r.record('!a', i, `$${i}`);
    r.record('!b', 111, '$b');
    assert.deepEqual(r.between('!a', 107, 111, 10), ['$110', '$109', '$108']);
    assert.deepEqual(r.between('!a', 100, 109, 3), ['$109', '$108', '$107']);
    assert.deepEqual(r.between('!a', 110, 111, 10), []);
    assert.deepEqual(r.between('!b', 100, 111, 10), ['$b']);
  });

  test('a room without events since the start has none; before the start nothing is known', () => {
    const r = new RecentEvents(100);
    assert.deepEqual(r.between('!quiet', 100, 150, 10), []);
    assert.equal(r.between('!quiet', 99, 150, 10), undefined);
  });

  test('once old events are dropped, a position before them is unknown', () => {
    const r = new RecentEvents(0);
    for (let i = 1; i <= 100; i++) r.record('!a', i, `$${i}`);
    assert.equal(r.between('!a', 10, 100, 5), undefined, 'the first 36 were dropped (64 kept)');
    assert.deepEqual(r.between('!a', 95, 100, 10), ['$100', '$99', '$98', '$97', '$96']);
  });

  test('past the room limit, a dropped room is unknown before the current position', () => {
    const r = new RecentEvents(0);
    r.record('!first', 1, '$1');
    for (let i = 0; i < 2_000; i++) r.record(`!r${i}`, 2 + i, `$x${i}`);
    assert.equal(r.between('!first', 0, 5000, 10), undefined);
    assert.deepEqual(r.between('!first', 2001, 5000, 10), []);
  });
});
