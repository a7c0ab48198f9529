import type { Migration } from './run.ts';

// Pushes survive a restart (push/pushers.ts): `push_dispatched.through` is the last stream
// ordering whose notifications were handed to the pushers' queues, and `pushers.pending_from` the
// oldest still queued for a pusher (NULL when its queue was empty). At start-up the pushers get
// again, from the notification log, what was queued or not yet handed over when the server stopped
// or was killed. Both are written at most once a second: a kill may push a few notifications
// twice, never lose one.
export const migration029: Migration = {
  version: 29,
  name: 'push: what the pushers had handed over and still queued, for after a restart',
  sql: `
ALTER TABLE pushers ADD COLUMN pending_from INTEGER;
CREATE TABLE push_dispatched (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  through INTEGER NOT NULL
);
`,
};
