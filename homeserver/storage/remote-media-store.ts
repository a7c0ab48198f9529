// Tables: remote_media, remote_media_thumbnails (migrations/022-remote-media.ts).
import type { Queryable } from './sqlite.ts';
import type { UploadedContent } from './media-store.ts';

export interface RemoteMediaRow {
  server_name: string;
  media_id: string;
  file_id: string;
  content_type: string;
  upload_name: string | null;
  size_bytes: number;
  sha256: string;
  image_width: number | null;
  image_height: number | null;
  image_frames: number | null;
  fetched_ts: number;
  last_access_ts: number;
}

export const remoteMediaStore = {
  get(q: Queryable, serverName: string, mediaId: string) {
    return q.get<RemoteMediaRow>('SELECT * FROM remote_media WHERE server_name = ? AND media_id = ?', serverName, mediaId);
  },

  async insert(q: Queryable, serverName: string, mediaId: string, fileId: string, c: UploadedContent, now: number) {
    await q.run(
      `INSERT INTO remote_media (server_name, media_id, file_id, content_type, upload_name, size_bytes, sha256, image_width, image_height, image_frames, fetched_ts, last_access_ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      serverName,
      mediaId,
      fileId,
      c.contentType,
      c.uploadName,
      c.sizeBytes,
      c.sha256,
      c.image?.width ?? null,
      c.image?.height ?? null,
      c.image?.frames ?? null,
      now,
      now,
    );
  },

  async touch(q: Queryable, fileId: string, now: number) {
    await q.run('UPDATE remote_media SET last_access_ts = ? WHERE file_id = ?', now, fileId);
  },

  /** Bytes the cache holds: originals and the thumbnails made of them. */
  async totalBytes(q: Queryable): Promise<number> {
    const row = await q.get<{ n: number | null }>(
      'SELECT (SELECT COALESCE(SUM(size_bytes), 0) FROM remote_media) + (SELECT COALESCE(SUM(size_bytes), 0) FROM remote_media_thumbnails) AS n',
    );
    return row?.n ?? 0;
  },

  /** The least recently used entries, with their thumbnails' bytes counted in. */
  leastRecentlyUsed(q: Queryable, limit: number) {
    return q.all<{ file_id: string; bytes: number }>(
      `SELECT m.file_id, m.size_bytes + COALESCE((SELECT SUM(t.size_bytes) FROM remote_media_thumbnails t WHERE t.media_id = m.file_id), 0) AS bytes
       FROM remote_media m ORDER BY m.last_access_ts ASC LIMIT ?`,
      limit,
    );
  },

  /** Deletes the entry and (by cascade) its thumbnails' rows. */
  async delete(q: Queryable, fileId: string) {
    await q.run('DELETE FROM remote_media WHERE file_id = ?', fileId);
  },
};
