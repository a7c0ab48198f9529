import type { Migration } from './run.ts';

export const migration003: Migration = {
  version: 3,
  name: 'receipts, presence and the seed presence list',
  sql: `
-- The latest receipt of each (room, type, user, thread); stream_id orders them for /sync.
CREATE TABLE receipts (
  room_id TEXT NOT NULL,
  receipt_type TEXT NOT NULL,
  user_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  stream_id INTEGER NOT NULL,
  PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
);
CREATE INDEX receipts_by_stream ON receipts (stream_id);
CREATE TABLE presence (
  user_id TEXT PRIMARY KEY,
  presence TEXT NOT NULL,
  status_msg TEXT,
  last_active_ts INTEGER NOT NULL,
  stream_id INTEGER NOT NULL
);
CREATE INDEX presence_by_stream ON presence (stream_id);
-- The seed's presence list: owner has added target (and target agreed).
CREATE TABLE presence_list (owner TEXT NOT NULL, target TEXT NOT NULL, PRIMARY KEY (owner, target));
INSERT INTO stream_counters (name, value) VALUES ('receipts', 0);
INSERT INTO stream_counters (name, value) VALUES ('presence', 0);
`,
};
