import type { Migration } from './run.ts';

export const migration010: Migration = {
  version: 10,
  name: 'federation EDUs: remote device lists, outbound device-list stream, to-device message ids',
  sql: `
-- Remote users' device lists (server-server-api.md "Device Management"): filled from
-- GET /user/devices/{userId} while a local user shares a room with them, then kept current by
-- m.device_list_update and m.signing_key_update EDUs. stream_id is the remote's, for prev_id checks.
CREATE TABLE remote_device_lists (
  user_id TEXT PRIMARY KEY,
  stream_id INTEGER NOT NULL,
  master_key TEXT,
  self_signing_key TEXT,
  fetched_ts INTEGER NOT NULL
);
-- One row per remote device; keys_json is NULL for a device without E2E keys.
CREATE TABLE remote_devices (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  display_name TEXT,
  keys_json TEXT,
  PRIMARY KEY (user_id, device_id)
);
-- Per local user: the stream_id of the last m.device_list_update made for them (the next one's
-- prev_id, and GET /user/devices' stream_id).
CREATE TABLE device_list_outbound (
  user_id TEXT PRIMARY KEY,
  stream_id INTEGER NOT NULL
);
-- m.direct_to_device message ids already delivered, per origin server: a retried transaction
-- delivers nothing twice. Pruned after a day.
CREATE TABLE federation_to_device_seen (
  origin TEXT NOT NULL,
  message_id TEXT NOT NULL,
  received_ts INTEGER NOT NULL,
  PRIMARY KEY (origin, message_id)
);
CREATE INDEX federation_to_device_seen_by_ts ON federation_to_device_seen (received_ts);
`,
};
