import type { Migration } from './run.ts';

// End-to-end encryption support (client-server-api/modules/end_to_end_encryption.md) and
// send-to-device messaging (modules/send_to_device.md). The server stores public keys, opaque
// ciphertext and signalling messages; it never holds a private key or a plaintext message.
export const migration004: Migration = {
  version: 4,
  name: 'end-to-end encryption: device keys, one-time keys, cross-signing, to-device, key backup',
  sql: `
-- The device_keys object each device uploaded (signed by the device), without unsigned data.
CREATE TABLE e2e_device_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id)
);
-- Unclaimed one-time keys; upload_seq gives out keys in upload order (keys/claim).
CREATE TABLE e2e_one_time_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  upload_seq INTEGER NOT NULL,
  PRIMARY KEY (user_id, device_id, algorithm, key_id)
);
CREATE INDEX e2e_one_time_keys_by_seq ON e2e_one_time_keys (user_id, device_id, algorithm, upload_seq);
-- At most one fallback key per device and algorithm; used once a claim has handed it out.
CREATE TABLE e2e_fallback_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, device_id, algorithm)
);
-- Cross-signing keys: key_type is master, self_signing or user_signing; public_key is unpadded base64.
CREATE TABLE e2e_cross_signing_keys (
  user_id TEXT NOT NULL,
  key_type TEXT NOT NULL,
  public_key TEXT NOT NULL,
  key_json TEXT NOT NULL,
  PRIMARY KEY (user_id, key_type)
);
-- Signatures uploaded later through keys/signatures/upload, merged into keys/query answers.
-- target_key_id is a device id or a cross-signing public key; signer_key_id is "ed25519:<id>".
CREATE TABLE e2e_signatures (
  target_user_id TEXT NOT NULL,
  target_key_id TEXT NOT NULL,
  signer_user_id TEXT NOT NULL,
  signer_key_id TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (target_user_id, target_key_id, signer_user_id, signer_key_id)
);
-- One row per change to a user's devices or keys, ordered for /sync device_lists and keys/changes.
CREATE TABLE device_list_changes (
  stream_id INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL
);
-- Send-to-device messages waiting for their device; deleted once the device syncs past them.
CREATE TABLE to_device_messages (
  stream_id INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  type TEXT NOT NULL,
  content TEXT NOT NULL
);
CREATE INDEX to_device_messages_by_device ON to_device_messages (user_id, device_id, stream_id);
-- Transaction ids of sendToDevice requests already handled, so that a retry sends nothing twice.
CREATE TABLE to_device_txns (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, txn_id)
);
-- Server-side key backups: versions are per user, never reused; deleted ones keep their row.
CREATE TABLE key_backup_versions (
  user_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  algorithm TEXT NOT NULL,
  auth_data TEXT NOT NULL,
  etag INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, version)
);
CREATE TABLE key_backup_keys (
  user_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  room_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  first_message_index INTEGER NOT NULL,
  forwarded_count INTEGER NOT NULL,
  is_verified INTEGER NOT NULL,
  session_data TEXT NOT NULL,
  PRIMARY KEY (user_id, version, room_id, session_id)
);
INSERT INTO stream_counters (name, value) VALUES ('device_lists', 0);
INSERT INTO stream_counters (name, value) VALUES ('to_device', 0);
INSERT INTO stream_counters (name, value) VALUES ('one_time_keys', 0);
`,
};
