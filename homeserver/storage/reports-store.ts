// Table: content_reports (migration 020): what users reported, for the server admin to read.
import type { Queryable } from './sqlite.ts';

export type ReportKind = 'room' | 'event' | 'user';

export interface ReportRow {
  report_id: number;
  kind: ReportKind;
  reporter: string;
  room_id: string | null;
  event_id: string | null;
  target_user_id: string | null;
  reason: string;
  received_ts: number;
}

export interface NewReport {
  kind: ReportKind;
  reporter: string;
  roomId?: string;
  eventId?: string;
  targetUserId?: string;
  reason: string;
}

export const reportsStore = {
  async insert(q: Queryable, r: NewReport, now: number): Promise<void> {
    await q.run(
      'INSERT INTO content_reports (kind, reporter, room_id, event_id, target_user_id, reason, received_ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
      r.kind,
      r.reporter,
      r.roomId ?? null,
      r.eventId ?? null,
      r.targetUserId ?? null,
      r.reason,
      now,
    );
  },
  /** Reports by one user received at or after `since`, and the oldest of them (when the window frees up). */
  async countSince(q: Queryable, reporter: string, since: number): Promise<{ n: number; oldest: number | null }> {
    const row = await q.get<{ n: number; oldest: number | null }>(
      'SELECT COUNT(*) AS n, MIN(received_ts) AS oldest FROM content_reports WHERE reporter = ? AND received_ts >= ?',
      reporter,
      since,
    );
    return row ?? { n: 0, oldest: null };
  },
  /** The newest reports first, `limit` of them. */
  list(q: Queryable, limit: number) {
    return q.all<ReportRow>('SELECT * FROM content_reports ORDER BY report_id DESC LIMIT ?', limit);
  },
};
