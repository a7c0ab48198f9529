import type { Migration } from './run.ts';

// Refresh tokens (client-server-api "Refreshing access tokens"). A client that asks for one at
// /login or /register gets an access token that expires and a refresh token that makes the next
// pair. Access tokens of clients that did not ask keep expires_ts NULL and never expire, as before.
// A refresh token that replaced another keeps the other's hash in `replaces_hash` until it, or the
// access token issued with it, is first used: until then the old one still works, so a client that
// lost the answer to /refresh can repeat it (the spec's rule); after, the old one is deleted.
export const migration025: Migration = {
  version: 25,
  name: 'accounts: refresh tokens and expiring access tokens',
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
`,
};
