// Media of other servers for local clients (server-server-api.md "Content Repository"): fetched
// once through a RemoteMediaSource (federation/remote-media-source.ts), then served from a local
// cache held to the same rules as uploads (size limit, content type chosen by sniffing) and to a
// total size, least recently used first out. Concurrent requests for one item share one fetch; a
// fetch that fails half way leaves nothing behind (temp file, renamed only once complete).
import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Database } from '../storage/database.ts';
import { remoteMediaStore, type RemoteMediaRow } from '../storage/remote-media-store.ts';
import { diskFailure } from '../storage/disk-errors.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { Slots } from '../lib/slots.ts';
import { MediaFiles, isValidMediaId, newMediaId } from './media-files.ts';
import { baseType, chooseContentType, wellFormed } from './content-type.ts';
import { receiveUpload } from './receive-upload.ts';
import { probeImage } from './thumbnailer.ts';

/** One remote server's answer with the media's bytes, whichever endpoint gave it. */
export interface RemoteMediaResponse {
  /** The Content-Type the remote declared for the bytes. */
  contentType: string | undefined;
  /** The file name from its Content-Disposition, if any. */
  filename: string | undefined;
  /** The length it announced, when it did: more than the limit is refused before reading. */
  length: number | undefined;
  body: Readable;
  /** Drops the connection: used when the body is refused part way. */
  abort(): void;
}

/** How media is fetched from another server; federation provides it (media knows no HTTP). */
export interface RemoteMediaSource {
  /** Throws a MatrixError (404 when the remote has no such media, 502 when it cannot be reached). */
  fetch(serverName: string, mediaId: string, timeoutMs: number): Promise<RemoteMediaResponse>;
}

/**
 * Remote fetches at once. Each holds a connection and a temp file being written; a room full of
 * images from many servers must not open a connection per image at once, nor let one slow server
 * hold every slot for long (the idle timeout of federation/remote-media-source.ts bounds that).
 * Four: a desktop's uplink is shared, and fetches of one item are already merged into one.
 */
export const MAX_CONCURRENT_REMOTE_FETCHES = 4;
/** Fetches waiting for a slot beyond which a request is refused (429) instead of queuing. */
export const MAX_WAITING_REMOTE_FETCHES = 256;
/**
 * The default cap on the remote media cache (config `remote_media_cache_size`): 1 GiB is a few
 * thousand photos, a year of a busy room's images, and little on a desktop's disk.
 */
export const DEFAULT_REMOTE_MEDIA_CACHE_BYTES = 1024 * 1024 * 1024;
/** last_access_ts is written at most this often per item: a cached download costs no write. */
const TOUCH_INTERVAL_MS = 60_000;
/** Entries considered per eviction query. */
const EVICTION_BATCH = 64;

export interface RemoteMediaOptions {
  db: Database;
  files: MediaFiles;
  /** The upload limit: remote media larger than a local user could upload is refused too. */
  maxBytes: number;
  cacheBytes: number;
  log: (msg: string, err?: unknown) => void;
}

export class RemoteMedia {
  source: RemoteMediaSource | undefined;
  private readonly opts: RemoteMediaOptions;
  private readonly inflight = new Map<string, Promise<RemoteMediaRow>>();
  private readonly slots = new Slots(MAX_CONCURRENT_REMOTE_FETCHES, {
    maxWaiting: MAX_WAITING_REMOTE_FETCHES,
    refuse: () => new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many remote media fetches are waiting', { retry_after_ms: 1000 }),
  });
  /** Evictions run one at a time, so that two never delete the same entry. */
  private evicting: Promise<void> = Promise.resolve();

  constructor(opts: RemoteMediaOptions) {
    this.opts = opts;
  }

  /**
   * The cached entry for mxc://serverName/mediaId, fetched first when needed. With `allowRemote`
   * false (the legacy endpoints' allow_remote, content-repo.yaml) only the cache answers.
   */
  async get(serverName: string, mediaId: string, allowRemote: boolean, timeoutMs: number): Promise<RemoteMediaRow> {
    if (!isValidMediaId(mediaId)) throw notFound();
    const cached = await this.cached(serverName, mediaId);
    if (cached) return cached;
    if (!allowRemote) throw notFound();
    if (!this.source) throw new MatrixError(404, 'M_NOT_FOUND', 'Remote media is not available on this server');
    const key = `${serverName.toLowerCase()}/${mediaId}`;
    let job = this.inflight.get(key);
    if (!job) {
      job = this.slots.run(async () => (await this.cached(serverName, mediaId)) ?? this.fetch(serverName, mediaId, timeoutMs));
      this.inflight.set(key, job);
      void job.finally(() => this.inflight.delete(key)).catch(() => {});
    }
    return job;
  }

