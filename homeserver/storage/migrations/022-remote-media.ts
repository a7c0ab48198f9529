import type { Migration } from './run.ts';

// Media of other servers, fetched for local clients and kept as a cache (server-server-api.md
// "Content Repository"). The bytes live under <dataDir>/media like uploads, named by `file_id`, a
// local random id that never appears in an mxc:// URI: a remote id is chosen by another server
// and may clash with ours. The cache is bounded (remote_media_cache_size); the least recently
// used entries go first.
export const migration022: Migration = {
  version: 22,
  name: 'remote media cache',
  sql: `
CREATE TABLE remote_media (
  server_name TEXT NOT NULL,
  media_id TEXT NOT NULL,
  file_id TEXT NOT NULL UNIQUE,
  content_type TEXT NOT NULL,
  upload_name TEXT,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  image_width INTEGER,
  image_height INTEGER,
  image_frames INTEGER,
  fetched_ts INTEGER NOT NULL,
  last_access_ts INTEGER NOT NULL,
  PRIMARY KEY (server_name, media_id)
);
CREATE INDEX remote_media_by_access ON remote_media (last_access_ts);

-- Thumbnails of remote media, made here: media_id holds the remote_media row's file_id.
CREATE TABLE remote_media_thumbnails (
  media_id TEXT NOT NULL REFERENCES remote_media (file_id) ON DELETE CASCADE,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  method TEXT NOT NULL,
  content_type TEXT NOT NULL,
  actual_width INTEGER NOT NULL,
  actual_height INTEGER NOT NULL,
  size_bytes INTEGER NOT NULL,
  created_ts INTEGER NOT NULL,
  PRIMARY KEY (media_id, width, height, method, content_type)
);
`,
};
