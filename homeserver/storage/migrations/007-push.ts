import type { Migration } from './run.ts';

export const migration007: Migration = {
  version: 7,
  name: 'push actions: per-user notifications from push rule evaluation',
  sql: `
-- One row per (event, user) that the user's push rules made notify (push.md "Server behaviour"),
-- written in the transaction that appends the event. thread_id is 'main' or the thread root's id,
-- as receipts name threads (receipts.md "Threaded read receipts").
CREATE TABLE event_push_actions (
  user_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  stream_ordering INTEGER NOT NULL,
  thread_id TEXT NOT NULL,
  notify INTEGER NOT NULL,
  highlight INTEGER NOT NULL,
  actions TEXT NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (user_id, event_id)
);
CREATE INDEX event_push_actions_by_room ON event_push_actions (user_id, room_id, stream_ordering);
CREATE INDEX event_push_actions_by_user ON event_push_actions (user_id, stream_ordering);
-- A user's latest own event per room and thread: sending an event marks what precedes it read
-- (push.md "Marking notifications as read").
CREATE TABLE push_read_by_sending (
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  stream_ordering INTEGER NOT NULL,
  PRIMARY KEY (user_id, room_id, thread_id)
);
`,
};
