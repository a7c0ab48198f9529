// The content repository (client-server-api/modules/content_repo.md): uploads, the async
// create-then-upload flow, downloads and thumbnails of local media. Knows files and the database,
// not HTTP: routes live in clientapi/media.ts.
import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Database } from '../storage/database.ts';
import { mediaStore, type MediaRow, type ThumbnailKey, type UploadedContent } from '../storage/media-store.ts';
import { diskFailure } from '../storage/disk-errors.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { isValidServerName } from '../protocol/identifiers.ts';
import { MediaFiles, isValidMediaId, newMediaId } from './media-files.ts';
import { baseType, chooseContentType, wellFormed } from './content-type.ts';
import { receiveUpload } from './receive-upload.ts';
import {
  COMMON_SIZES,
  EXTENSIONS,
  planThumbnail,
  probeImage,
  renderThumbnail,
  renderThumbnails,
  type RenderPlan,
  type ThumbnailMethod,
  type ThumbnailPlan,
  type ThumbnailRequest,
} from './thumbnailer.ts';
import { largestStandardSize, standardThumbnailSize } from './thumbnail-sizes.ts';
import { Slots } from '../lib/slots.ts';
import { DEFAULT_REMOTE_MEDIA_CACHE_BYTES, RemoteMedia, type RemoteMediaSource } from './remote-media.ts';
import type { RemoteMediaRow } from '../storage/remote-media-store.ts';

/** A row media is served from: a local upload, or a cached remote media (`remote`, media_id its file_id). */
type SourceRow = MediaRow & { content_type: string; remote: boolean };

interface ThumbnailTarget {
  key: ThumbnailKey;
  path: string;
  /** Names the render in progress, so that concurrent requests share it. */
  id: string;
  served: (sizeBytes: number) => ServedFile;
}

export interface MediaServiceOptions {
  db: Database;
  dataDir: string;
  serverName: string;
  maxUploadBytes: number;
  log: (msg: string, err?: unknown) => void;
  /** Render the spec's common thumbnail sizes in the background after each image upload. */
  pregenerateThumbnails?: boolean;
  /** Cap on the remote media cache, in bytes (config `remote_media_cache_size`). */
  remoteCacheBytes?: number;
}

export interface UploadOptions {
  contentType?: string;
  filename?: string;
  contentLength?: number;
}

/** A file to stream back, with what the response headers need. */
export interface ServedFile {
  path: string;
  contentType: string;
  sizeBytes: number;
  etag: string;
  /** The upload's own name (downloads) or a made-up one (thumbnails); null for none. */
  filename: string | null;
}

/** content_repo.md (POST /create): "The recommended default expiration is 24 hours". */
const PENDING_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** "the server should limit the number of concurrent pending media uploads a given user can have". */
const MAX_PENDING_PER_USER = 50;
/** The spec's timeout_ms default, and our cap on it ("SHOULD impose a maximum value"). */
export const DEFAULT_WAIT_MS = 20_000;
export const MAX_WAIT_MS = 60_000;
const MAX_FILENAME_LENGTH = 1024;

/**
 * Thumbnail renders at once. sharp decodes into memory (a 100-megapixel source is hundreds of MB)
 * and each render occupies a libvips thread; without a bound, a burst of requests for different
 * media multiplies both. Two at once: the machine Hearth targets (a desktop, often 2 to 4 cores) keeps cores for
 * everything else, and a render of a standard size takes tens of milliseconds, so the queue drains
 * fast. Renders of one thumbnail share one job before they get here (MediaService.rendered).
 */
export const MAX_CONCURRENT_RENDERS = 2;

export class MediaService {
  readonly serverName: string;
  readonly maxUploadBytes: number;
  private readonly db: Database;
  private readonly files: MediaFiles;
  private readonly log: MediaServiceOptions['log'];
  private readonly pregenerate: boolean;
  /** Downloads waiting for a pending (created, not yet uploaded) id. */
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Ids a PUT is streaming into right now: a second PUT must not overwrite the file under it. */
  private readonly uploading = new Set<string>();
  /** Thumbnails being rendered, so that concurrent requests for one share the work. */
  private readonly rendering = new Map<string, Promise<ServedFile>>();
  /** Background thumbnail work, one upload at a time so that it never crowds out requests. */
  private background: Promise<void> = Promise.resolve();
  /** Renders on request and in the background share these, so that a burst cannot run many at once. */
  private readonly renderSlots = new Slots(MAX_CONCURRENT_RENDERS);
  private closing = false;
  private readonly remote: RemoteMedia;

