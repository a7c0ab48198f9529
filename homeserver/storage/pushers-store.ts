// Tables: pushers (migration 023). A user's pushers, keyed (user, app_id, pushkey), and the
// notification log rows (push_notified) the HTTP pusher reads for newly committed events.
import type { Queryable } from './sqlite.ts';
import { recipientKey, type NotifiedRow } from './push-store.ts';

export interface PusherRow {
  user_id: string;
  app_id: string;
  pushkey: string;
  kind: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag: string | null;
  lang: string;
  /** JSON object. */
  data: string;
  device_id: string | null;
  pushkey_ts: number;
  /** The oldest stream ordering still queued when last written; NULL: none (migration 029). */
  pending_from?: number | null;
}

export const pushersStore = {
  forUser(q: Queryable, userId: string) {
    return q.all<PusherRow>('SELECT * FROM pushers WHERE user_id = ? ORDER BY app_id, pushkey', userId);
  },
  all(q: Queryable) {
    return q.all<PusherRow>('SELECT * FROM pushers');
  },
  count(q: Queryable, userId: string) {
    return q.get<{ n: number }>('SELECT COUNT(*) AS n FROM pushers WHERE user_id = ?', userId).then((r) => r?.n ?? 0);
  },
  get(q: Queryable, userId: string, appId: string, pushkey: string) {
    return q.get<PusherRow>('SELECT * FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?', userId, appId, pushkey);
  },
  async upsert(q: Queryable, p: PusherRow): Promise<void> {
    await q.run(
      `INSERT INTO pushers (user_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag, lang, data, device_id, pushkey_ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, app_id, pushkey) DO UPDATE SET kind = excluded.kind, app_display_name = excluded.app_display_name,
         device_display_name = excluded.device_display_name, profile_tag = excluded.profile_tag, lang = excluded.lang,
         data = excluded.data, device_id = excluded.device_id, pushkey_ts = excluded.pushkey_ts`,
      p.user_id,
      p.app_id,
      p.pushkey,
      p.kind,
      p.app_display_name,
      p.device_display_name,
      p.profile_tag,
      p.lang,
      p.data,
      p.device_id,
      p.pushkey_ts,
    );
  },
  /** Deletes one pusher; true when it existed. */
  async delete(q: Queryable, userId: string, appId: string, pushkey: string): Promise<boolean> {
    return (await q.run('DELETE FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?', userId, appId, pushkey)).changes > 0;
  },
  /** Deletes the pushers of this app_id and pushkey that belong to other users; returns those users. */
  async deleteOthers(q: Queryable, userId: string, appId: string, pushkey: string): Promise<string[]> {
    const rows = await q.all<{ user_id: string }>('SELECT user_id FROM pushers WHERE app_id = ? AND pushkey = ? AND user_id != ?', appId, pushkey, userId);
    await q.run('DELETE FROM pushers WHERE app_id = ? AND pushkey = ? AND user_id != ?', appId, pushkey, userId);
    return rows.map((r) => r.user_id);
  },
  /** Deletes the pushers set from these devices of the user; true when any existed. */
  async deleteForDevices(q: Queryable, userId: string, deviceIds: string[]): Promise<boolean> {
    let any = false;
    for (const id of deviceIds) {
      if ((await q.run('DELETE FROM pushers WHERE user_id = ? AND device_id = ?', userId, id)).changes > 0) any = true;
    }
    return any;
  },
  /** The last stream ordering handed to the pushers, as last written (migration 029). */
  dispatchedThrough(q: Queryable) {
    return q.get<{ through: number }>('SELECT through FROM push_dispatched WHERE id = 1').then((r) => r?.through);
  },
  /** The newest row of the notification log (0 when empty). */
  lastNotified(q: Queryable) {
    return q.get<{ n: number | null }>('SELECT MAX(stream_ordering) AS n FROM push_notified').then((r) => r?.n ?? 0);
  },
  /** Where the pushers stand: the last ordering handed over, and each pusher's oldest queued push. */
  async writeProgress(q: Queryable, through: number, pending: Array<{ userId: string; appId: string; pushkey: string; from: number | null }>) {
    await q.run('INSERT INTO push_dispatched (id, through) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET through = excluded.through', through);
    for (const p of pending) {
      await q.run('UPDATE pushers SET pending_from = ? WHERE user_id = ? AND app_id = ? AND pushkey = ?', p.from, p.userId, p.appId, p.pushkey);
    }
  },
  /** The newest `limit` log rows from `from` on that notified the user, oldest first, with their event ids. */
  async notifiedSince(q: Queryable, userId: string, from: number, limit: number) {
    const rows = await q.all<NotifiedRow & { event_id: string }>(
      `SELECT n.stream_ordering, n.room_id, n.thread_id, n.actions, n.recipients, n.highlighted, e.event_id
         FROM push_notified n JOIN events e ON e.stream_ordering = n.stream_ordering
        WHERE n.stream_ordering >= ? AND instr(n.recipients, ?) > 0
        ORDER BY n.stream_ordering DESC LIMIT ?`,
      from,
      recipientKey(userId),
      limit,
    );
    return rows.reverse();
  },
  /** The notification log's rows at these positions (the events of one commit). */
  notifiedAt(q: Queryable, streamOrderings: number[]) {
    if (streamOrderings.length === 0) return Promise.resolve([] as NotifiedRow[]);
    return q.all<NotifiedRow>(`SELECT * FROM push_notified WHERE stream_ordering IN (${streamOrderings.map(() => '?').join(',')})`, ...streamOrderings);
  },
};
