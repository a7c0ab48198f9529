// Authenticated media: the server serves media only to a signed-in client (client-server-api
// "Content repository", the /_matrix/client/v1/media endpoints of v1.11), so an <img src> cannot
// point at it. Each file is fetched with the access token in the Authorization header, turned into
// a blob and shown through an object URL. Object URLs are shared by the rows that show the same
// file, kept for a while after the last one goes (scrolling back should not fetch again), and
// revoked when they fall out of that cache, so a long session does not keep every image in memory.
// Encrypted attachments are fetched the same way, checked against their hash and decrypted here
// (lib/attachment-crypto.ts) before they become an object URL.
import { decryptAttachment, type EncryptedFile } from './attachment-crypto.ts';

export interface Mxc {
  serverName: string;
  mediaId: string;
}

/**
 * client-server-api "Matrix Content (mxc://) URIs": `mxc://<server-name>/<media-id>`, the media ID
 * made of `A-Z a-z 0-9 _ -`. Anything else (another scheme, a path, a query) is not media we fetch:
 * the URI comes from someone else's event, and it becomes part of a request path.
 */
export function parseMxc(uri: unknown): Mxc | null {
  if (typeof uri !== 'string') return null;
  const m = /^mxc:\/\/([A-Za-z0-9.:[\]-]+)\/([A-Za-z0-9_-]+)$/.exec(uri);
  // "." or ".." as the server name would be a path segment the URL parser resolves: mxc://../config
  // would fetch /_matrix/client/v1/media/config, with the token.
  if (!m || /^\.+$/.test(m[1]!)) return null;
  return { serverName: m[1]!, mediaId: m[2]! };
}

const MEDIA = '/_matrix/client/v1/media';

export function downloadPath(mxc: Mxc): string {
  return `${MEDIA}/download/${encodeURIComponent(mxc.serverName)}/${encodeURIComponent(mxc.mediaId)}`;
}

/** content_repo.md "Thumbnails": `scale` fits inside the box keeping the aspect ratio. */
export function thumbnailPath(mxc: Mxc, width: number, height: number, animated = false): string {
  const q = new URLSearchParams({ width: String(width), height: String(height), method: 'scale' });
  if (animated) q.set('animated', 'true');
  return `${MEDIA}/thumbnail/${encodeURIComponent(mxc.serverName)}/${encodeURIComponent(mxc.mediaId)}?${q}`;
}

/**
 * Object URLs no row shows any more, kept for when the user scrolls back. At the thumbnail size
 * (640 x 480 at most) 100 images are ~30 MB of decoded pixels at worst; more than a screenful
 * scrolled away and back, few enough that a long session's memory stays flat.
 */
export const IDLE_MEDIA_CACHE_ENTRIES = 100;
/**
 * And at most this many bytes of them: a few full-size photos or a video someone played weigh
 * more than a hundred thumbnails, and an idle object URL holds its blob in memory until revoked.
 * 64 MiB keeps a screenful or two of photos for scrolling back without letting a long session grow.
 */
export const IDLE_MEDIA_CACHE_BYTES = 64 * 1024 * 1024;
/**
 * What a load nobody clicked for (a thumbnail, an image shown inline, a short audio clip) reads at
 * most. The sender's info.size is their word and the server's Content-Length the server's, so the
 * reading itself stops here: a phone photo is 2-8 MB and a thumbnail well under 1 MB, while a
 * "photo" of 2 GB must not be pulled into memory by scrolling past it. Past this, a click loads it.
 */
export const AUTO_MEDIA_MAX_BYTES = 10 * 1024 * 1024;

export class MediaError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The file is larger than the load may read (an automatic load past AUTO_MEDIA_MAX_BYTES). */
export class MediaTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`The file is larger than ${formatBytes(limit)}`);
    this.limit = limit;
  }
}

export interface FetchOptions {
  /** An encrypted attachment: checked against its hash and decrypted, shown as `mimetype`. */
  encrypted?: { file: EncryptedFile; mimetype: string | null };
  /** Stop reading past this many bytes (MediaTooLargeError); no cap when absent. */
  maxBytes?: number;
}

interface Entry {
  url: Promise<string>;
  /** Set once the blob is in: what to revoke. */
  objectUrl?: string;
  /** The blob's size, once it is in (the idle cache's byte budget). */
  bytes?: number;
  refs: number;
}

export interface Lease {
  /** An object URL for the file (rejects with a MediaError when the server refuses it). */
  url: Promise<string>;
  /** The caller no longer shows it; call once. */
  release(): void;
}

export class MediaFetcher {
  private readonly entries = new Map<string, Entry>();
  /** Entries with no reference, oldest first (a Map keeps insertion order). */
  private readonly idle = new Map<string, Entry>();

  private readonly baseUrl: string;
  private readonly accessToken: () => string | null;
  private readonly fetchFn: typeof fetch;
  private readonly idleLimit: number;
  private readonly idleByteLimit: number;

  constructor(
    baseUrl: string,
    accessToken: () => string | null,
    fetchFn: typeof fetch = (input, init) => fetch(input, init),
    idleLimit = IDLE_MEDIA_CACHE_ENTRIES,
    idleByteLimit = IDLE_MEDIA_CACHE_BYTES,
  ) {
    this.baseUrl = baseUrl;
    this.accessToken = accessToken;
    this.fetchFn = fetchFn;
    this.idleLimit = idleLimit;
    this.idleByteLimit = idleByteLimit;
  }