  constructor(opts: MediaServiceOptions) {
    this.db = opts.db;
    this.serverName = opts.serverName;
    this.maxUploadBytes = opts.maxUploadBytes;
    this.files = new MediaFiles(opts.dataDir);
    this.log = opts.log;
    this.pregenerate = opts.pregenerateThumbnails ?? true;
    this.remote = new RemoteMedia({
      db: opts.db,
      files: this.files,
      maxBytes: opts.maxUploadBytes,
      cacheBytes: opts.remoteCacheBytes ?? DEFAULT_REMOTE_MEDIA_CACHE_BYTES,
      log: opts.log,
    });
  }

  /** Where media of other servers comes from; without one (federation off) it is not found. */
  setRemoteSource(source: RemoteMediaSource): void {
    this.remote.source = source;
  }

  async init(): Promise<void> {
    await this.files.init();
    await this.db.write((tx) => mediaStore.deleteExpiredPending(tx, Date.now()));
  }

  /** Waits for background thumbnail work, so that the database can close under nobody. */
  async close(): Promise<void> {
    this.closing = true;
    for (const wake of [...this.waiters.values()].flatMap((s) => [...s])) wake();
    await this.background;
  }

  mxcUri(mediaId: string): string {
    return `mxc://${this.serverName}/${mediaId}`;
  }

  /** POST /upload: stores the body and returns its new media id. */
  async upload(userId: string, body: Readable, opts: UploadOptions): Promise<string> {
    const uploadName = checkFilename(opts.filename);
    const mediaId = newMediaId();
    const content = await this.receive(mediaId, body, opts, uploadName);
    try {
      await this.db.write((tx) => mediaStore.insertUploaded(tx, mediaId, userId, content, Date.now()));
    } catch (err) {
      await rm(this.files.contentPath(mediaId), { force: true });
      throw err;
    }
    this.afterUpload(mediaId, content);
    return mediaId;
  }

  /** POST /create: reserves an id for a later PUT /upload. */
  async create(userId: string): Promise<{ mediaId: string; expiresTs: number }> {
    const mediaId = newMediaId();
    const now = Date.now();
    const expiresTs = now + PENDING_LIFETIME_MS;
    await this.db.write(async (tx) => {
      if ((await mediaStore.countPending(tx, userId, now)) >= MAX_PENDING_PER_USER) {
        throw new MatrixError(429, 'M_LIMIT_EXCEEDED', `At most ${MAX_PENDING_PER_USER} created media ids may wait for their upload`);
      }
      await mediaStore.insertPending(tx, mediaId, userId, now, expiresTs);
    });
    return { mediaId, expiresTs };
  }

  /** PUT /upload/{serverName}/{mediaId}: fills an id made by create(). */
  async uploadTo(userId: string, serverName: string, mediaId: string, body: Readable, opts: UploadOptions): Promise<void> {
    const uploadName = checkFilename(opts.filename);
    if (serverName !== this.serverName || !isValidMediaId(mediaId)) throw unknownMedia();
    const row = await mediaStore.get(this.db.reader, mediaId);
    if (!row) throw unknownMedia();
    if (row.user_id !== userId) throw new MatrixError(403, 'M_FORBIDDEN', 'This media id was created by another user');
    if (row.uploaded_ts !== null || this.uploading.has(mediaId)) throw cannotOverwrite();
    if ((row.expires_ts ?? 0) <= Date.now()) throw unknownMedia();
    this.uploading.add(mediaId);
    try {
      const content = await this.receive(mediaId, body, opts, uploadName);
      let done = false;
      try {
        done = await this.db.write((tx) => mediaStore.completePending(tx, mediaId, content, Date.now()));
      } finally {
        // The bytes are in place before the row says so: without the row (the id expired, or the
        // write failed) nothing would ever serve or delete them.
        if (!done) await rm(this.files.contentPath(mediaId), { force: true });
      }
      if (!done) throw unknownMedia();
      this.afterUpload(mediaId, content);
    } finally {
      this.uploading.delete(mediaId);
    }
  }

  /**
   * The original bytes, waiting up to `timeoutMs` for a pending upload. Media of another server is
   * fetched from it (once) unless `allowRemote` is false, when only what is cached is served.
   */
  async download(serverName: string, mediaId: string, timeoutMs: number, allowRemote = true): Promise<ServedFile> {
    const row = await this.sourceRow(serverName, mediaId, timeoutMs, allowRemote);
    return this.original(row, row.upload_name);
  }

