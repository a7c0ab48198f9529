// Thumbnails with sharp (libvips), following client-server-api/modules/content_repo.md "Thumbnails":
// "scale" keeps the aspect ratio and fits inside the requested box; "crop" returns the requested
// aspect ratio, filling it. Never upscale; when the original already fits, serve the original.
import type { Sharp, default as SharpFn } from 'sharp';

// sharp (libvips) costs ~80 ms and ~17 MiB to load: only on the first image, not at every start.
let sharpModule: Promise<typeof SharpFn> | undefined;
const loadSharp = () => (sharpModule ??= import('sharp').then((m) => m.default));

/** Sources sharp decodes for us. SVG is deliberately absent: rendering it means running librsvg on untrusted XML. */
const THUMBNAILABLE = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/tiff']);
/** Sources that may be served as their own thumbnail (the spec's allowed thumbnail content types). */
const SERVABLE_AS_THUMBNAIL = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const ANIMATABLE = new Set(['image/gif', 'image/webp']);

/** Requests for more are scaled down to this (keeping their aspect ratio) unless the original fits them. */
export const MAX_THUMBNAIL_SIDE = 3200;
/** Decoding a bigger image costs too much memory (a 10,000 x 10,000 RGBA frame is 400 MB). */
export const MAX_SOURCE_PIXELS = 100_000_000;

/** The sizes content_repo.md says servers SHOULD produce. */
export const COMMON_SIZES: ReadonlyArray<{ width: number; height: number; method: ThumbnailMethod }> = [
  { width: 32, height: 32, method: 'crop' },
  { width: 96, height: 96, method: 'crop' },
  { width: 320, height: 240, method: 'scale' },
  { width: 640, height: 480, method: 'scale' },
  { width: 800, height: 600, method: 'scale' },
];

export type ThumbnailMethod = 'crop' | 'scale';

export interface ImageInfo {
  contentType: string;
  /** After EXIF orientation. */
  width: number;
  height: number;
  frames: number;
}

export interface ThumbnailRequest {
  width: number;
  height: number;
  method: ThumbnailMethod;
  animated: boolean;
}

export type ThumbnailPlan =
  | { kind: 'original' }
  | { kind: 'too-large' }
  | {
      kind: 'render';
      /** The request, bounded by MAX_THUMBNAIL_SIDE: what the cached thumbnail is filed under. */
      request: { width: number; height: number };
      width: number;
      height: number;
      contentType: string;
      animated: boolean;
    };

export function isThumbnailable(contentType: string): boolean {
  return THUMBNAILABLE.has(contentType);
}

/** Width, height and frame count from the image's header, or null when sharp cannot read it as that type. */
export async function probeImage(file: string, contentType: string): Promise<{ width: number; height: number; frames: number } | null> {
  if (!isThumbnailable(contentType)) return null;
  try {
    const sharp = await loadSharp();
    const m = await sharp(file, { failOn: 'none' }).metadata();
    const width = m.autoOrient?.width ?? m.width;
    const height = m.autoOrient?.height ?? m.height;
    if (!width || !height) return null;
    return { width, height, frames: ANIMATABLE.has(contentType) ? Math.max(1, m.pages ?? 1) : 1 };
  } catch {
    return null;
  }
}

/** Decides what to serve: pure, so that the size rules are tested without decoding anything. */
export function planThumbnail(src: ImageInfo, req: ThumbnailRequest): ThumbnailPlan {
  if (src.width * src.height > MAX_SOURCE_PIXELS) return { kind: 'too-large' };
  // animated: true asks for motion where the source has it; false or absent forbids it. Animated
  // output is WebP, as the spec's `animated` parameter prefers.
  const animated = req.animated && src.frames > 1 && ANIMATABLE.has(src.contentType);
  const fitsInside = src.width <= req.width && src.height <= req.height;
  if (fitsInside && SERVABLE_AS_THUMBNAIL.has(src.contentType) && (src.frames <= 1 || animated)) return { kind: 'original' };
  const contentType = animated ? 'image/webp' : src.contentType === 'image/jpeg' ? 'image/jpeg' : 'image/png';
  const bound = Math.min(1, MAX_THUMBNAIL_SIDE / req.width, MAX_THUMBNAIL_SIDE / req.height);
  const request = { width: Math.max(1, Math.round(req.width * bound)), height: Math.max(1, Math.round(req.height * bound)) };
  let width: number;
  let height: number;
  if (req.method === 'scale') {
    const ratio = Math.min(1, request.width / src.width, request.height / src.height);
    width = Math.max(1, Math.round(src.width * ratio));
    height = Math.max(1, Math.round(src.height * ratio));
  } else if (src.width >= request.width && src.height >= request.height) {
    width = request.width;
    height = request.height;
  } else {
    // Too small to crop to the full size: the largest box of the requested aspect ratio it holds.
    const aspect = request.width / request.height;
    width = Math.max(1, Math.min(src.width, Math.round(src.height * aspect)));
    height = Math.max(1, Math.min(src.height, Math.round(src.width / aspect)));
  }
  return { kind: 'render', request, width, height, contentType, animated };
}

export const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/gif': 'gif' };

export type RenderPlan = Extract<ThumbnailPlan, { kind: 'render' }>;

const open = async (source: string, animated: boolean) =>
  (await loadSharp())(source, { animated, limitInputPixels: MAX_SOURCE_PIXELS, failOn: 'error', autoOrient: true });

async function encode(img: Sharp, plan: RenderPlan, dest: string): Promise<{ sizeBytes: number }> {
  img = img.resize(plan.width, plan.height, { fit: 'cover', position: 'centre' });
  if (plan.contentType === 'image/jpeg') img = img.jpeg({ quality: 80 });
  else if (plan.contentType === 'image/webp') img = img.webp({ quality: 80 });
  else img = img.png();
  const info = await img.toFile(dest).catch((err: unknown) => {
    throw withErrnoCode(err);
  });
  return { sizeBytes: info.size };
}

/**
 * sharp reports a failed write only in its message ("t.png: write error\nsystem error: No space
 * left on device"); the errno name in `code` lets storage/disk-errors.ts know it for the disk's.
 */
function withErrnoCode(err: unknown): unknown {
  const message = err instanceof Error ? err.message : '';
  if (/No space left on device/i.test(message)) return Object.assign(err as Error, { code: 'ENOSPC' });
  if (/Input\/output error/i.test(message)) return Object.assign(err as Error, { code: 'EIO' });
  return err;
}

/** Renders into `dest` (a temp file). Throws when the source does not decode. */
export async function renderThumbnail(source: string, dest: string, plan: RenderPlan): Promise<{ sizeBytes: number }> {
  return encode(await open(source, plan.animated), plan, dest);
}

/**
 * Several still thumbnails of one source from a single decode: the source is shrunk once to
 * cover the largest of them (JPEG shrink-on-load makes that decode cheap too), and each is cut
 * from that. A third of the CPU of decoding the original once per size.
 */
export async function renderThumbnails(source: string, jobs: Array<{ plan: RenderPlan; dest: string }>): Promise<Array<{ sizeBytes: number }>> {
  if (jobs.length === 0) return [];
  const width = Math.max(...jobs.map((j) => j.plan.width));
  const height = Math.max(...jobs.map((j) => j.plan.height));
  const sharp = await loadSharp();
  const { data, info } = await (
    await open(source, false)
  )
    .resize(width, height, { fit: 'outside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4 } };
  const out: Array<{ sizeBytes: number }> = [];
  for (const j of jobs) out.push(await encode(sharp(data, raw), j.plan, j.dest));
  return out;
}
