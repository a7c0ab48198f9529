// The unread counters kept in memory for /sync, over a real SQLite file: they are read from
// push_unread once, then moved by committed changes exactly as SQL moved them; a read that
// overlaps a write job is not kept (it may already hold the change the job will apply).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../../homeserver/storage/database.ts';
import { UnreadCounters } from '../../../homeserver/push/unread-counters.ts';

const dir = mkdtempSync(join(tmpdir(), 'hearth-unread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ROOM = '!r:hs';
const row = (user: string, thread: string, highlight = 0) => ({ stream_ordering: 1, user_id: user, room_id: ROOM, thread_id: thread, highlight, actions: '["notify"]' });

describe('UnreadCounters', () => {
  let db: Database;
  const setRow = (user: string, thread: string, n: number, h: number) =>
    db.write((tx) => tx.run('INSERT INTO push_unread VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET notifications = excluded.notifications, highlights = excluded.highlights', ROOM, user, thread, n, h));
  const plain = (m: Map<string, { notifications: number; highlights: number }>) => Object.fromEntries(m);
  before(async () => {
    db = await Database.open(join(dir, 'hearth.sqlite'));
  });
  after(() => db.close());

  test('reads a pair once, then follows committed changes without reading again', async () => {
    const c = new UnreadCounters();
    await setRow('@bob:hs', 'main', 2, 1);
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@bob:hs')), { main: { notifications: 2, highlights: 1 } });
    // SQL changes behind its back are not seen: the kept counters are what /sync answers from.
    await setRow('@bob:hs', 'main', 9, 9);
    c.committed({ notified: [row('@bob:hs', 'main', 1), row('@bob:hs', '$t')] });
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@bob:hs')), { main: { notifications: 3, highlights: 2 }, $t: { notifications: 1, highlights: 0 } });
    c.committed({ notified: [], sent: { userId: '@bob:hs', roomId: ROOM, threadId: 'main' } });
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@bob:hs')), { $t: { notifications: 1, highlights: 0 } });
  });

  test('after forget (a receipt recounted in SQL) the pair is read again', async () => {
    const c = new UnreadCounters();
    await setRow('@carol:hs', 'main', 1, 0);
    await c.get(db.reader, ROOM, '@carol:hs');
    await setRow('@carol:hs', 'main', 0, 0);
    c.forget(ROOM, '@carol:hs');
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@carol:hs')), {});
  });

  test('a read while a write job is under way is answered but not kept', async () => {
    const c = new UnreadCounters();
    await setRow('@dave:hs', 'main', 1, 0);
    c.begin();
    // The job's notification is committed in SQL, not yet applied here: the read sees it.
    await setRow('@dave:hs', 'main', 2, 0);
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@dave:hs')), { main: { notifications: 2, highlights: 0 } });
    // Had that read been kept, applying the job's change would count the notification twice (3).
    c.committed({ notified: [row('@dave:hs', 'main')] });
    c.end();
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@dave:hs')), { main: { notifications: 2, highlights: 0 } });
  });
});