  /** A thumbnail; of remote media too, made here from the fetched original. */
  async thumbnail(serverName: string, mediaId: string, req: ThumbnailRequest, timeoutMs: number, allowRemote = true): Promise<ServedFile> {
    if (req.width < 1 || req.height < 1) throw new MatrixError(400, 'M_INVALID_PARAM', 'width and height must be at least 1');
    const row = await this.sourceRow(serverName, mediaId, timeoutMs, allowRemote);
    const standard = standardThumbnailSize(req.width, req.height, req.method);
    let plan = this.plan(row, standard ? { ...req, ...standard } : req);
    // Beyond every standard size: the original when it may be served as a thumbnail (never smaller
    // than asked, as content_repo.md requires), else the largest standard size. Never a new size.
    if (!standard && plan.kind === 'render') plan = this.plan(row, { ...req, ...largestStandardSize() });
    if (plan.kind === 'too-large') throw new MatrixError(413, 'M_TOO_LARGE', 'Content is too large to thumbnail');
    if (plan.kind === 'original') return this.original(row, `thumbnail.${EXTENSIONS[baseType(row.content_type!)] ?? 'bin'}`);
    return this.rendered(row, standard?.method ?? largestStandardSize().method, plan);
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Streams the body to a temp file, then moves it into place durably. */
  private async receive(mediaId: string, body: Readable, opts: UploadOptions, uploadName: string | null): Promise<UploadedContent> {
    const temp = this.files.tempPath();
    const got = await receiveUpload(body, temp, this.maxUploadBytes, opts.contentLength);
    const contentType = chooseContentType(got.head, opts.contentType);
    try {
      const image = await probeImage(temp, baseType(contentType));
      await this.files.commit(temp, this.files.contentPath(mediaId), true);
      return { contentType, uploadName, sizeBytes: got.sizeBytes, sha256: got.sha256, image };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  private afterUpload(mediaId: string, content: UploadedContent): void {
    for (const wake of this.waiters.get(mediaId) ?? []) wake();
    if (!this.pregenerate || !content.image || this.closing) return;
    this.background = this.background.then(() => this.pregenerateFor(mediaId)).catch((err) => this.log(`thumbnails for ${mediaId} failed`, err));
  }

  /** content_repo.md: servers SHOULD produce the common sizes; made ahead, from one decode. */
  private async pregenerateFor(mediaId: string): Promise<void> {
    if (this.closing) return;
    const row = await mediaStore.get(this.db.reader, mediaId);
    if (!row) return;
    const jobs: Array<{ plan: RenderPlan; dest: string; target: ThumbnailTarget }> = [];
    for (const size of COMMON_SIZES) {
      const plan = this.plan(row, { ...size, animated: false });
      if (plan.kind !== 'render') continue;
      const target = this.thumbnailTarget(row, size.method, plan);
      if (!jobs.some((j) => j.target.path === target.path)) jobs.push({ plan, dest: this.files.tempPath(), target });
    }
    try {
      const sizes = await this.renderSlots.run(() => renderThumbnails(this.files.contentPath(mediaId), jobs));
      for (const j of jobs) await this.files.commit(j.dest, j.target.path, false);
      const now = Date.now();
      await this.db.write(async (tx) => {
        for (const [i, j] of jobs.entries()) {
          await mediaStore.putThumbnail(tx, j.target.key, { width: j.plan.width, height: j.plan.height, sizeBytes: sizes[i]!.sizeBytes }, now);
        }
      });
    } finally {
      for (const j of jobs) await rm(j.dest, { force: true });
    }
  }

  private plan(row: MediaRow, req: ThumbnailRequest): ThumbnailPlan {
    if (row.image_width === null || row.image_height === null || row.content_type === null) {
      throw new MatrixError(400, 'M_UNKNOWN', 'Cannot generate thumbnails for the requested content');
    }
    const src = { contentType: baseType(row.content_type), width: row.image_width, height: row.image_height, frames: row.image_frames ?? 1 };
    return planThumbnail(src, req);
  }

  private async sourceRow(serverName: string, mediaId: string, timeoutMs: number, allowRemote: boolean): Promise<SourceRow> {
    if (!isValidServerName(serverName)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Not a valid server name');
    if (serverName !== this.serverName) return asSourceRow(await this.remote.get(serverName, mediaId, allowRemote, timeoutMs));
    return { ...(await this.uploadedRow(mediaId, timeoutMs)), remote: false };
  }

  /** A local, uploaded row; unknown and never-uploaded media are M_NOT_FOUND. */
  private async uploadedRow(mediaId: string, timeoutMs: number): Promise<MediaRow & { content_type: string }> {
    if (!isValidMediaId(mediaId)) throw unknownMedia();
    const deadline = Date.now() + Math.min(Math.max(0, timeoutMs), MAX_WAIT_MS);
    for (;;) {
      const row = await mediaStore.get(this.db.reader, mediaId);
      if (!row) throw unknownMedia();
      if (row.uploaded_ts !== null && row.content_type !== null) return row as MediaRow & { content_type: string };
      const now = Date.now();
      if ((row.expires_ts ?? 0) <= now) throw unknownMedia();
      if (now >= deadline || this.closing) throw new MatrixError(504, 'M_NOT_YET_UPLOADED', 'Content has not yet been uploaded');
      await this.waitForUpload(mediaId, Math.min(deadline, row.expires_ts!) - now);
    }
  }

  private waitForUpload(mediaId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(mediaId);
      if (!set) this.waiters.set(mediaId, (set = new Set()));
      const wake = () => {
        clearTimeout(timer);
        set!.delete(wake);
        if (set!.size === 0) this.waiters.delete(mediaId);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
    });
  }

  private async original(row: MediaRow & { content_type: string }, filename: string | null): Promise<ServedFile> {
    const path = this.files.contentPath(row.media_id);
    const size = await fileSize(path);
    if (size === undefined) {
      this.log(`media ${row.media_id} has a row but no file at ${path}`);
      throw unknownMedia();
    }
    return { path, contentType: row.content_type, sizeBytes: size, etag: `"${row.sha256}"`, filename };
  }

  /** Where a thumbnail is cached: its table key, its file, and how it is served. */
  private thumbnailTarget(row: MediaRow & { remote?: boolean }, method: ThumbnailMethod, plan: RenderPlan): ThumbnailTarget {
    const { width, height } = plan.request;
    const ext = EXTENSIONS[plan.contentType]!;
    const path = this.files.thumbnailPath(row.media_id, width, height, method, ext);
    const name = `${width}x${height}-${method}.${ext}`;
    return {
      key: { mediaId: row.media_id, width, height, method, contentType: plan.contentType, ...(row.remote ? { remote: true } : {}) },
      path,
      id: `${row.media_id}/${name}`,
      served: (sizeBytes) => ({ path, contentType: plan.contentType, sizeBytes, etag: `"${row.sha256}-${name}"`, filename: `thumbnail.${ext}` }),
    };
  }

  private rendered(row: SourceRow, method: ThumbnailMethod, plan: RenderPlan): Promise<ServedFile> {
    const { key, path, id, served } = this.thumbnailTarget(row, method, plan);
    let job = this.rendering.get(id);
    if (job) return job;
    job = (async () => {
      if (await mediaStore.getThumbnail(this.db.reader, key)) {
        const size = await fileSize(path);
        if (size !== undefined) return served(size);
      }
      const temp = this.files.tempPath();
      let sizeBytes: number;
      try {
        ({ sizeBytes } = await this.renderSlots.run(() => renderThumbnail(this.files.contentPath(row.media_id), temp, plan)));
        // A cache: a crash merely loses it, so no fsync.
        await this.files.commit(temp, path, false);
      } catch (err) {
        await rm(temp, { force: true });
        // No room for the new thumbnail: the disk's error (507), not a claim that the content is bad.
        if (diskFailure(err)) throw err;
        if (/pixel limit/i.test(String((err as Error)?.message))) throw new MatrixError(413, 'M_TOO_LARGE', 'Content is too large to thumbnail');
        throw new MatrixError(400, 'M_UNKNOWN', 'Cannot generate thumbnails for the requested content');
      }
      try {
        await this.db.write((tx) => mediaStore.putThumbnail(tx, key, { width: plan.width, height: plan.height, sizeBytes }, Date.now()));
      } catch (err) {
        // The file is there: serve it. Without its row it is rendered again next time, over itself.
        // A remote original evicted meanwhile takes its thumbnails' rows with it (foreign key).
        if (!diskFailure(err) && !key.remote) throw err;
      }
      return served(sizeBytes);
    })();
    this.rendering.set(id, job);
    void job.finally(() => this.rendering.delete(id)).catch(() => {});
    return job;
  }
}

/** A cached remote media in the shape local media is served from; its files are named by file_id. */
function asSourceRow(r: RemoteMediaRow): SourceRow {
  return {
    media_id: r.file_id,
    user_id: '',
    created_ts: r.fetched_ts,
    expires_ts: null,
    uploaded_ts: r.fetched_ts,
    content_type: r.content_type,
    upload_name: r.upload_name,
    size_bytes: r.size_bytes,
    sha256: r.sha256,
    image_width: r.image_width,
    image_height: r.image_height,
    image_frames: r.image_frames,
    remote: true,
  };
}

function checkFilename(filename: string | undefined): string | null {
  if (filename === undefined || filename === '') return null;
  if (filename.length > MAX_FILENAME_LENGTH) throw new MatrixError(400, 'M_INVALID_PARAM', `filename is longer than ${MAX_FILENAME_LENGTH} characters`);
  return wellFormed(filename);
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

const unknownMedia = () => new MatrixError(404, 'M_NOT_FOUND', 'Unknown media');
const cannotOverwrite = () => new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
