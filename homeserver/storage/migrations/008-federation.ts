import type { Migration } from './run.ts';

export const migration008: Migration = {
  version: 8,
  name: 'federation: remote server keys, their signed documents, pinned certificates',
  sql: `
-- Every key a remote server has published, kept after it leaves verify_keys: events signed by an
-- old key stay checkable (server-server-api.md "Publishing Keys", old_verify_keys).
-- valid_until_ts: the document's; expired_ts: set for keys seen only in old_verify_keys.
CREATE TABLE server_keys (
  server_name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  valid_until_ts INTEGER NOT NULL,
  expired_ts INTEGER,
  fetched_ts INTEGER NOT NULL,
  PRIMARY KEY (server_name, key_id)
);
-- The latest self-signed key document per server, as received, so that we can serve it as a
-- notary (keys_query.yaml) with our own signature added.
CREATE TABLE server_key_documents (
  server_name TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  valid_until_ts INTEGER NOT NULL,
  fetched_ts INTEGER NOT NULL
);
-- Self-signed certificates of servers listed in trust_self_signed, pinned on first contact.
CREATE TABLE federation_pinned_certs (
  server_name TEXT PRIMARY KEY,
  fingerprint256 TEXT NOT NULL,
  certificate_pem TEXT NOT NULL,
  pinned_ts INTEGER NOT NULL
);
`,
};
