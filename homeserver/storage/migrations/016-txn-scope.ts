import type { Migration } from './run.ts';

// A transaction id is scoped to one device *and one endpoint* (client-server-api/_index.md
// "Transaction identifiers": the same id sent to /send and to /sendToDevice are two requests; a
// retransmission is "the same transaction ID ... and the path of the HTTP request is the same").
// The unique index held (user, device, txn id) only, so a redaction that reused a message's id
// was answered with the message. txn_scope names the endpoint and its path parameters
// ('send/<room>/<type>' or 'redact/<room>/<event>'); the id itself stays in txn_id, which the
// sender's own copies of the event carry as unsigned.transaction_id. Rows stored before this
// were all taken for sends: a /redact retried across the upgrade is not recognised.
export const migration016: Migration = {
  version: 16,
  name: 'events: a transaction id is scoped to its endpoint as well as its device',
  sql: `
ALTER TABLE events ADD COLUMN txn_scope TEXT;
UPDATE events SET txn_scope = 'send/' || room_id || '/' || type WHERE txn_id IS NOT NULL;
DROP INDEX events_by_txn;
CREATE UNIQUE INDEX events_by_txn ON events (txn_user_id, txn_device_id, txn_id, txn_scope);
`,
};
