// The bounded cache of rooms/lru.ts: it never holds more than its capacity, keeps what was read
// recently, and says when it dropped entries.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lru } from '../../../homeserver/rooms/lru.ts';

describe('Lru', () => {
  test('never holds more than its capacity', () => {
    const c = new Lru<number, number>(10);
    for (let i = 0; i < 1000; i++) {
      c.set(i, i);
      assert.ok(c.size <= 10, `size ${c.size} after ${i + 1} inserts`);
    }
    assert.equal(c.get(999), 999);
  });

  test('an entry read while newer ones arrive survives; one never read is dropped', () => {
    const c = new Lru<string, number>(10);
    c.set('kept', 1);
    c.set('unread', 2);
    for (let i = 0; i < 100; i++) {
      c.set(`x${i}`, i);
      assert.equal(c.get('kept'), 1, `after ${i + 1} newer entries`);
    }
    assert.equal(c.get('unread'), undefined);
  });

  test('set replaces a value; delete and clear remove', () => {
    const c = new Lru<string, number>(4);
    c.set('a', 1);
    c.set('a', 2);
    assert.equal(c.get('a'), 2);
    assert.equal(c.size, 1);
    c.set('b', 3);
    c.delete('a');
    assert.equal(c.get('a'), undefined);
    c.clear();
    assert.equal(c.get('b'), undefined);
    assert.equal(c.size, 0);
  });

  test('onDrop is called each time entries are dropped, not before', () => {
    let drops = 0;
    const c = new Lru<number, number>(4, () => drops++);
    for (let i = 0; i < 4; i++) c.set(i, i);
    assert.equal(drops, 0, 'full, nothing dropped yet');
    c.set(4, 4);
    c.set(5, 5);
    assert.equal(drops, 1);
  });

  test('weighed, it never holds more than its capacity in weight, however the values are sized', () => {
    const c = new Lru<number, number[]>(100, undefined, (v) => v.length);
    for (let i = 0; i < 1000; i++) {
      c.set(i, new Array<number>(1 + (i % 30)).fill(i));
      assert.ok(c.weight <= 100 + 30, `weight ${c.weight} after ${i + 1} inserts`);
    }
    assert.ok(c.size < 100, `${c.size} entries`);
    c.set(999, [1]);
    c.delete(998);
    let sum = 0;
    for (let i = 0; i < 1000; i++) sum += c.get(i)?.length ?? 0;
    assert.equal(c.weight, sum);
  });
});
