import type { Migration } from './run.ts';

// LAN discovery's trust store (issue #15, homeserver/discovery/). `lan_peers` pins each desktop's
// identity on first contact, like SSH's known hosts: its key (which its name is bound to) and its
// TLS certificate's fingerprint; a later announcement with another certificate is refused.
// `users` and `addresses` are JSON arrays as last announced. `lan_reports` keeps what the user
// should know (impostors, changed certificates), newest first.
export const migration026: Migration = {
  version: 26,
  name: 'discovery: pinned LAN peers and reports',
  sql: `
CREATE TABLE lan_peers (
  server_name TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  tls_fingerprint TEXT NOT NULL,
  first_seen_ts INTEGER NOT NULL,
  last_seen_ts INTEGER NOT NULL,
  label TEXT,
  users TEXT NOT NULL,
  addresses TEXT NOT NULL
);
CREATE INDEX lan_peers_by_last_seen ON lan_peers (last_seen_ts);
CREATE TABLE lan_reports (
  report_id INTEGER PRIMARY KEY,
  server_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL,
  from_address TEXT NOT NULL,
  ts INTEGER NOT NULL
);
`,
};