  private async cached(serverName: string, mediaId: string): Promise<RemoteMediaRow | undefined> {
    const row = await remoteMediaStore.get(this.opts.db.reader, serverName, mediaId);
    if (!row) return undefined;
    if (!(await exists(this.opts.files.contentPath(row.file_id)))) {
      // The file went (a crash between rename and row, a manual clean-up): fetch it again.
      this.opts.log(`remote media ${serverName}/${mediaId} has a row but no file; fetching it again`);
      await this.forget(row.file_id);
      return undefined;
    }
    const now = Date.now();
    if (now - row.last_access_ts > TOUCH_INTERVAL_MS) {
      await this.opts.db
        .write((tx) => remoteMediaStore.touch(tx, row.file_id, now))
        .catch((err: unknown) => {
          if (!diskFailure(err)) throw err;
        });
    }
    return row;
  }

  private async fetch(serverName: string, mediaId: string, timeoutMs: number): Promise<RemoteMediaRow> {
    const { files, maxBytes, db } = this.opts;
    const res = await this.source!.fetch(serverName, mediaId, timeoutMs);
    const fileId = newMediaId();
    const temp = files.tempPath();
    let committed = false;
    try {
      if (res.length !== undefined && res.length > maxBytes) throw tooLarge(serverName, maxBytes);
      let got;
      try {
        got = await receiveUpload(res.body, temp, maxBytes, undefined);
      } catch (err) {
        if (diskFailure(err)) throw err;
        if (err instanceof MatrixError && err.errcode === 'M_TOO_LARGE') throw tooLarge(serverName, maxBytes);
        throw new MatrixError(502, 'M_UNKNOWN', `Could not fetch the media from ${serverName}`);
      }
      if (res.length !== undefined && got.sizeBytes !== res.length) throw new MatrixError(502, 'M_UNKNOWN', `Could not fetch the media from ${serverName}`);
      // The same rules as an upload: the bytes say what they are before the remote's word does.
      const contentType = chooseContentType(got.head, res.contentType);
      const image = await probeImage(temp, baseType(contentType));
      const filename = res.filename === undefined || res.filename === '' || res.filename.length > 1024 ? null : wellFormed(res.filename);
      const content = { contentType, uploadName: filename, sizeBytes: got.sizeBytes, sha256: got.sha256, image };
      // A cache: a crash loses at most this entry, so no fsync.
      await files.commit(temp, files.contentPath(fileId), false);
      committed = true;
      await db.write((tx) => remoteMediaStore.insert(tx, serverName, mediaId, fileId, content, Date.now()));
    } catch (err) {
      res.abort();
      await rm(temp, { force: true });
      if (committed) await rm(files.contentPath(fileId), { force: true });
      throw err;
    }
    this.evicting = this.evicting.then(() => this.evict(fileId)).catch((err) => this.opts.log('remote media eviction failed', err));
    await this.evicting;
    return (await remoteMediaStore.get(db.reader, serverName, mediaId))!;
  }

  /** Deletes least recently used entries (never `keep`, just fetched) until the cache fits its cap. */
  private async evict(keep: string): Promise<void> {
    const { db, cacheBytes } = this.opts;
    let total = await remoteMediaStore.totalBytes(db.reader);
    while (total > cacheBytes) {
      const batch = (await remoteMediaStore.leastRecentlyUsed(db.reader, EVICTION_BATCH)).filter((r) => r.file_id !== keep);
      if (batch.length === 0) return;
      for (const entry of batch) {
        if (total <= cacheBytes) break;
        await this.forget(entry.file_id);
        total -= entry.bytes;
      }
    }
  }

  /** Row first, files after: a file without a row is harmless, a row without its file is fetched again. */
  private async forget(fileId: string): Promise<void> {
    await this.opts.db.write((tx) => remoteMediaStore.delete(tx, fileId));
    await rm(this.opts.files.contentPath(fileId), { force: true });
    await rm(this.opts.files.thumbnailDir(fileId), { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

const notFound = () => new MatrixError(404, 'M_NOT_FOUND', 'Unknown media');
/** authed-content-repo.yaml 502: "The content is too large for the server to serve." */
const tooLarge = (serverName: string, limit: number) =>
  new MatrixError(502, 'M_TOO_LARGE', `The media on ${serverName} is larger than this server's limit of ${limit} bytes`);
