import type { Migration } from './run.ts';

// A user's unread counts in a room are counted from the notification log after their read marks
// (storage/push-store.ts unreadByThread). In a room of 200,000 events the user never read, that
// first count after a restart walked all 200,000 rows (issue 13: ~0.5 s). A checkpoint holds one
// such count: the marks it was counted from, the position it reaches and the counts per thread.
// The log's rows up to that position never change (they are only inserted, in position order), so
// a checkpoint stays exact for as long as the marks it names hold; the next count adds only what
// came after it. It is a cache: losing it (kill -9 before it is written) costs one full count.
export const migration018: Migration = {
  version: 18,
  name: 'push: unread count checkpoints per room and user',
  sql: `
CREATE TABLE push_unread_checkpoints (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  -- Read marks counted from, JSON: thread id ('' = unthreaded) -> position.
  marks TEXT NOT NULL,
  -- The counts hold the log's rows up to this position, and none after.
  through INTEGER NOT NULL,
  -- JSON: thread id -> [notifications, highlights], threads above zero only.
  counts TEXT NOT NULL,
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
`,
};
