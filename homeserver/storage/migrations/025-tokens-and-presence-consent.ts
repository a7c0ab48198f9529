import type { Migration } from './run.ts';

// Refresh tokens (client-server-api "Refreshing access tokens"). A client that asks for one at
// /login or /register gets an access token that expires and a refresh token that makes the next
// pair. Access tokens of clients that did not ask keep expires_ts NULL and never expire, as before.
// A refresh token that replaced another keeps the other's hash in `replaces_hash` until it, or the
// access token issued with it, is first used: until then the old one still works, so a client that
// lost the answer to /refresh can repeat it (the spec's rule); after, the old one is deleted.
//
// The seed's presence list ("Presence List", "Presence and Permissions") shows a user's presence
// only to those the user allowed: an entry is a request until its target consents. Entries made
// before this column were accepted without asking anyone; they become requests again (accepted 0),
// since nobody consented to them.
export const migration025: Migration = {
  version: 25,
  name: 'accounts: refresh tokens and expiring access tokens; edus: presence list consent',
  sql: `
ALTER TABLE access_tokens ADD COLUMN expires_ts INTEGER;
ALTER TABLE access_tokens ADD COLUMN refresh_token_hash TEXT;
CREATE INDEX access_tokens_by_refresh_token ON access_tokens (refresh_token_hash) WHERE refresh_token_hash IS NOT NULL;
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  created_ts INTEGER NOT NULL,
  replaces_hash TEXT
);
CREATE INDEX refresh_tokens_by_device ON refresh_tokens (user_id, device_id);
CREATE INDEX refresh_tokens_by_replaced ON refresh_tokens (replaces_hash) WHERE replaces_hash IS NOT NULL;
ALTER TABLE presence_list ADD COLUMN accepted INTEGER NOT NULL DEFAULT 0;
CREATE INDEX presence_list_by_target ON presence_list (target, owner);
`,
};
