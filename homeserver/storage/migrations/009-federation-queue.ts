import type { Migration } from './run.ts';

export const migration009: Migration = {
  version: 9,
  name: 'federation: outbound queue per destination, retry state, inbound transactions seen',
  sql: `
-- What waits to go to each destination, in queue order (id). txn_id is set once the row is put in
-- a transaction: that transaction is retried unchanged until answered (server-server-api.md
-- "Transactions": the sender waits for a 200 before sending a different txnId), then deleted.
CREATE TABLE federation_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  destination TEXT NOT NULL,
  kind TEXT NOT NULL,
  json TEXT NOT NULL,
  txn_id TEXT,
  queued_ts INTEGER NOT NULL
);
CREATE INDEX federation_outbox_by_destination ON federation_outbox (destination, kind, txn_id, id);
-- Per destination: the transaction in flight (txn_id, txn_ts = its origin_server_ts) and the retry
-- state after failures. A row exists only while either is set; success deletes it.
CREATE TABLE federation_destinations (
  destination TEXT PRIMARY KEY,
  txn_id TEXT,
  txn_ts INTEGER,
  failures INTEGER NOT NULL DEFAULT 0,
  retry_interval_ms INTEGER NOT NULL DEFAULT 0,
  next_attempt_ts INTEGER NOT NULL DEFAULT 0
);
-- Transactions received and processed, with the answer given: a retry of the same (origin, txn_id)
-- is answered from here without processing it again. Pruned after some days.
CREATE TABLE federation_inbound_txns (
  origin TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  response TEXT NOT NULL,
  pdu_count INTEGER NOT NULL,
  edu_count INTEGER NOT NULL,
  received_ts INTEGER NOT NULL,
  PRIMARY KEY (origin, txn_id)
);
CREATE INDEX federation_inbound_txns_by_ts ON federation_inbound_txns (received_ts);
`,
};
