// Tables: push_notified, push_read_by_sending. What users' push rules decided per event (one row
// per event, migration 013), and how far each user has read: receipts (unthreaded, 'main' or a
// thread root) and their own events. Unread counts are counted from these, not stored.
import type { Queryable } from './sqlite.ts';

/** One event's notifications: who they went to, with which actions. */
export interface NotifiedRow {
  stream_ordering: number;
  room_id: string;
  thread_id: string;
  /** Distinct action lists, JSON. */
  actions: string;
  /** User id -> index into actions, JSON. */
  recipients: string;
  /** User ids whose actions highlight, JSON; null when none. */
  highlighted: string | null;
}

/** One event's notifications as the write path builds them (push/push-actions.ts). */
export interface EventNotifications {
  streamOrdering: number;
  roomId: string;
  threadId: string;
  /** Distinct action lists, each as its JSON text. */
  actions: string[];
  /** Each recipient with the index of their actions. */
  recipients: Map<string, number>;
  highlighted: string[];
}

/** One user's notification, read back from a NotifiedRow. */
export interface UserNotification {
  actions: unknown[];
  highlight: boolean;
}

/** The main timeline's thread id, as threaded receipts name it. */
export const MAIN_THREAD = 'main';

/** Unthreaded receipts are stored under this thread id (edus/receipts.ts); they cover every thread. */
const UNTHREADED = '';

/**
 * Read marks of one user in one room, per thread id: '' for unthreaded receipts (which cover
 * every thread), 'main', or a thread root. A receipt and the user's own latest event both count;
 * m.read and m.read.private alike, the further one winning (push.md "Marking notifications as read").
 */
const READ_MARKS = `
  WITH marks AS (
    SELECT r.thread_id AS thread_id, MAX(e.stream_ordering) AS pos FROM receipts r JOIN events e ON e.event_id = r.event_id
     WHERE r.room_id = ? AND r.user_id = ? AND r.receipt_type IN ('m.read', 'm.read.private') GROUP BY r.thread_id
    UNION ALL
    SELECT thread_id, stream_ordering FROM push_read_by_sending WHERE room_id = ? AND user_id = ?
  )
  SELECT thread_id, MAX(pos) AS pos FROM marks GROUP BY thread_id`;

/**
 * The room's notifications after a position (up to another, in one thread or all), per thread:
 * how many notified the user, how many of those highlighted them, and how many rows were read
 * and the last one's position (for checkpoints). A recipient is found with instr() on their JSON
 * key in `recipients` and a highlight on their quoted id in `highlighted` (migration 013), as
 * page() finds them; the recipient test is in the sums, not the WHERE, so that the rows read are
 * counted too. Parameters: quoted user id, room, after, through, thread (twice, or null), recipient key.
 */
export const COUNT_NOTIFIED = `
  SELECT thread_id,
         SUM(instr(recipients, ?7) > 0) AS notifications,
         SUM(instr(recipients, ?7) > 0 AND highlighted IS NOT NULL AND instr(highlighted, ?1) > 0) AS highlights,
         COUNT(*) AS scanned, MAX(stream_ordering) AS last
    FROM push_notified
   WHERE room_id = ?2 AND stream_ordering > ?3 AND stream_ordering <= ?4 AND (?5 IS NULL OR thread_id = ?6)
   GROUP BY thread_id`;

function countNotified(q: Queryable, roomId: string, userId: string, after: number, through?: number, threadId?: string) {
  return q.all<{ thread_id: string; notifications: number; highlights: number; scanned: number; last: number }>(
    COUNT_NOTIFIED,
    JSON.stringify(userId),
    roomId,
    after,
    through ?? Number.MAX_SAFE_INTEGER,
    threadId ?? null,
    threadId ?? null,
    recipientKey(userId),
  );
}

/** Notifications and highlights per thread id, only threads above zero. */
export type CountsByThread = Map<string, { notifications: number; highlights: number }>;

/**
 * One user's unread counts in a room as counted from `marks` over the log's rows up to `through`
 * (migration 018): exact for as long as those marks hold, since rows up to `through` never change.
 */
export interface UnreadCheckpoint {
  roomId: string;
  userId: string;
  marks: Map<string, number>;
  through: number;
  counts: CountsByThread;
}

