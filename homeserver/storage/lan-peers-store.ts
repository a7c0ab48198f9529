// Tables: lan_peers, lan_reports (migration 026): LAN discovery's pinned peers and its reports.
import type { Queryable } from './sqlite.ts';

export interface LanPeerRow {
  server_name: string;
  key_id: string;
  public_key: string;
  tls_fingerprint: string;
  first_seen_ts: number;
  last_seen_ts: number;
  label: string | null;
  /** JSON array of local parts. */
  users: string;
  /** JSON array of addresses. */
  addresses: string;
}

export interface LanReportRow {
  server_name: string;
  kind: string;
  detail: string;
  from_address: string;
  ts: number;
}

export const lanPeersStore = {
  /** Every pinned peer (the table is kept small: see `trim`). */
  all(q: Queryable) {
    return q.all<LanPeerRow>('SELECT * FROM lan_peers');
  },
  /** Pins a peer, or refreshes what it last announced (its first-seen time and pins stay). */
  async upsert(q: Queryable, r: LanPeerRow): Promise<void> {
    await q.run(
      `INSERT INTO lan_peers (server_name, key_id, public_key, tls_fingerprint, first_seen_ts, last_seen_ts, label, users, addresses)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (server_name) DO UPDATE SET key_id = excluded.key_id, last_seen_ts = excluded.last_seen_ts,
         label = excluded.label, users = excluded.users, addresses = excluded.addresses`,
      r.server_name,
      r.key_id,
      r.public_key,
      r.tls_fingerprint,
      r.first_seen_ts,
      r.last_seen_ts,
      r.label,
      r.users,
      r.addresses,
    );
  },
  /** Unpins a peer: its next announcement is trusted as a first contact. */
  async forget(q: Queryable, serverName: string): Promise<void> {
    await q.run('DELETE FROM lan_peers WHERE server_name = ?', serverName);
  },
  /** Drops the peers seen longest ago beyond `keep`; returns the names dropped. */
  async trim(q: Queryable, keep: number): Promise<string[]> {
    const rows = await q.all<{ server_name: string }>('SELECT server_name FROM lan_peers ORDER BY last_seen_ts DESC, server_name LIMIT -1 OFFSET ?', keep);
    for (const r of rows) await q.run('DELETE FROM lan_peers WHERE server_name = ?', r.server_name);
    return rows.map((r) => r.server_name);
  },
  /** Records a report and keeps only the newest `keep`. */
  async insertReport(q: Queryable, r: LanReportRow, keep: number): Promise<void> {
    await q.run(
      'INSERT INTO lan_reports (server_name, kind, detail, from_address, ts) VALUES (?, ?, ?, ?, ?)',
      r.server_name,
      r.kind,
      r.detail,
      r.from_address,
      r.ts,
    );
    await q.run('DELETE FROM lan_reports WHERE report_id <= (SELECT report_id FROM lan_reports ORDER BY report_id DESC LIMIT 1 OFFSET ?)', keep);
  },
  /** The newest reports first. */
  reports(q: Queryable, limit: number) {
    return q.all<LanReportRow>('SELECT server_name, kind, detail, from_address, ts FROM lan_reports ORDER BY report_id DESC LIMIT ?', limit);
  },
};
