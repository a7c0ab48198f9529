import type { Migration } from './run.ts';

// The content repository (client-server-api/modules/content_repo.md). The bytes live in files
// under <dataDir>/media; these tables say which files exist, who uploaded them and how to serve them.
export const migration002: Migration = {
  version: 2,
  name: 'content repository: media and thumbnails',
  sql: `
CREATE TABLE media (
  media_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_ts INTEGER NOT NULL,
  -- Set by POST /create for an upload that has not happened yet; NULL once uploaded.
  expires_ts INTEGER,
  -- NULL until the bytes are in place (POST /upload fills them at once, PUT /upload later).
  uploaded_ts INTEGER,
  content_type TEXT,
  upload_name TEXT,
  size_bytes INTEGER,
  sha256 TEXT,
  -- Filled for images that can be thumbnailed: size after EXIF orientation, and frame count.
  image_width INTEGER,
  image_height INTEGER,
  image_frames INTEGER
);
CREATE INDEX media_pending_by_user ON media (user_id, expires_ts);

CREATE TABLE media_thumbnails (
  media_id TEXT NOT NULL REFERENCES media (media_id) ON DELETE CASCADE,
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
