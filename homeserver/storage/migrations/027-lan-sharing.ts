import type { Migration } from './run.ts';

// LAN sharing (issue #15). `lan_settings` is one row: what a server admin set at run time with
// PUT /_matrix/client/unstable/org.hearth.lan/sharing; a NULL column was never set, and the
// config file's value applies. `lan_nearby_watchers` are the local users whose clients asked for
// the people nearby: they get the list pushed as account data (bounded, see clientapi/lan.ts).
export const migration027: Migration = {
  version: 27,
  name: 'lan: the sharing setting and who watches the people nearby',
  sql: `
CREATE TABLE lan_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  sharing INTEGER,
  announce_label INTEGER,
  domains TEXT
);
CREATE TABLE lan_nearby_watchers (
  user_id TEXT PRIMARY KEY,
  since_ts INTEGER NOT NULL
);
`,
};
