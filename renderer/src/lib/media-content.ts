// The content of media messages, both ways: what a received m.image / m.video / m.audio / m.file
// says (client-server-api "m.room.message msgtypes"), checked field by field since it comes from
// any client, and the content this client sends for an uploaded file.
import { parseEncryptedFile, type EncryptedFile } from './attachment-crypto.ts';
import { parseMxc, type Mxc } from './media.ts';

export type MediaKind = 'image' | 'video' | 'audio' | 'file';

export interface MediaMessage {
  kind: MediaKind;
  /** The file's name: `filename`, else `body` (before v1.10 the body was the file name). */
  name: string;
  /** Text sent with the file (v1.10 "Media captions": a `body` that differs from `filename`). */
  caption: string | null;
  /** The file (of `url`, or of `file` when encrypted); null when it is not a well-formed mxc:// one. */
  mxc: Mxc | null;
  /** Sent in an encrypted room (`file` instead of `url`, end_to_end_encryption.md). */
  encrypted: boolean;
  /** How to check and decrypt it; null when not encrypted, or when the EncryptedFile is malformed. */
  file: EncryptedFile | null;
  mimetype: string | null;
  size: number | null;
  /** Pixels, for images and videos: reserves the box before anything loads. */
  width: number | null;
  height: number | null;
  durationMs: number | null;
  /** A thumbnail the sender uploaded (info.thumbnail_url or thumbnail_file): a video's poster. */
  thumbnail: Mxc | null;
  /** The encrypted thumbnail's key and hash (info.thumbnail_file). */
  thumbnailFile: EncryptedFile | null;
  /** info.thumbnail_info.mimetype: what an encrypted thumbnail is shown as. */
  thumbnailMimetype: string | null;
}

const KINDS: Record<string, MediaKind> = { 'm.image': 'image', 'm.video': 'video', 'm.audio': 'audio', 'm.file': 'file' };

/** Media messages; null for any other msgtype. */
export function mediaMessage(content: Record<string, unknown>): MediaMessage | null {
  const kind = typeof content.msgtype === 'string' ? KINDS[content.msgtype] : undefined;
  if (!kind) return null;
  const info = isObject(content.info) ? content.info : {};
  const body = typeof content.body === 'string' ? content.body : '';
  const filename = typeof content.filename === 'string' && content.filename ? content.filename : null;
  const encrypted = isObject(content.file);
  const file = encrypted ? parseEncryptedFile(content.file) : null;
  const thumbnailFile = encrypted ? parseEncryptedFile(info.thumbnail_file) : null;
  const thumbnailInfo = isObject(info.thumbnail_info) ? info.thumbnail_info : {};
  return {
    kind,
    name: filename ?? (body || 'Attachment'),
    caption: filename && body && body !== filename ? body : null,
    mxc: encrypted ? (file ? parseMxc(file.url) : null) : parseMxc(content.url),
    encrypted,
    file,
    mimetype: typeof info.mimetype === 'string' ? info.mimetype : null,
    size: count(info.size),
    width: dimension(info.w),
    height: dimension(info.h),
    durationMs: count(info.duration),
    thumbnail: encrypted ? (thumbnailFile ? parseMxc(thumbnailFile.url) : null) : parseMxc(info.thumbnail_url),
    thumbnailFile,
    thumbnailMimetype: typeof thumbnailInfo.mimetype === 'string' ? thumbnailInfo.mimetype : null,
  };
}

/** The largest box an image or video takes in the timeline, in CSS pixels. */
export const INLINE_MEDIA_BOX = { width: 320, height: 240 } as const;
/** The box for an image whose size the event does not give. */
export const UNKNOWN_MEDIA_BOX = { width: 240, height: 180 } as const;

/** Scales (w, h) down to fit in the box, keeping its aspect ratio; never up. */
export function fitBox(
  width: number | null,
  height: number | null,
  box: { width: number; height: number } = INLINE_MEDIA_BOX,
): { width: number; height: number } {
  if (!width || !height) return { ...UNKNOWN_MEDIA_BOX };
  const scale = Math.min(1, box.width / width, box.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Which msgtype a file of this MIME type is sent as. SVG is a file: the server does not thumbnail it. */
export function msgtypeFor(mimetype: string): 'm.image' | 'm.video' | 'm.audio' | 'm.file' {
  if (/^image\/(png|jpeg|gif|webp|avif)$/i.test(mimetype)) return 'm.image';
  if (/^video\//i.test(mimetype)) return 'm.video';
  if (/^audio\//i.test(mimetype)) return 'm.audio';
  return 'm.file';
}

export interface Probed {
  width?: number;
  height?: number;
  durationMs?: number;
  /** A picture made in the browser: a video's first frame (its poster), an encrypted image's thumbnail. */
  thumbnail?: { blob: Blob; width: number; height: number };
}

/** Where an uploaded file (or its thumbnail) is: its mxc:// URI, plus its key and hash when encrypted. */
export interface Uploaded {
  contentUri: string;
  encrypted?: Omit<EncryptedFile, 'url'>;
}

/**
 * The m.room.message content for an uploaded file: body and filename are its name, info what we
 * know of it. An encrypted upload goes in `file` (and its thumbnail in info.thumbnail_file)
 * instead of `url` / thumbnail_url (end_to_end_encryption.md "Extensions to m.room.message msgtypes").
 */
export function uploadedContent(
  file: { name: string; type: string; size: number },
  uploaded: string | Uploaded,
  probed: Probed = {},
  thumbnail?: Uploaded,
): Record<string, unknown> {
  const { contentUri, encrypted } = typeof uploaded === 'string' ? { contentUri: uploaded, encrypted: undefined } : uploaded;
  const mimetype = file.type || 'application/octet-stream';
  const msgtype = msgtypeFor(mimetype);
  const info: Record<string, unknown> = { mimetype, size: file.size };
  if (msgtype === 'm.image' || msgtype === 'm.video') {
    if (probed.width && probed.height) {
      info.w = probed.width;
      info.h = probed.height;
    }
  }
  if ((msgtype === 'm.audio' || msgtype === 'm.video') && probed.durationMs !== undefined) info.duration = probed.durationMs;
  if (thumbnail && probed.thumbnail) {
    if (thumbnail.encrypted) info.thumbnail_file = { ...thumbnail.encrypted, url: thumbnail.contentUri };
    else info.thumbnail_url = thumbnail.contentUri;
    info.thumbnail_info = { mimetype: probed.thumbnail.blob.type, size: probed.thumbnail.blob.size, w: probed.thumbnail.width, h: probed.thumbnail.height };
  }
  const name = file.name || 'file';
  const where = encrypted ? { file: { ...encrypted, url: contentUri } } : { url: contentUri };
  return { msgtype, body: name, filename: name, ...where, info };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-negative integer, as the spec's `size` and `duration`; anything else is unknown. */
function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

/** Image sides up to a bound: a hostile `w: 1e9` must not make a giant box. */
function dimension(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 100_000 ? v : null;
}
