// Migrations 012 and 013 on a real SQLite file that holds version 11's per-user push actions: the
// log keeps every notification with its actions, and the unread counts read from it equal what
// version 11 computed at read time (after each user's receipts, unthreaded or in the thread, and
// their own latest event in the thread).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../../homeserver/storage/sqlite.ts';
import { MIGRATIONS, runMigrations } from '../../../homeserver/storage/migrations/run.ts';
import { openSchemaAtVersion } from './schema-at-version.ts';
import { notificationOf, pushStore } from '../../../homeserver/storage/push-store.ts';

const ROOM = '!r:hs';
const OTHER_ROOM = '!o:hs';
const THREAD = '$root';
const NOTIFY = '["notify"]';
const HIGHLIGHT = '["notify",{"set_tweak":"highlight"}]';

describe('migrations 012 and 013: per-user push actions become one row per event', () => {
  let conn: Connection;
  before(async () => {
    conn = await openSchemaAtVersion(11);
    // Events 1..10 in ROOM, 11..12 in OTHER_ROOM.
    for (let i = 1; i <= 12; i++) {
      await conn.run(
        "INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, origin_server_ts, json) VALUES (?, ?, ?, 'm.room.message', '@a:hs', ?, 0, '{}')",
        i,
        `$e${i}`,
        i <= 10 ? ROOM : OTHER_ROOM,
        i,
      );
    }
    const action = (user: string, so: number, thread = 'main', highlight = 0, notify = 1) =>
      conn.run(
        'INSERT INTO event_push_actions (user_id, event_id, room_id, stream_ordering, thread_id, notify, highlight, actions, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)',
        user,
        `$e${so}`,
        so <= 10 ? ROOM : OTHER_ROOM,
        so,
        thread,
        notify,
        highlight,
        highlight ? HIGHLIGHT : NOTIFY,
      );
    // bob: main 1..6 (3 a highlight), thread 7..8; an unthreaded receipt at 4 -> main 5,6 and thread 7,8 unread.
    for (const so of [1, 2, 3, 4, 5, 6]) await action('@bob:hs', so, 'main', so === 3 || so === 6 ? 1 : 0);
    for (const so of [7, 8]) await action('@bob:hs', so, THREAD);
    await conn.run("INSERT INTO receipts VALUES (?, 'm.read', '@bob:hs', '', '$e4', 0, 1)", ROOM);
    // carol: main 1..6, a private receipt in the thread at 8, her own main-timeline event at 5.
    for (const so of [1, 2, 3, 4, 5, 6]) await action('@carol:hs', so);
    for (const so of [7, 8, 9]) await action('@carol:hs', so, THREAD);
    await conn.run("INSERT INTO receipts VALUES (?, 'm.read.private', '@carol:hs', ?, '$e8', 0, 2)", ROOM, THREAD);
    await conn.run("INSERT INTO push_read_by_sending VALUES ('@carol:hs', ?, 'main', 5)", ROOM);
    // dave: in the other room, nothing read; one row that did not notify.
    await action('@dave:hs', 11);
    await action('@dave:hs', 12, 'main', 0, 0);
    await runMigrations(conn);
  });
  after(() => conn.close());

  test('the unread counts equal the notifications after each read mark, per room, user and thread', async () => {
    const counts = async (room: string, user: string) => Object.fromEntries((await pushStore.unreadByThread(conn, room, user)).counts);
    assert.deepEqual(await counts(ROOM, '@bob:hs'), { main: { notifications: 2, highlights: 1 }, [THREAD]: { notifications: 2, highlights: 0 } });
    assert.deepEqual(await counts(ROOM, '@carol:hs'), { main: { notifications: 1, highlights: 0 }, [THREAD]: { notifications: 1, highlights: 0 } });
    assert.deepEqual(await counts(OTHER_ROOM, '@dave:hs'), { main: { notifications: 1, highlights: 0 } });
    assert.deepEqual(await counts(ROOM, '@dave:hs'), {});
  });

  test('the log keeps every notification with its own actions, and only those', async () => {
    const rows = await conn.all<{ stream_ordering: number }>('SELECT stream_ordering FROM push_notified ORDER BY stream_ordering');
    assert.deepEqual(
      rows.map((r) => r.stream_ordering),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 11],
    );
    const page = async (user: string, onlyHighlight = false) => {
      const found = await pushStore.page(conn, user, Number.MAX_SAFE_INTEGER, 20, onlyHighlight);
      return found.map((r) => ({ so: r.stream_ordering, ...notificationOf(r, user) }));
    };
    const highlight = JSON.parse(HIGHLIGHT) as unknown[];
    const notify = JSON.parse(NOTIFY) as unknown[];
    assert.deepEqual(await page('@dave:hs'), [{ so: 11, actions: notify, highlight: false }]);
    assert.deepEqual(await page('@bob:hs', true), [
      { so: 6, actions: highlight, highlight: true },
      { so: 3, actions: highlight, highlight: true },
    ]);
    // Event 3 notified bob with a highlight and carol without: one row, two action lists.
    const three = (await page('@carol:hs')).find((r) => r.so === 3);
    assert.deepEqual(three, { so: 3, actions: notify, highlight: false });
    assert.equal((await page('@carol:hs')).length, 9);
  });

  test('the old tables are gone and the schema is at the latest version', async () => {
    for (const name of ['event_push_actions', 'push_log', 'push_unread']) {
      assert.equal(await conn.get('SELECT name FROM sqlite_master WHERE name = ?', name), undefined, name);
    }
    const v = await conn.get<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations');
    assert.equal(v?.v, MIGRATIONS[MIGRATIONS.length - 1]!.version);
  });
});
