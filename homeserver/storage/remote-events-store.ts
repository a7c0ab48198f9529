// Tables: outlier_events, rejected_events; and the current-state and memberships
// rows that a remote event (or a state resolution) changes. Room state written by the remote-event
// path; the local path lives in events-store.ts.
import type { Queryable } from './sqlite.ts';

export type OutlierKind = 'outlier' | 'soft_failed';

export interface OutlierRow {
  event_id: string;
  room_id: string;
  kind: OutlierKind;
  json: string;
  state_group: number | null;
}

export const remoteEventsStore = {
  async insertOutlier(q: Queryable, eventId: string, roomId: string, kind: OutlierKind, json: string, stateGroup: number | null): Promise<void> {
    await q.run(
      'INSERT INTO outlier_events (event_id, room_id, kind, json, state_group, received_ts) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      eventId,
      roomId,
      kind,
      json,
      stateGroup,
      Date.now(),
    );
  },
  getOutlier(q: Queryable, eventId: string) {
    return q.get<OutlierRow>('SELECT event_id, room_id, kind, json, state_group FROM outlier_events WHERE event_id = ?', eventId);
  },
  /** Many outliers in one query (see eventsStore.getEventsByIds). */
  getOutliers(q: Queryable, eventIds: readonly string[]) {
    return q.all<OutlierRow>(
      'SELECT event_id, room_id, kind, json, state_group FROM outlier_events WHERE event_id IN (SELECT value FROM json_each(?))',
      JSON.stringify(eventIds),
    );
  },
  async deleteOutlier(q: Queryable, eventId: string): Promise<void> {
    await q.run('DELETE FROM outlier_events WHERE event_id = ?', eventId);
  },

  async insertRejected(q: Queryable, eventId: string, roomId: string, reason: string): Promise<void> {
    await q.run(
      'INSERT INTO rejected_events (event_id, room_id, reason, received_ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      eventId,
      roomId,
      reason,
      Date.now(),
    );
  },
  getRejected(q: Queryable, eventId: string) {
    return q.get<{ reason: string }>('SELECT reason FROM rejected_events WHERE event_id = ?', eventId);
  },

  /** Which of `eventIds` we hold in any form (timeline, outlier, soft-failed or rejected). */
  async knownIds(q: Queryable, eventIds: string[]): Promise<Set<string>> {
    const known = new Set<string>();
    for (let i = 0; i < eventIds.length; i += 200) {
      const chunk = eventIds.slice(i, i + 200);
      const marks = chunk.map(() => '?').join(', ');
      const rows = await q.all<{ event_id: string }>(
        `SELECT event_id FROM events WHERE event_id IN (${marks})
         UNION SELECT event_id FROM outlier_events WHERE event_id IN (${marks})
         UNION SELECT event_id FROM rejected_events WHERE event_id IN (${marks})`,
        ...chunk,
        ...chunk,
        ...chunk,
      );
      for (const r of rows) known.add(r.event_id);
    }
    return known;
  },

  /**
   * The room's backward extremities, oldest first: timeline events (other than the create event)
   * with a prev_event outside the timeline. Backfill continues from all of them, not just the
   * oldest: with senders on several servers the DAG forks, and each branch has its own gap.
   */
  async backwardExtremities(q: Queryable, roomId: string, limit: number): Promise<string[]> {
    const rows = await q.all<{ event_id: string }>(
      `SELECT e.event_id FROM events e WHERE e.room_id = ? AND EXISTS (
         SELECT 1 FROM event_edges ed WHERE ed.stream_ordering = e.stream_ordering
           AND NOT EXISTS (SELECT 1 FROM events p WHERE p.event_id = ed.prev_event_id))
       ORDER BY e.stream_ordering ASC LIMIT ?`,
      roomId,
      limit,
    );
    return rows.map((r) => r.event_id);
  },

  /**
   * Which of the given timeline events (by position) are backward extremities: they cite a
   * prev_event this server holds neither in the timeline, nor as rejected, nor as soft-failed
   * (those are known and stay out of the timeline on purpose). A gap in the history lies right
   * before each of them, wherever it is in the timeline.
   */
  async gapsBefore(q: Queryable, positions: readonly number[]): Promise<string[]> {
    if (positions.length === 0) return [];
    const rows = await q.all<{ event_id: string }>(
      `SELECT DISTINCT e.event_id FROM events e JOIN event_edges ed ON ed.stream_ordering = e.stream_ordering
       WHERE e.stream_ordering IN (SELECT value FROM json_each(?))
         AND NOT EXISTS (SELECT 1 FROM events p WHERE p.event_id = ed.prev_event_id)
         AND NOT EXISTS (SELECT 1 FROM rejected_events r WHERE r.event_id = ed.prev_event_id)
         AND NOT EXISTS (SELECT 1 FROM outlier_events o WHERE o.event_id = ed.prev_event_id AND o.kind = 'soft_failed')
       ORDER BY e.stream_ordering`,
      JSON.stringify(positions),
    );
    return rows.map((r) => r.event_id);
  },

  async deleteCurrentState(q: Queryable, roomId: string, type: string, stateKey: string): Promise<void> {
    await q.run('DELETE FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?', roomId, type, stateKey);
  },

  async insertRemoteRoom(q: Queryable, roomId: string, version: string, creator: string): Promise<void> {
    await q.run(
      'INSERT INTO rooms (room_id, room_version, creator, is_public, created_ts) VALUES (?, ?, ?, 0, ?) ON CONFLICT DO NOTHING',
      roomId,
      version,
      creator,
      Date.now(),
    );
  },
};
