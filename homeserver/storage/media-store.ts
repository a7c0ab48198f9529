// Tables: media, media_thumbnails (migrations/002-media.ts).
import type { Queryable } from './sqlite.ts';

export interface MediaRow {
  media_id: string;
  user_id: string;
  created_ts: number;
  expires_ts: number | null;
  uploaded_ts: number | null;
  content_type: string | null;
  upload_name: string | null;
  size_bytes: number | null;
  sha256: string | null;
  image_width: number | null;
  image_height: number | null;
  image_frames: number | null;
}

/** What an upload learnt about its bytes. */
export interface UploadedContent {
  contentType: string;
  uploadName: string | null;
  sizeBytes: number;
  sha256: string;
  image: { width: number; height: number; frames: number } | null;
}

export interface ThumbnailKey {
  /** A local media id, or a remote media's file_id when `remote` is set. */
  mediaId: string;
  /** A thumbnail of cached remote media (remote_media_thumbnails, migrations/022-remote-media.ts). */
  remote?: boolean;
  width: number;
  height: number;
  method: 'crop' | 'scale';
  contentType: string;
}

export interface ThumbnailRow {
  media_id: string;
  width: number;
  height: number;
  method: string;
  content_type: string;
  actual_width: number;
  actual_height: number;
  size_bytes: number;
  created_ts: number;
}

export const mediaStore = {
  get(q: Queryable, mediaId: string) {
    return q.get<MediaRow>('SELECT * FROM media WHERE media_id = ?', mediaId);
  },

  /** A finished upload (POST /upload): the row is born complete. */
  async insertUploaded(q: Queryable, mediaId: string, userId: string, c: UploadedContent, now: number) {
    await q.run(
      `INSERT INTO media (media_id, user_id, created_ts, expires_ts, uploaded_ts, content_type, upload_name, size_bytes, sha256, image_width, image_height, image_frames)
       VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)`,
      mediaId,
      userId,
      now,
      now,
      c.contentType,
      c.uploadName,
      c.sizeBytes,
      c.sha256,
      c.image?.width ?? null,
      c.image?.height ?? null,
      c.image?.frames ?? null,
    );
  },

  /** POST /create: an id reserved for a later PUT /upload. */
  async insertPending(q: Queryable, mediaId: string, userId: string, now: number, expiresTs: number) {
    await q.run('INSERT INTO media (media_id, user_id, created_ts, expires_ts) VALUES (?, ?, ?, ?)', mediaId, userId, now, expiresTs);
  },

  /** Fills a pending row; false when it was no longer pending (uploaded meanwhile, or expired). */
  async completePending(q: Queryable, mediaId: string, c: UploadedContent, now: number): Promise<boolean> {
    const r = await q.run(
      `UPDATE media SET uploaded_ts = ?, expires_ts = NULL, content_type = ?, upload_name = ?, size_bytes = ?, sha256 = ?,
         image_width = ?, image_height = ?, image_frames = ?
       WHERE media_id = ? AND uploaded_ts IS NULL AND expires_ts > ?`,
      now,
      c.contentType,
      c.uploadName,
      c.sizeBytes,
      c.sha256,
      c.image?.width ?? null,
      c.image?.height ?? null,
      c.image?.frames ?? null,
      mediaId,
      now,
    );
    return r.changes === 1;
  },

  async countPending(q: Queryable, userId: string, now: number): Promise<number> {
    const row = await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM media WHERE user_id = ? AND uploaded_ts IS NULL AND expires_ts > ?', userId, now);
    return row?.n ?? 0;
  },

  /** Drops reservations that were never used; their ids were never served. */
  async deleteExpiredPending(q: Queryable, now: number): Promise<number> {
    const r = await q.run('DELETE FROM media WHERE uploaded_ts IS NULL AND expires_ts <= ?', now);
    return r.changes;
  },

  getThumbnail(q: Queryable, k: ThumbnailKey) {
    return q.get<ThumbnailRow>(
      `SELECT * FROM ${thumbnailTable(k)} WHERE media_id = ? AND width = ? AND height = ? AND method = ? AND content_type = ?`,
      k.mediaId,
      k.width,
      k.height,
      k.method,
      k.contentType,
    );
  },

  async putThumbnail(q: Queryable, k: ThumbnailKey, actual: { width: number; height: number; sizeBytes: number }, now: number) {
    await q.run(
      `INSERT INTO ${thumbnailTable(k)} (media_id, width, height, method, content_type, actual_width, actual_height, size_bytes, created_ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (media_id, width, height, method, content_type) DO UPDATE SET actual_width = excluded.actual_width,
         actual_height = excluded.actual_height, size_bytes = excluded.size_bytes, created_ts = excluded.created_ts`,
      k.mediaId,
      k.width,
      k.height,
      k.method,
      k.contentType,
      actual.width,
      actual.height,
      actual.sizeBytes,
      now,
    );
  },
};

/** Only these two names ever reach the SQL: the table is chosen by a flag, never by input. */
function thumbnailTable(k: ThumbnailKey): 'media_thumbnails' | 'remote_media_thumbnails' {
  return k.remote ? 'remote_media_thumbnails' : 'media_thumbnails';
}
