// Tables: receipts, presence, presence_list, and their stream counters.
import type { Queryable } from './sqlite.ts';

export interface ReceiptRow {
  room_id: string;
  receipt_type: string;
  user_id: string;
  thread_id: string;
  event_id: string;
  ts: number;
  stream_id: number;
}

export interface PresenceRow {
  user_id: string;
  presence: string;
  status_msg: string | null;
  last_active_ts: number;
  stream_id: number;
}

/** Bumps a named stream counter and returns its new value. */
export async function nextStreamId(q: Queryable, name: string): Promise<number> {
  await q.run('UPDATE stream_counters SET value = value + 1 WHERE name = ?', name);
  const row = await q.get<{ value: number }>('SELECT value FROM stream_counters WHERE name = ?', name);
  return row!.value;
}

export async function currentStreamId(q: Queryable, name: string): Promise<number> {
  return (await q.get<{ value: number }>('SELECT value FROM stream_counters WHERE name = ?', name))?.value ?? 0;
}

export const receiptsStore = {
  async put(q: Queryable, r: Omit<ReceiptRow, 'stream_id'>): Promise<number> {
    const id = await nextStreamId(q, 'receipts');
    await q.run(
      `INSERT INTO receipts (room_id, receipt_type, user_id, thread_id, event_id, ts, stream_id) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room_id, receipt_type, user_id, thread_id) DO UPDATE SET event_id = excluded.event_id, ts = excluded.ts, stream_id = excluded.stream_id`,
      r.room_id,
      r.receipt_type,
      r.user_id,
      r.thread_id,
      r.event_id,
      r.ts,
      id,
    );
    return id;
  },
  get(q: Queryable, roomId: string, type: string, userId: string, threadId: string) {
    return q.get<ReceiptRow>('SELECT * FROM receipts WHERE room_id = ? AND receipt_type = ? AND user_id = ? AND thread_id = ?', roomId, type, userId, threadId);
  },
  roomSince(q: Queryable, roomId: string, since: number, upTo: number) {
    return q.all<ReceiptRow>('SELECT * FROM receipts WHERE room_id = ? AND stream_id > ? AND stream_id <= ? ORDER BY stream_id', roomId, since, upTo);
  },
  roomsWithReceiptsAfter(q: Queryable, since: number, upTo: number) {
    return q.all<{ room_id: string }>('SELECT DISTINCT room_id FROM receipts WHERE stream_id > ? AND stream_id <= ?', since, upTo);
  },
  /** The user's newest read receipt (public or private, any thread) in a room. */
  latestRead(q: Queryable, roomId: string, userId: string) {
    return q.get<{ event_id: string }>(
      `SELECT r.event_id FROM receipts r JOIN events e ON e.event_id = r.event_id
       WHERE r.room_id = ? AND r.user_id = ? AND r.receipt_type IN ('m.read', 'm.read.private')
       ORDER BY e.stream_ordering DESC LIMIT 1`,
      roomId,
      userId,
    );
  },
};

export const presenceStore = {
  async put(q: Queryable, userId: string, presence: string, statusMsg: string | null, lastActiveTs: number): Promise<number> {
    const id = await nextStreamId(q, 'presence');
    await q.run(
      `INSERT INTO presence (user_id, presence, status_msg, last_active_ts, stream_id) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET presence = excluded.presence, status_msg = excluded.status_msg,
         last_active_ts = excluded.last_active_ts, stream_id = excluded.stream_id`,
      userId,
      presence,
      statusMsg,
      lastActiveTs,
      id,
    );
    return id;
  },
  get(q: Queryable, userId: string) {
    return q.get<PresenceRow>('SELECT * FROM presence WHERE user_id = ?', userId);
  },
  since(q: Queryable, since: number, upTo: number) {
    return q.all<PresenceRow>('SELECT * FROM presence WHERE stream_id > ? AND stream_id <= ? ORDER BY stream_id', since, upTo);
  },
  async addToList(q: Queryable, owner: string, target: string) {
    await q.run('INSERT INTO presence_list (owner, target) VALUES (?, ?) ON CONFLICT DO NOTHING', owner, target);
  },
  async dropFromList(q: Queryable, owner: string, target: string) {
    await q.run('DELETE FROM presence_list WHERE owner = ? AND target = ?', owner, target);
  },
  list(q: Queryable, owner: string) {
    return q.all<{ target: string }>('SELECT target FROM presence_list WHERE owner = ? ORDER BY target', owner).then((r) => r.map((x) => x.target));
  },
  watchers(q: Queryable, target: string) {
    return q.all<{ owner: string }>('SELECT owner FROM presence_list WHERE target = ?', target).then((r) => r.map((x) => x.owner));
  },
};
