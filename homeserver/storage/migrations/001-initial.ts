import type { Migration } from './run.ts';

export const migration001: Migration = {
  version: 1,
  name: 'initial schema: accounts, rooms, events, state, sync',
  sql: `
CREATE TABLE server_keys_local (key_id TEXT PRIMARY KEY, seed TEXT NOT NULL, created_ts INTEGER NOT NULL);

CREATE TABLE users (
  user_id TEXT PRIMARY KEY,
  localpart TEXT NOT NULL UNIQUE,
  password_hash TEXT,
  displayname TEXT,
  avatar_url TEXT,
  created_ts INTEGER NOT NULL,
  deactivated INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE devices (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  display_name TEXT,
  last_seen_ts INTEGER,
  last_seen_ip TEXT,
  PRIMARY KEY (user_id, device_id)
);
CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  created_ts INTEGER NOT NULL
);
CREATE INDEX access_tokens_by_device ON access_tokens (user_id, device_id);
CREATE TABLE login_tokens (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_ts INTEGER NOT NULL);
CREATE TABLE registration_token_uses (token TEXT PRIMARY KEY, completed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE uia_sessions (
  session_id TEXT PRIMARY KEY,
  created_ts INTEGER NOT NULL,
  completed TEXT NOT NULL,
  request_fingerprint TEXT NOT NULL
);
CREATE TABLE filters (user_id TEXT NOT NULL, filter_id INTEGER NOT NULL, filter_json TEXT NOT NULL, PRIMARY KEY (user_id, filter_id));

CREATE TABLE rooms (
  room_id TEXT PRIMARY KEY,
  room_version TEXT NOT NULL,
  creator TEXT NOT NULL,
  is_public INTEGER NOT NULL DEFAULT 0,
  created_ts INTEGER NOT NULL
);
CREATE TABLE room_aliases (alias TEXT PRIMARY KEY, room_id TEXT NOT NULL, creator TEXT NOT NULL);
CREATE INDEX room_aliases_by_room ON room_aliases (room_id);

-- Every PDU. stream_ordering is the position in this server's event stream (sync tokens);
-- depth and the edges give the DAG.
CREATE TABLE events (
  stream_ordering INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  state_key TEXT,
  sender TEXT NOT NULL,
  depth INTEGER NOT NULL,
  origin_server_ts INTEGER NOT NULL,
  json TEXT NOT NULL,
  state_group INTEGER,
  redacted_by TEXT,
  txn_user_id TEXT,
  txn_device_id TEXT,
  txn_id TEXT
);
CREATE INDEX events_by_room ON events (room_id, stream_ordering);
CREATE INDEX events_by_room_ts ON events (room_id, origin_server_ts);
CREATE UNIQUE INDEX events_by_txn ON events (txn_user_id, txn_device_id, txn_id);
CREATE TABLE event_edges (event_id TEXT NOT NULL, prev_event_id TEXT NOT NULL, PRIMARY KEY (event_id, prev_event_id));
CREATE TABLE event_auth (event_id TEXT NOT NULL, auth_event_id TEXT NOT NULL, PRIMARY KEY (event_id, auth_event_id));
CREATE TABLE forward_extremities (room_id TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (room_id, event_id));

-- State snapshots as deltas (like Synapse's state groups): a group holds the entries that differ
-- from prev_group; every so many deltas a full snapshot starts a new chain.
CREATE TABLE state_groups (id INTEGER PRIMARY KEY, room_id TEXT NOT NULL, prev_group INTEGER, chain_length INTEGER NOT NULL);
CREATE TABLE state_group_entries (group_id INTEGER NOT NULL, type TEXT NOT NULL, state_key TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (group_id, type, state_key));

CREATE TABLE current_state (room_id TEXT NOT NULL, type TEXT NOT NULL, state_key TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (room_id, type, state_key));
-- Membership of every user in every room, kept with current_state: what /sync and joined_rooms ask.
CREATE TABLE memberships (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  membership TEXT NOT NULL,
  event_id TEXT NOT NULL,
  stream_ordering INTEGER NOT NULL,
  forgotten INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id, membership);

CREATE TABLE account_data (
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  content TEXT NOT NULL,
  stream_id INTEGER NOT NULL,
  PRIMARY KEY (user_id, room_id, type)
);
CREATE TABLE stream_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO stream_counters (name, value) VALUES ('account_data', 0);
`,
};