/** A count of unread notifications, the log rows it read, and the checkpoint it reached. */
export interface UnreadCount {
  counts: CountsByThread;
  /** Rows of the room's log read beyond the checkpoint used (none: from the read marks). */
  scanned: number;
  checkpoint: UnreadCheckpoint;
}

/** A thread's read mark: the further of the unthreaded mark and its own (push.md "Marking notifications as read"). */
function effectiveMark(marks: Map<string, number>, threadId: string): number {
  return Math.max(marks.get(UNTHREADED) ?? 0, marks.get(threadId) ?? 0);
}

/**
 * Whether `cp` can start a count with the read marks `marks`: the unthreaded mark is the same and
 * below the checkpoint's position (else there is nothing before it to skip), and each thread's
 * mark is either the one counted from or past the checkpoint (so that none of its rows up to the
 * checkpoint are unread).
 */
function checkpointHolds(cp: UnreadCheckpoint, marks: Map<string, number>): boolean {
  const base = marks.get(UNTHREADED) ?? 0;
  if ((cp.marks.get(UNTHREADED) ?? 0) !== base || base >= cp.through) return false;
  for (const threadId of new Set([...cp.marks.keys(), ...marks.keys()])) {
    const now = effectiveMark(marks, threadId);
    if (now !== effectiveMark(cp.marks, threadId) && now < cp.through) return false;
  }
  return true;
}

