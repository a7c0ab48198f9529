import type { Migration } from './run.ts';

export const migration011: Migration = {
  version: 11,
  name: 'remote events: outliers, soft-failed and rejected PDUs',
  sql: `
-- Events known without being part of the room's timeline (server-server-api.md "PDUs"):
-- 'outlier': state and auth chain events learnt from send_join, /state or /event_auth, whose own
--   state we do not know (state_group NULL);
-- 'soft_failed': passed the auth checks against the state before them but not against the current
--   state ("Soft failure"): kept (with the state before them) for later events that cite them, never
--   shown to clients or used as a forward extremity.
CREATE TABLE outlier_events (
  event_id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  json TEXT NOT NULL,
  state_group INTEGER,
  received_ts INTEGER NOT NULL
);
CREATE INDEX outlier_events_by_room ON outlier_events (room_id);
-- PDUs that failed the checks on receipt ("Rejection"): remembered so they are not fetched again
-- and so that an event citing one as an auth event is rejected too.
CREATE TABLE rejected_events (event_id TEXT PRIMARY KEY, room_id TEXT NOT NULL, reason TEXT NOT NULL, received_ts INTEGER NOT NULL);
`,
};
