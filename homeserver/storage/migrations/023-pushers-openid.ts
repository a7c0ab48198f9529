import type { Migration } from './run.ts';

// Pushers (pusher.yaml, push.md "Client behaviour"): one row per (user, app_id, pushkey). The
// device that set it is kept so that logging that device out removes its pushers (a phone that
// signed out must not keep receiving message content; Synapse does the same). What is still to
// be sent to a gateway is held in memory only (push/http-pusher.ts): a crash may lose pushes in
// flight, never a pusher.
//
// OpenID tokens (openid.yaml, server-server-api.md "OpenID"): stored as SHA-256 hashes like
// access tokens, each with its expiry; they are good for /openid/userinfo and nothing else.
export const migration023: Migration = {
  version: 23,
  name: 'pushers and OpenID tokens',
  sql: `
CREATE TABLE pushers (
  user_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  pushkey TEXT NOT NULL,
  kind TEXT NOT NULL,
  app_display_name TEXT NOT NULL,
  device_display_name TEXT NOT NULL,
  profile_tag TEXT,
  lang TEXT NOT NULL,
  -- JSON: the client's data object, url included.
  data TEXT NOT NULL,
  -- The device whose access token set it; NULL when unknown.
  device_id TEXT,
  -- When the pushkey was last set, ms (push_gateway.yaml sends it in seconds as pushkey_ts).
  pushkey_ts INTEGER NOT NULL,
  PRIMARY KEY (user_id, app_id, pushkey)
);
CREATE INDEX pushers_by_key ON pushers (app_id, pushkey);

CREATE TABLE openid_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  expires_ts INTEGER NOT NULL
);
CREATE INDEX openid_tokens_by_user ON openid_tokens (user_id, expires_ts);
`,
};