export const pushStore = {
  /** Logs one event's notifications, deferred (Queryable.defer) to travel with the job's next statement. */
  recordNotifications(q: Queryable, n: EventNotifications): void {
    if (n.recipients.size === 0) return;
    q.defer(
      'INSERT INTO push_notified (stream_ordering, room_id, thread_id, actions, recipients, highlighted) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      n.streamOrdering,
      n.roomId,
      n.threadId,
      `[${n.actions.join(',')}]`,
      JSON.stringify(Object.fromEntries(n.recipients)),
      n.highlighted.length > 0 ? JSON.stringify(n.highlighted) : null,
    );
  },

  /**
   * The sender's own event: everything before it in its thread counts as read. It is the newest
   * event (positions grow with each commit), so nothing in that thread is left unread.
   */
  markSent(q: Queryable, userId: string, roomId: string, threadId: string, streamOrdering: number): void {
    q.defer(
      `INSERT INTO push_read_by_sending (user_id, room_id, thread_id, stream_ordering) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, room_id, thread_id) DO UPDATE SET stream_ordering = MAX(stream_ordering, excluded.stream_ordering)`,
      userId,
      roomId,
      threadId,
      streamOrdering,
    );
  },

  /** Read marks per thread id ('' = unthreaded): see READ_MARKS. */
  async readMarks(q: Queryable, roomId: string, userId: string): Promise<Map<string, number>> {
    const rows = await q.all<{ thread_id: string; pos: number }>(READ_MARKS, roomId, userId, roomId, userId);
    return new Map(rows.map((r) => [r.thread_id, r.pos]));
  },

  /**
   * Unread notifications and highlights per thread id: the events after the user's read mark in
   * their thread (the further of the unthreaded mark and the thread's own) that notified them.
   * Counted by SQLite over the room's notifications after the unthreaded mark (migration 017's
   * index), or after the pair's checkpoint when it still holds (migration 018), so that a room of
   * 200,000 unread events is read once, not at each restart. Returns the checkpoint the count
   * reaches, for the caller to store when the count read many rows (saveCheckpoint()).
   */
  async unreadByThread(q: Queryable, roomId: string, userId: string): Promise<UnreadCount> {
    const marks = await this.readMarks(q, roomId, userId);
    const saved = await this.checkpoint(q, roomId, userId);
    const counts: CountsByThread = new Map();
    let start = marks.get(UNTHREADED) ?? 0;
    if (saved && checkpointHolds(saved, marks)) {
      start = saved.through;
      for (const [threadId, c] of saved.counts) {
        // A thread read past the checkpoint since has nothing unread up to it.
        if (effectiveMark(marks, threadId) === effectiveMark(saved.marks, threadId)) counts.set(threadId, { ...c });
      }
    }
    let through = start;
    let scanned = 0;
    for (const row of await countNotified(q, roomId, userId, start)) {
      through = Math.max(through, row.last);
      scanned += row.scanned;
      const c = counts.get(row.thread_id) ?? { notifications: 0, highlights: 0 };
      c.notifications += row.notifications;
      c.highlights += row.highlights;
      counts.set(row.thread_id, c);
    }
    // A thread read further than the unthreaded mark: what lies between the two is read too. Only
    // up to `through`: a row committed since the count above was not counted, so it is not taken off.
    for (const [threadId, mark] of marks) {
      const c = counts.get(threadId);
      if (threadId === UNTHREADED || mark <= start || !c) continue;
      const read = (await countNotified(q, roomId, userId, start, Math.min(mark, through), threadId))[0];
      if (read) {
        c.notifications -= read.notifications;
        c.highlights -= read.highlights;
      }
    }
    for (const [threadId, c] of counts) if (c.notifications <= 0) counts.delete(threadId);
    return { counts, scanned, checkpoint: { roomId, userId, marks, through, counts: new Map([...counts].map(([t, c]) => [t, { ...c }])) } };
  },

  /** The pair's stored checkpoint (migration 018), if any. */
  async checkpoint(q: Queryable, roomId: string, userId: string): Promise<UnreadCheckpoint | undefined> {
    const row = await q.get<{ marks: string; through: number; counts: string }>(
      'SELECT marks, through, counts FROM push_unread_checkpoints WHERE room_id = ? AND user_id = ?',
      roomId,
      userId,
    );
    if (!row) return undefined;
    const marks = new Map(Object.entries(JSON.parse(row.marks) as Record<string, number>));
    const counts: CountsByThread = new Map();
    for (const [threadId, [notifications, highlights]] of Object.entries(JSON.parse(row.counts) as Record<string, [number, number]>)) {
      counts.set(threadId, { notifications, highlights });
    }
    return { roomId, userId, marks, through: row.through, counts };
  },

  /** Stores `cp` as its pair's checkpoint, unless one further along is stored already. */
  async saveCheckpoint(q: Queryable, cp: UnreadCheckpoint): Promise<void> {
    await q.run(
      `INSERT INTO push_unread_checkpoints (room_id, user_id, marks, through, counts) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (room_id, user_id) DO UPDATE SET marks = excluded.marks, through = excluded.through, counts = excluded.counts
        WHERE excluded.through >= push_unread_checkpoints.through`,
      cp.roomId,
      cp.userId,
      JSON.stringify(Object.fromEntries(cp.marks)),
      cp.through,
      JSON.stringify(Object.fromEntries([...cp.counts].map(([t, c]) => [t, [c.notifications, c.highlights]]))),
    );
  },

  /**
   * A user's notifications newest first, before stream position `before`, with their event ids:
   * up to `limit` events whose row names the user as a recipient (or, with `onlyHighlight`, as
   * highlighted). The caller reads the user's own actions from each with notificationOf().
   */
  page(q: Queryable, userId: string, before: number, limit: number, onlyHighlight: boolean) {
    return q.all<NotifiedRow & { event_id: string }>(
      `SELECT n.stream_ordering, n.room_id, n.thread_id, n.actions, n.recipients, n.highlighted, e.event_id
         FROM push_notified n JOIN events e ON e.stream_ordering = n.stream_ordering
        WHERE n.stream_ordering < ? AND ${onlyHighlight ? 'instr(n.highlighted, ?) > 0' : 'instr(n.recipients, ?) > 0'}
        ORDER BY n.stream_ordering DESC LIMIT ?`,
      before,
      onlyHighlight ? JSON.stringify(userId) : recipientKey(userId),
      limit,
    );
  },
};

/** How a user id appears as a key of a row's `recipients`: a JSON string and its colon. */
export function recipientKey(userId: string): string {
  return `${JSON.stringify(userId)}:`;
}

/**
 * The user's notification in `row`, if it notified them; its actions when the row has them
 * (the unread count leaves them out of its query).
 */
export function notificationOf(row: { recipients: string; highlighted: string | null; actions?: string }, userId: string): UserNotification | undefined {
  const index = (JSON.parse(row.recipients) as Record<string, number>)[userId];
  if (typeof index !== 'number') return undefined;
  const highlight = row.highlighted !== null && (JSON.parse(row.highlighted) as string[]).includes(userId);
  const actions = row.actions === undefined ? [] : ((JSON.parse(row.actions) as unknown[][])[index] ?? []);
  return { actions, highlight };
}
