// The event reader (rooms/event-reader.ts) against a real SQLite file: many events are read in a
// few queries, a state group at the end of a long delta chain in two, and what one initial /sync
// of 2,000 small rooms reads (about 36,000 events and 22,000 state groups) stays cached, so the
// next sync reads none of it again (issue 13: below that, a sync re-read everything, one query at a
// time, and its cost per room rose eightfold from 10 to 1,000 rooms). Queries are counted by a
// Queryable that passes each one on to the real reader connection.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../../homeserver/storage/database.ts';
import type { Queryable } from '../../../homeserver/storage/sqlite.ts';
import { stateGroupsStore } from '../../../homeserver/storage/events-store.ts';
import { EventReader } from '../../../homeserver/rooms/event-reader.ts';

/** A sync's working set at 2,000 rooms, as the reader's caches are sized for (see event-reader.ts). */
const SYNC_EVENTS = 36_000;
const SYNC_ROOMS = 2_000;
const GROUPS_PER_ROOM = 11;
const CHAIN = 50;

function counting(q: Queryable): { q: Queryable; queries: () => number } {
  let n = 0;
  const counted: Queryable = {
    get: (sql, ...p) => (n++, q.get(sql, ...p)),
    all: (sql, ...p) => (n++, q.all(sql, ...p)),
    run: (sql, ...p) => (n++, q.run(sql, ...p)),
    defer: (sql, ...p) => q.defer(sql, ...p),
    nextKey: (t, c) => q.nextKey(t, c),
  };
  return { q: counted, queries: () => n };
}

describe('EventReader reads in batches and keeps a sync’s working set', () => {
  let dir: string;
  let db: Database;
  const eventIds: string[] = [];
  /** Each room's groups, oldest first: each a delta of one entry against the one before. */
  const roomGroups: number[][] = [];
  const longChain: number[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-event-reader-'));
    db = await Database.open(join(dir, 'hearth.sqlite'));
    for (let i = 0; i < SYNC_EVENTS; i++) eventIds.push(`$e${i}`);
    await db.write(async (tx) => {
      for (let i = 0; i < SYNC_EVENTS; i += 500) {
        const rows = eventIds.slice(i, i + 500);
        await tx.run(
          `INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, origin_server_ts, json) VALUES ${rows.map(() => "(?, ?, '!r:hs', 'm.room.message', '@a:hs', 1, 0, ?)").join(', ')}`,
          ...rows.flatMap((id, j) => [i + j + 1, id, JSON.stringify({ type: 'm.room.message', sender: '@a:hs', content: { body: id } })]),
        );
      }
      for (let r = 0; r < SYNC_ROOMS; r++) {
        const groups: number[] = [];
        for (let g = 0; g < GROUPS_PER_ROOM; g++) {
          groups.push(await stateGroupsStore.insertGroup(tx, `!r${r}:hs`, groups.at(-1) ?? null, g, [['m.room.member', `@u${g}:hs`, `$m${r}-${g}`]]));
        }
        roomGroups.push(groups);
      }
      for (let g = 0; g <= CHAIN; g++) {
        longChain.push(
          await stateGroupsStore.insertGroup(tx, '!long:hs', longChain.at(-1) ?? null, g, [
            ['m.room.topic', '', `$t${g}`],
            ['m.room.member', `@u${g}:hs`, `$j${g}`],
          ]),
        );
      }
    });
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('1,000 events not cached are read in a few queries, in the order asked for', async () => {
    const reader = new EventReader();
    const { q, queries } = counting(db.reader);
    const ids = [...eventIds.slice(0, 999), '$missing', eventIds[5]!].reverse();
    const events = await reader.getEvents(q, ids);
    assert.ok(queries() <= 5, `${queries()} queries`);
    assert.deepEqual(
      events.map((e) => e.eventId),
      ids.filter((id) => id !== '$missing'),
    );
    assert.equal(events[0]!.pdu.content.body, eventIds[5]);
  });

  test('the state at the end of a 50-group delta chain is read in two queries', async () => {
    const reader = new EventReader();
    const { q, queries } = counting(db.reader);
    const state = await reader.stateOfGroup(q, longChain.at(-1)!);
    assert.equal(queries(), 2);
    assert.equal(state.size, CHAIN + 2);
    assert.equal(state.get('m.room.topic\u0000'), `$t${CHAIN}`);
    // The groups on the way were kept: the one below is read without a query.
    assert.equal((await reader.stateOfGroup(q, longChain.at(-2)!)).get('m.room.topic\u0000'), `$t${CHAIN - 1}`);
    assert.equal(queries(), 2);
  });

  test('a 2,000-room sync’s events and state groups, read twice, are read from SQLite once', async () => {
    const reader = new EventReader();
    const { q, queries } = counting(db.reader);
    const readAll = async () => {
      for (let i = 0; i < SYNC_EVENTS; i += 18) await reader.getEvents(q, eventIds.slice(i, i + 18));
      for (const groups of roomGroups) for (const g of groups) await reader.stateOfGroup(q, g);
    };
    await readAll();
    const first = queries();
    await readAll();
    assert.equal(queries() - first, 0, `the second pass asked ${queries() - first} queries (the first ${first})`);
  });
});
