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
  /**
   * `owner` asks to watch `target`: a request until `target` consents. When `target` already
   * asked to watch `owner` (or watches them), this request is that consent, and the reverse one's:
   * both are accepted (the seed: "HSes may wish to automatically accept requests when a reverse
   * subscription already exists"). Returns whether the pair is now accepted.
   */
  async addToList(q: Queryable, owner: string, target: string): Promise<boolean> {
    const reverse = await q.get<{ accepted: number }>('SELECT accepted FROM presence_list WHERE owner = ? AND target = ?', target, owner);
    const accepted = reverse ? 1 : 0;
    await q.run(
      `INSERT INTO presence_list (owner, target, accepted) VALUES (?, ?, ?)
       ON CONFLICT (owner, target) DO UPDATE SET accepted = MAX(presence_list.accepted, excluded.accepted)`,
      owner,
      target,
      accepted,
    );
    if (reverse) await q.run('UPDATE presence_list SET accepted = 1 WHERE owner = ? AND target = ?', target, owner);
    return accepted === 1;
  },
  /** Ends `owner`'s watch of `target` and the reverse one: a mutual consent ends, or a request is declined or withdrawn. */
  async dropFromList(q: Queryable, owner: string, target: string) {
    await q.run('DELETE FROM presence_list WHERE (owner = ? AND target = ?) OR (owner = ? AND target = ?)', owner, target, target, owner);
  },
  /** The users `owner` may watch: their consent was given. */
  list(q: Queryable, owner: string) {
    return q
      .all<{ target: string }>('SELECT target FROM presence_list WHERE owner = ? AND accepted = 1 ORDER BY target', owner)
      .then((r) => r.map((x) => x.target));
  },
  /** Users who asked to watch `target` and wait for their consent. */
  requestsTo(q: Queryable, target: string) {
    return q
      .all<{ owner: string }>('SELECT owner FROM presence_list WHERE target = ? AND accepted = 0 ORDER BY owner', target)
      .then((r) => r.map((x) => x.owner));
  },
  /** Users `owner` asked to watch who have not consented yet. */
  pendingFrom(q: Queryable, owner: string) {
    return q
      .all<{ target: string }>('SELECT target FROM presence_list WHERE owner = ? AND accepted = 0 ORDER BY target', owner)
      .then((r) => r.map((x) => x.target));
  },
  /** Users who may watch `target`, by `target`'s consent. */
  watchers(q: Queryable, target: string) {
    return q.all<{ owner: string }>('SELECT owner FROM presence_list WHERE target = ? AND accepted = 1', target).then((r) => r.map((x) => x.owner));
  },
};
