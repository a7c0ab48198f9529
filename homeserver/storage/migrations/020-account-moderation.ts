import type { Migration } from './run.ts';

// Issue #14, the smaller Client-Server APIs:
// - who may use the server administration endpoints (`admin`), and what an admin did to an
//   account: suspended (client-server-api, "Account suspension") or locked ("Account locking").
//   Both are reversible flags on the account, unlike `deactivated`.
// - reports of rooms, events and users (report_content.yaml), kept for the admin to read.
// - extended profile fields (profile.yaml, v1.16): every key other than displayname and
//   avatar_url, whose columns on `users` stay where member events are built from.
export const migration020: Migration = {
  version: 20,
  name: 'accounts: admin, suspended, locked; content reports; extended profile fields',
  sql: `
ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
CREATE TABLE content_reports (
  report_id INTEGER PRIMARY KEY,
  -- 'room', 'event' or 'user'.
  kind TEXT NOT NULL,
  reporter TEXT NOT NULL,
  room_id TEXT,
  event_id TEXT,
  target_user_id TEXT,
  reason TEXT NOT NULL,
  received_ts INTEGER NOT NULL
);
CREATE INDEX content_reports_by_reporter ON content_reports (reporter, received_ts);
CREATE TABLE profile_fields (
  user_id TEXT NOT NULL,
  key_name TEXT NOT NULL,
  -- The value as JSON: custom keys may hold any JSON type (profile.yaml).
  value_json TEXT NOT NULL,
  PRIMARY KEY (user_id, key_name)
) WITHOUT ROWID;
`,
};
