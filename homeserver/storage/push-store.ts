// Tables: event_push_actions, push_read_by_sending. What users' push rules decided per event, and
// how far each user has read: receipts (unthreaded, 'main' or a thread root) and their own events.
import type { Queryable } from './sqlite.ts';

export interface PushActionRow {
  user_id: string;
  event_id: string;
  room_id: string;
  stream_ordering: number;
  thread_id: string;
  notify: number;
  highlight: number;
  actions: string;
  ts: number;
}

/** The main timeline's thread id, as threaded receipts name it. */
export const MAIN_THREAD = 'main';

/**
 * Read marks of one user in one room, per thread id: '' for unthreaded receipts (which cover
 * every thread), 'main', or a thread root. A receipt and the user's own latest event both count;
 * m.read and m.read.private alike, the further one winning (push.md "Marking notifications as read").
 */
const READ_MARKS = `
  marks AS (
    SELECT r.thread_id AS thread_id, MAX(e.stream_ordering) AS pos FROM receipts r JOIN events e ON e.event_id = r.event_id
     WHERE r.room_id = ? AND r.user_id = ? AND r.receipt_type IN ('m.read', 'm.read.private') GROUP BY r.thread_id
    UNION ALL
    SELECT thread_id, stream_ordering FROM push_read_by_sending WHERE room_id = ? AND user_id = ?
  ),
  per AS (SELECT thread_id, MAX(pos) AS pos FROM marks GROUP BY thread_id)`;

/** Rows per multi-row INSERT: bounds the number of distinct prepared statements. */
const INSERT_CHUNK = 32;

export const pushStore = {
  /** One INSERT per chunk of rows, deferred (Queryable.defer) to travel with the job's next statement. */
  async insertActions(q: Queryable, rows: PushActionRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      const values = chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      q.defer(
        `INSERT INTO event_push_actions (user_id, event_id, room_id, stream_ordering, thread_id, notify, highlight, actions, ts)
         VALUES ${values} ON CONFLICT (user_id, event_id) DO NOTHING`,
        ...chunk.flatMap((r) => [r.user_id, r.event_id, r.room_id, r.stream_ordering, r.thread_id, r.notify, r.highlight, r.actions, r.ts]),
      );
    }
  },

  async insertAction(q: Queryable, r: PushActionRow): Promise<void> {
    await q.run(
      `INSERT INTO event_push_actions (user_id, event_id, room_id, stream_ordering, thread_id, notify, highlight, actions, ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, event_id) DO NOTHING`,
      r.user_id, r.event_id, r.room_id, r.stream_ordering, r.thread_id, r.notify, r.highlight, r.actions, r.ts,
    );
  },

  /** The sender's own event: everything before it in its thread counts as read. */
  async markSent(q: Queryable, userId: string, roomId: string, threadId: string, streamOrdering: number): Promise<void> {
    q.defer(
      `INSERT INTO push_read_by_sending (user_id, room_id, thread_id, stream_ordering) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, room_id, thread_id) DO UPDATE SET stream_ordering = MAX(stream_ordering, excluded.stream_ordering)`,
      userId, roomId, threadId, streamOrdering,
    );
  },

  /** Read marks per thread id ('' = unthreaded): see READ_MARKS. */
  async readMarks(q: Queryable, roomId: string, userId: string): Promise<Map<string, number>> {
    const rows = await q.all<{ thread_id: string; pos: number }>(`WITH ${READ_MARKS} SELECT thread_id, pos FROM per`, roomId, userId, roomId, userId);
    return new Map(rows.map((r) => [r.thread_id, r.pos]));
  },

  /** Unread notifications and highlights per thread id, up to stream position `upTo`. */
  countsByThread(q: Queryable, roomId: string, userId: string, upTo: number) {
    return q.all<{ thread_id: string; notifications: number; highlights: number }>(
      `WITH ${READ_MARKS}
       SELECT a.thread_id AS thread_id, COUNT(*) AS notifications, SUM(a.highlight) AS highlights FROM event_push_actions a
        WHERE a.user_id = ? AND a.room_id = ? AND a.notify = 1 AND a.stream_ordering <= ?
          AND a.stream_ordering > COALESCE((SELECT pos FROM per WHERE per.thread_id = ''), 0)
          AND a.stream_ordering > COALESCE((SELECT pos FROM per WHERE per.thread_id = a.thread_id), 0)
        GROUP BY a.thread_id`,
      roomId, userId, roomId, userId, userId, roomId, upTo,
    );
  },

  /** A user's notifications newest first, before stream position `before`. */
  page(q: Queryable, userId: string, before: number, limit: number, onlyHighlight: boolean) {
    return q.all<PushActionRow>(
      `SELECT * FROM event_push_actions WHERE user_id = ? AND notify = 1 AND stream_ordering < ? ${onlyHighlight ? 'AND highlight = 1' : ''}
       ORDER BY stream_ordering DESC LIMIT ?`,
      userId, before, limit,
    );
  },
};
