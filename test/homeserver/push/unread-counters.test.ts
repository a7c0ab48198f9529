// The unread counters kept in memory for /sync, over a real SQLite file: they are counted once
// from the notification log after the user's read marks, then moved by committed changes without
// reading again; a receipt (forget) makes them count again; a read that overlaps a write job is
// not kept (it may already hold the change the job will apply).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../../homeserver/storage/database.ts';
import { pushStore, type EventNotifications } from '../../../homeserver/storage/push-store.ts';
import { UnreadCounters } from '../../../homeserver/push/unread-counters.ts';

const dir = mkdtempSync(join(tmpdir(), 'hearth-unread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ROOM = '!r:hs';
const NOTIFY = '["notify"]';
const HIGHLIGHT = '["notify",{"set_tweak":"highlight"}]';

/** An event's notifications: each user with `h` after their name highlights. */
function notified(so: number, thread: string, users: string[]): EventNotifications {
  const recipients = new Map<string, number>();
  const highlighted: string[] = [];
  for (const u of users) {
    const user = u.replace(/ h$/, '');
    recipients.set(user, u.endsWith(' h') ? 1 : 0);
    if (u.endsWith(' h')) highlighted.push(user);
  }
  return { streamOrdering: so, roomId: ROOM, threadId: thread, actions: [NOTIFY, HIGHLIGHT], recipients, highlighted };
}

describe('UnreadCounters', () => {
  let db: Database;
  let nextSo = 1;
  /** Appends an event to ROOM and logs its notifications, as a send's transaction would. */
  const logEvent = (thread: string, users: string[]) =>
    db.write(async (tx) => {
      const so = nextSo++;
      await tx.run(
        "INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, origin_server_ts, json) VALUES (?, ?, ?, 'm.room.message', '@a:hs', ?, 0, '{}')",
        so,
        `$e${so}`,
        ROOM,
        so,
      );
      const n = notified(so, thread, users);
      pushStore.recordNotifications(tx, n);
      return n;
    });
  const receipt = (user: string, so: number, thread = '') =>
    db.write((tx) =>
      tx.run(
        "INSERT INTO receipts (room_id, receipt_type, user_id, thread_id, event_id, ts, stream_id) VALUES (?, 'm.read', ?, ?, ?, 0, ?) ON CONFLICT DO UPDATE SET event_id = excluded.event_id",
        ROOM,
        user,
        thread,
        `$e${so}`,
        so,
      ),
    );
  const plain = (m: Map<string, { notifications: number; highlights: number }>) => Object.fromEntries(m);
  before(async () => {
    db = await Database.open(join(dir, 'hearth.sqlite'));
  });
  after(() => db.close());

  test('counts a pair from the log after its read marks once, then follows committed changes without reading again', async () => {
    const c = new UnreadCounters();
    await logEvent('main', ['@bob:hs']);
    await logEvent('main', ['@bob:hs h', '@eve:hs']);
    await logEvent('$t', ['@bob:hs']);
    await receipt('@bob:hs', 1);
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@bob:hs')), { main: { notifications: 1, highlights: 1 }, $t: { notifications: 1, highlights: 0 } });
    // Logged behind its back, never committed through it: not seen; the kept counters are what /sync answers from.
    await logEvent('main', ['@bob:hs']);
    c.committed({ notified: notified(99, 'main', ['@bob:hs h']) });
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@bob:hs')), { main: { notifications: 2, highlights: 2 }, $t: { notifications: 1, highlights: 0 } });
    c.committed({ sent: { userId: '@bob:hs', roomId: ROOM, threadId: 'main', streamOrdering: 100 } });
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@bob:hs')), { $t: { notifications: 1, highlights: 0 } });
  });

  test('after forget (a receipt moved) the pair is counted again, after the new mark; a threaded receipt clears only its thread', async () => {
    const c = new UnreadCounters();
    await logEvent('main', ['@carol:hs']);
    const last = await logEvent('$t', ['@carol:hs h']);
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@carol:hs')), { main: { notifications: 1, highlights: 0 }, $t: { notifications: 1, highlights: 1 } });
    await receipt('@carol:hs', last.streamOrdering, '$t');
    c.forget(ROOM, '@carol:hs');
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@carol:hs')), { main: { notifications: 1, highlights: 0 } });
    await receipt('@carol:hs', last.streamOrdering);
    c.forget(ROOM, '@carol:hs');
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@carol:hs')), {});
  });

  test("only the events that notified the user count, not another user's whose id contains theirs", async () => {
    const c = new UnreadCounters();
    await logEvent('main', ['@dan:hs2', '@xdan:hs']);
    await logEvent('main', ['@dan:hs']);
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@dan:hs')), { main: { notifications: 1, highlights: 0 } });
  });

  test('a read while a write job is under way is answered but not kept', async () => {
    const c = new UnreadCounters();
    await logEvent('main', ['@dave:hs']);
    c.begin();
    // The job's notification is committed in SQL, not yet applied here: the read sees it.
    const n = await logEvent('main', ['@dave:hs']);
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@dave:hs')), { main: { notifications: 2, highlights: 0 } });
    // Had that read been kept, applying the job's change would count the notification twice (3).
    c.committed({ notified: n });
    c.end();
    assert.deepEqual(plain(await c.get(db.reader, ROOM, '@dave:hs')), { main: { notifications: 2, highlights: 0 } });
  });
});
