// Unread count checkpoints (migration 018) over a real SQLite file: a count that read many rows of
// the notification log is stored, and the next count (after a restart too: the checkpoint is a
// row) reads only what came after it, while giving exactly the counts a full count gives, whatever
// the receipts (m.read, m.read.private, threaded, main) and the user's own sends did meanwhile.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../../homeserver/storage/database.ts';
import { pushStore, type EventNotifications, type UnreadCheckpoint } from '../../../homeserver/storage/push-store.ts';
import { CHECKPOINT_AFTER_ROWS, UnreadCounters } from '../../../homeserver/push/unread-counters.ts';

const dir = mkdtempSync(join(tmpdir(), 'hearth-unread-cp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ROOM = '!r:hs';
const BOB = '@bob:hs';
const THREADS = ['main', '$t1', '$t2'];

interface Logged {
  so: number;
  thread: string;
  bob: boolean;
  highlight: boolean;
}

/** A small seeded generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('unread count checkpoints', () => {
  let db: Database;
  let nextSo = 1;
  const log: Logged[] = [];
  /** Bob's receipts as the oracle sees them: 'type thread' -> position, each replacing the last. */
  const receipts = new Map<string, number>();
  /** Bob's own latest event per thread. */
  const sends = new Map<string, number>();
  /** A thread's read mark: the furthest of its receipts of both types and Bob's own latest event there. */
  const markOf = (thread: string) =>
    Math.max(receipts.get(`m.read ${thread}`) ?? 0, receipts.get(`m.read.private ${thread}`) ?? 0, thread === '' ? 0 : (sends.get(thread) ?? 0));

  /** Appends `n` events to ROOM in one job, each notifying Bob or only Eve. */
  const logEvents = (n: number, pick: () => Omit<Logged, 'so'>) =>
    db.write(async (tx) => {
      for (let i = 0; i < n; i++) {
        const so = nextSo++;
        const e = { so, ...pick() };
        log.push(e);
        await tx.run(
          "INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, origin_server_ts, json) VALUES (?, ?, ?, 'm.room.message', '@a:hs', ?, 0, '{}')",
          so,
          `$e${so}`,
          ROOM,
          so,
        );
        const recipients = new Map<string, number>([['@eve:hs', 0]]);
        if (e.bob) recipients.set(BOB, e.highlight ? 1 : 0);
        const notified: EventNotifications = {
          streamOrdering: so,
          roomId: ROOM,
          threadId: e.thread,
          actions: ['["notify"]', '["notify",{"set_tweak":"highlight"}]'],
          recipients,
          highlighted: e.bob && e.highlight ? [BOB] : [],
        };
        pushStore.recordNotifications(tx, notified);
      }
    });
  const receipt = (type: 'm.read' | 'm.read.private', thread: string, so: number) =>
    db.write((tx) =>
      tx.run(
        'INSERT INTO receipts (room_id, receipt_type, user_id, thread_id, event_id, ts, stream_id) VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT DO UPDATE SET event_id = excluded.event_id',
        ROOM,
        type,
        BOB,
        thread,
        `$e${so}`,
        so,
      ),
    );
  const sent = (thread: string, so: number) => db.write(async (tx) => pushStore.markSent(tx, BOB, ROOM, thread, so));

  /** Bob's unread counts by the rules, from the oracle's own log and marks. */
  function expected() {
    const out: Record<string, { notifications: number; highlights: number }> = {};
    for (const e of log) {
      const mark = Math.max(markOf(''), markOf(e.thread));
      if (!e.bob || e.so <= mark) continue;
      const c = (out[e.thread] ??= { notifications: 0, highlights: 0 });
      c.notifications++;
      if (e.highlight) c.highlights++;
    }
    return out;
  }

  before(async () => {
    db = await Database.open(join(dir, 'hearth.sqlite'));
  });
  after(() => db.close());

  test('a count that read many rows is stored, and the next reads only the rows after it, even once restarted', async () => {
    await logEvents(CHECKPOINT_AFTER_ROWS + 200, () => ({ thread: 'main', bob: true, highlight: false }));
    const saved: UnreadCheckpoint[] = [];
    const counters = new UnreadCounters((cp) => saved.push(cp));
    assert.deepEqual(Object.fromEntries(await counters.get(db.reader, ROOM, BOB)), expected());
    assert.equal(saved.length, 1, 'the large count is handed over to be stored');
    await db.write((tx) => pushStore.saveCheckpoint(tx, saved[0]!));
    await logEvents(5, () => ({ thread: 'main', bob: true, highlight: true }));
    // A restart: a new database handle and new counters; only the stored row carries over.
    await db.close();
    db = await Database.open(join(dir, 'hearth.sqlite'));
    const again = await pushStore.unreadByThread(db.reader, ROOM, BOB);
    assert.equal(again.scanned, 5, 'only the five rows after the checkpoint are read');
    assert.deepEqual(Object.fromEntries(again.counts), expected());
    const small: unknown[] = [];
    assert.deepEqual(Object.fromEntries(await new UnreadCounters((cp) => small.push(cp)).get(db.reader, ROOM, BOB)), expected());
    assert.equal(small.length, 0, 'a count that read few rows is not stored again');
  });

  test('counts from a checkpoint equal the rules across receipts of every kind, threads and own sends', async () => {
    const next = random(13);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
    for (let step = 0; step < 120; step++) {
      const r = next();
      if (r < 0.5) {
        await logEvents(1 + Math.floor(next() * 20), () => ({ thread: pick(THREADS), bob: next() < 0.7, highlight: next() < 0.3 }));
      } else if (r < 0.8) {
        // A receipt on some logged event, newer or older than the one it replaces.
        const so = pick(log).so;
        const thread = pick(['', ...THREADS]);
        const type = pick(['m.read', 'm.read.private'] as const);
        await receipt(type, thread, so);
        receipts.set(`${type} ${thread}`, so);
      } else {
        // Bob's own event in a thread: everything before it there is read.
        await logEvents(1, () => ({ thread: pick(THREADS), bob: false, highlight: false }));
        const own = log[log.length - 1]!;
        await sent(own.thread, own.so);
        sends.set(own.thread, own.so);
      }
      const counted = await pushStore.unreadByThread(db.reader, ROOM, BOB);
      assert.deepEqual(Object.fromEntries(counted.counts), expected(), `step ${step}`);
      // Store every other count, so that counts start from checkpoints of every age.
      if (step % 2 === 0) await db.write((tx) => pushStore.saveCheckpoint(tx, counted.checkpoint));
    }
  });

  test('kept counters are stored every CHECKPOINT_AFTER_ROWS rows of their room as they move, equal to a count of the log, own sends included', async () => {
    const saved: UnreadCheckpoint[] = [];
    const counters = new UnreadCounters((cp) => saved.push(cp));
    await counters.get(db.reader, ROOM, BOB);
    saved.length = 0;
    const next = random(7);
    let rows = 0;
    while (rows < CHECKPOINT_AFTER_ROWS + 10) {
      const own = next() < 0.05;
      const thread = THREADS[Math.floor(next() * THREADS.length)]!;
      // Committed through the counters, as the room service does after each write job.
      const e = { thread, bob: !own && next() < 0.7, highlight: next() < 0.3 };
      await logEvents(1, () => e);
      const so = log[log.length - 1]!.so;
      if (own) {
        await sent(thread, so);
        sends.set(thread, so);
      }
      const recipients = new Map<string, number>([['@eve:hs', 0]]);
      if (e.bob) recipients.set(BOB, 0);
      const highlighted = e.bob && e.highlight ? [BOB] : [];
      counters.committed({
        ...(own ? { sent: { userId: BOB, roomId: ROOM, threadId: thread, streamOrdering: so } } : {}),
        notified: { streamOrdering: so, roomId: ROOM, threadId: thread, actions: ['["notify"]'], recipients, highlighted },
      });
      rows++;
    }
    assert.equal(saved.length, 1, 'one checkpoint after CHECKPOINT_AFTER_ROWS rows');
    // What was stored is what a count of the log up to its position gives.
    const cp = saved[0]!;
    const full = await pushStore.unreadByThread(db.reader, ROOM, BOB);
    assert.deepEqual(Object.fromEntries(await counters.get(db.reader, ROOM, BOB)), expected());
    assert.deepEqual(Object.fromEntries(full.counts), expected());
    await db.write((tx) => pushStore.saveCheckpoint(tx, cp));
    const fromCheckpoint = await pushStore.unreadByThread(db.reader, ROOM, BOB);
    assert.equal(fromCheckpoint.scanned, 10, 'a restart now reads only the rows after the stored counters');
    assert.deepEqual(Object.fromEntries(fromCheckpoint.counts), expected());
  });

  test('every CHECKPOINT_AFTER_ROWS rows of a room, its recipients not kept in memory are handed over to have their checkpoints brought up to date', async () => {
    const swept: Array<[string, string[]]> = [];
    const counters = new UnreadCounters(undefined, (roomId, userIds) => swept.push([roomId, userIds]));
    await counters.get(db.reader, ROOM, BOB);
    const recipients = new Map([
      [BOB, 0],
      ['@eve:hs', 0],
    ]);
    for (let i = 0; i < 2 * CHECKPOINT_AFTER_ROWS; i++) {
      counters.committed({ notified: { streamOrdering: 1e6 + i, roomId: ROOM, threadId: 'main', actions: ['["notify"]'], recipients, highlighted: [] } });
    }
    // Bob's counters are kept (and stored as they move); Eve, who never synced, is swept.
    assert.deepEqual(swept, [
      [ROOM, ['@eve:hs']],
      [ROOM, ['@eve:hs']],
    ]);
  });
});