  /**
   * The file at `path` (downloadPath or thumbnailPath), fetched once however many rows show it.
   * An encrypted one is cached under its hash, key and type too: another event pointing at the same
   * mxc:// with another key or hash must not be shown this one's plaintext, nor spoil it. A capped
   * load is cached apart from an uncapped one: the viewer must not get the row's too-large error,
   * nor a row an unbounded read.
   */
  acquire(path: string, options: FetchOptions = {}): Lease {
    const enc = options.encrypted;
    const base = enc ? `${path}#${enc.file.hashes.sha256}#${enc.file.key.k}#${enc.mimetype ?? ''}` : path;
    const key = options.maxBytes === undefined ? base : `${base}#cap=${options.maxBytes}`;
    return this.acquireKey(key, () => this.load(path, options));
  }

  private acquireKey(path: string, load: () => Promise<{ objectUrl: string; bytes: number }>): Lease {
    let entry = this.entries.get(path);
    if (!entry) {
      const created: Entry = { refs: 0, url: Promise.resolve('') };
      created.url = load().then(
        ({ objectUrl, bytes }) => {
          if (this.entries.get(path) === created) {
            created.objectUrl = objectUrl;
            created.bytes = bytes;
            // Released before it arrived: now that its weight is known, it may be over budget.
            if (this.idle.has(path)) this.trim();
          }
          // Cleared (signed out) while it loaded: nobody will revoke it later.
          else URL.revokeObjectURL(objectUrl);
          return objectUrl;
        },
        (err: unknown) => {
          // A failure is not cached: the next row to show it tries again.
          if (this.entries.get(path) === created) {
            this.entries.delete(path);
            this.idle.delete(path);
          }
          throw err;
        },
      );
      entry = created;
      this.entries.set(path, entry);
    }
    entry.refs++;
    this.idle.delete(path);
    const held = entry;
    let released = false;
    return {
      url: held.url,
      release: () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.refs === 0 && this.entries.get(path) === held) {
          this.idle.set(path, held);
          this.trim();
        }
      },
    };
  }

  /** Revokes every object URL (on sign-out: the next user must not see this one's files). */
  clear(): void {
    for (const entry of this.entries.values()) if (entry.objectUrl) URL.revokeObjectURL(entry.objectUrl);
    this.entries.clear();
    this.idle.clear();
  }

  /** How many files are held, shown or idle (for tests). */
  get size(): number {
    return this.entries.size;
  }

  private idleBytes(): number {
    let total = 0;
    for (const entry of this.idle.values()) total += entry.bytes ?? 0;
    return total;
  }

  private trim(): void {
    while (this.idle.size > 0 && (this.idle.size > this.idleLimit || this.idleBytes() > this.idleByteLimit)) {
      const [path, entry] = this.idle.entries().next().value!;
      this.idle.delete(path);
      this.entries.delete(path);
      if (entry.objectUrl) URL.revokeObjectURL(entry.objectUrl);
      // Still loading: revoke when it arrives, since it left the cache.
      else void entry.url.then((u) => URL.revokeObjectURL(u)).catch(() => {});
    }
  }

  private async load(path: string, options: FetchOptions): Promise<{ objectUrl: string; bytes: number }> {
    const token = this.accessToken();
    const res = await this.fetchFn(`${this.baseUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (!res.ok) {
      let message = `The server answered ${res.status}`;
      try {
        const body = (await res.json()) as { error?: unknown };
        if (typeof body.error === 'string') message = body.error;
      } catch {
        // Not a Matrix error body: keep the status.
      }
      throw new MediaError(res.status, message);
    }
    const bytes = await readBody(res, options.maxBytes);
    const blob = options.encrypted
      ? // The server's content type of a ciphertext means nothing: the event's info says what it is.
        new Blob([await decryptAttachment(bytes, options.encrypted.file)], { type: options.encrypted.mimetype ?? '' })
      : new Blob([bytes], { type: res.headers.get('content-type') ?? '' });
    return { objectUrl: URL.createObjectURL(inertBlob(blob)), bytes: blob.size };
  }
}

/**
 * The response's bytes, reading no more than `maxBytes` when given: a Content-Length over the cap
 * is refused before reading, and a body that runs past it (no length, or a lying one) is cancelled
 * there, so the cap bounds what is held in memory whatever the server or the sender said.
 */
export async function readBody(res: Response, maxBytes?: number): Promise<Uint8Array<ArrayBuffer>> {
  if (maxBytes === undefined || !res.body) return new Uint8Array(await res.arrayBuffer());
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body.cancel().catch(() => {});
    throw new MediaTooLargeError(maxBytes);
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new MediaTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * The server's content type is the uploader's word: a file served as text/html would become a
 * same-origin blob: page for anyone who opens the object URL in a tab. Only media types stay.
 */
export function inertBlob(blob: Blob): Blob {
  return /^(image|video|audio)\//i.test(blob.type) && !/svg|xml/i.test(blob.type) ? blob : new Blob([blob], { type: 'application/octet-stream' });
}

/** "1.4 MB": sizes as file managers show them (powers of 1024, one decimal under 10). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value)} ${units[unit]}`;
}

/** "1:05" for audio and video lengths given in milliseconds (the spec's `duration`). */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

interface SignedIn {
  session: { baseUrl: string };
  client: { getAccessToken(): string | null };
}
const fetchers = new WeakMap<SignedIn, MediaFetcher>();

/** The signed-in chat's media, fetched with its access token; one cache per chat. */
export function mediaFetcherOf(chat: SignedIn): MediaFetcher {
  let fetcher = fetchers.get(chat);
  if (!fetcher) fetchers.set(chat, (fetcher = new MediaFetcher(chat.session.baseUrl, () => chat.client.getAccessToken())));
  return fetcher;
}
