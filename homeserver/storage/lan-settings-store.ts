// LAN sharing's run-time setting and the users watching the people nearby (migration 027).
import type { Queryable } from './sqlite.ts';

/** What an admin set; undefined fields were never set (the config file decides). */
export interface LanSettingsRow {
  sharing?: boolean;
  announceLabel?: boolean;
  domains?: string[];
}

interface Row {
  sharing: number | null;
  announce_label: number | null;
  domains: string | null;
}

export const lanSettingsStore = {
  async get(q: Queryable): Promise<LanSettingsRow> {
    const row = await q.get<Row>('SELECT sharing, announce_label, domains FROM lan_settings WHERE id = 1');
    const out: LanSettingsRow = {};
    if (row?.sharing != null) out.sharing = row.sharing === 1;
    if (row?.announce_label != null) out.announceLabel = row.announce_label === 1;
    if (row?.domains != null) out.domains = JSON.parse(row.domains) as string[];
    return out;
  },
  /** Sets the given fields, keeps the others. */
  async put(q: Queryable, change: LanSettingsRow): Promise<void> {
    const bit = (b: boolean | undefined) => (b === undefined ? null : b ? 1 : 0);
    await q.run(
      `INSERT INTO lan_settings (id, sharing, announce_label, domains) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET sharing = COALESCE(excluded.sharing, sharing),
         announce_label = COALESCE(excluded.announce_label, announce_label), domains = COALESCE(excluded.domains, domains)`,
      bit(change.sharing),
      bit(change.announceLabel),
      change.domains === undefined ? null : JSON.stringify(change.domains),
    );
  },
  watchers(q: Queryable): Promise<Array<{ user_id: string }>> {
    return q.all<{ user_id: string }>('SELECT user_id FROM lan_nearby_watchers ORDER BY since_ts, user_id');
  },
  /** Adds a watcher unless `max` are watching already; true when the user watches now. */
  async addWatcher(q: Queryable, userId: string, now: number, max: number): Promise<boolean> {
    if (await q.get('SELECT 1 FROM lan_nearby_watchers WHERE user_id = ?', userId)) return true;
    const count = (await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM lan_nearby_watchers'))!.n;
    if (count >= max) return false;
    await q.run('INSERT INTO lan_nearby_watchers (user_id, since_ts) VALUES (?, ?)', userId, now);
    return true;
  },
  /** The first `limit` active local accounts, oldest first (what a desktop announces as its users). */
  localUsers(q: Queryable, limit: number): Promise<Array<{ localpart: string; displayname: string | null }>> {
    return q.all('SELECT localpart, displayname FROM users WHERE deactivated = 0 ORDER BY created_ts, localpart LIMIT ?', limit);
  },
};
