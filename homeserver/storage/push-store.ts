// Tables: push_log, push_unread, push_read_by_sending. What users' push rules decided per event,
// the unread counts that follow from it, and how far each user has read: receipts (unthreaded,
// 'main' or a thread root) and their own events.
import type { Queryable } from './sqlite.ts';

/** One user's notification for one event. */
export interface PushLogRow {
  stream_ordering: number;
  user_id: string;
  room_id: string;
  thread_id: string;
  highlight: number;
  actions: string;
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

/** Rows per multi-row INSERT: bounds the number of distinct prepared statements. */
const INSERT_CHUNK = 32;

export const pushStore = {
  /**
   * Logs one event's notifications and counts them as unread, deferred (Queryable.defer) to
   * travel with the job's next statement. All rows are of one event, so of one room and thread.
   */
  recordNotifications(q: Queryable, rows: PushLogRow[]): void {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      q.defer(
        `INSERT INTO push_log (stream_ordering, user_id, room_id, thread_id, highlight, actions) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (stream_ordering, user_id) DO NOTHING`,
        ...chunk.flatMap((r) => [r.stream_ordering, r.user_id, r.room_id, r.thread_id, r.highlight, r.actions]),
      );
      q.defer(
        `INSERT INTO push_unread (room_id, user_id, thread_id, notifications, highlights) VALUES ${chunk.map(() => '(?, ?, ?, 1, ?)').join(', ')}
         ON CONFLICT (room_id, user_id, thread_id) DO UPDATE SET notifications = notifications + 1, highlights = highlights + excluded.highlights`,
        ...chunk.flatMap((r) => [r.room_id, r.user_id, r.thread_id, r.highlight]),
      );
    }
  },

  /**
   * The sender's own event: everything before it in its thread counts as read. It is the newest
   * event (positions grow with each commit), so nothing in that thread is left unread.
   */
  markSent(q: Queryable, userId: string, roomId: string, threadId: string, streamOrdering: number): void {
    q.defer(
      `INSERT INTO push_read_by_sending (user_id, room_id, thread_id, stream_ordering) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, room_id, thread_id) DO UPDATE SET stream_ordering = MAX(stream_ordering, excluded.stream_ordering)`,
      userId, roomId, threadId, streamOrdering,
    );
    q.defer(
      'UPDATE push_unread SET notifications = 0, highlights = 0 WHERE room_id = ? AND user_id = ? AND thread_id = ? AND (notifications > 0 OR highlights > 0)',
      roomId, userId, threadId,
    );
  },

  /** Read marks per thread id ('' = unthreaded): see READ_MARKS. */
  async readMarks(q: Queryable, roomId: string, userId: string): Promise<Map<string, number>> {
    const rows = await q.all<{ thread_id: string; pos: number }>(READ_MARKS, roomId, userId, roomId, userId);
    return new Map(rows.map((r) => [r.thread_id, r.pos]));
  },

  /**
   * A read receipt moved: counts again, from the log, the notifications after the new read marks
   * of the threads it covers (an unthreaded receipt covers all). Counts only ever drop here, so
   * threads already at zero are left alone.
   */
  async recount(q: Queryable, roomId: string, userId: string, receiptThread: string): Promise<void> {
    const threads = await q.all<{ thread_id: string }>(
      `SELECT thread_id FROM push_unread WHERE room_id = ? AND user_id = ? ${receiptThread === UNTHREADED ? '' : 'AND thread_id = ?'}
         AND (notifications > 0 OR highlights > 0)`,
      ...(receiptThread === UNTHREADED ? [roomId, userId] : [roomId, userId, receiptThread]),
    );
    if (threads.length === 0) return;
    const marks = await this.readMarks(q, roomId, userId);
    for (const { thread_id: threadId } of threads) {
      const mark = Math.max(marks.get(UNTHREADED) ?? 0, marks.get(threadId) ?? 0);
      q.defer(
        `UPDATE push_unread SET (notifications, highlights) = (
           SELECT COUNT(*), COALESCE(SUM(highlight), 0) FROM push_log WHERE stream_ordering > ? AND user_id = ? AND room_id = ? AND thread_id = ?)
         WHERE room_id = ? AND user_id = ? AND thread_id = ?`,
        mark, userId, roomId, threadId, roomId, userId, threadId,
      );
    }
  },

  /** Unread notifications and highlights per thread id. */
  unreadByThread(q: Queryable, roomId: string, userId: string) {
    return q.all<{ thread_id: string; notifications: number; highlights: number }>(
      'SELECT thread_id, notifications, highlights FROM push_unread WHERE room_id = ? AND user_id = ? AND (notifications > 0 OR highlights > 0)',
      roomId, userId,
    );
  },

  /** A user's notifications newest first, before stream position `before`, with their event ids. */
  page(q: Queryable, userId: string, before: number, limit: number, onlyHighlight: boolean) {
    return q.all<PushLogRow & { event_id: string }>(
      `SELECT l.stream_ordering, l.user_id, l.room_id, l.thread_id, l.highlight, l.actions, e.event_id
         FROM push_log l JOIN events e ON e.stream_ordering = l.stream_ordering
        WHERE l.user_id = ? AND l.stream_ordering < ? ${onlyHighlight ? 'AND l.highlight = 1' : ''}
        ORDER BY l.stream_ordering DESC LIMIT ?`,
      userId, before, limit,
    );
  },
};
