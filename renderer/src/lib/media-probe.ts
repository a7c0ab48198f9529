// What the browser can tell about a file before it is uploaded: an image's size in pixels, a
// video's size and length, an audio file's length. They go in the event's `info`, so that the
// other side reserves the right box before anything loads. A video also gets a poster: its first
// frame drawn on a canvas, uploaded beside it as its thumbnail, since nobody else can make one (the
// server does not decode video, and cannot read an encrypted one at all). Best effort: a file the
// browser cannot decode is sent without them.
import type { Probed } from './media-content.ts';

/**
 * A file whose metadata takes longer to read is sent without it: reading a video's header is
 * quick, and the user is waiting for the upload to start.
 */
export const PROBE_TIMEOUT_MS = 3000;

/**
 * The largest poster (or encrypted image's thumbnail) made here: the timeline shows it at most
 * 320 x 240 CSS pixels, so 640 x 480 is sharp on a 2x screen and stays a few tens of KB as JPEG.
 */
export const THUMBNAIL_BOX = { width: 640, height: 480 } as const;
/** JPEG quality of posters and thumbnails: stills shown small, which a click shows whole. */
const POSTER_QUALITY = 0.8;

/**
 * `thumbnailImages`: also make a thumbnail of an image larger than THUMBNAIL_BOX (in an encrypted
 * room, where the server cannot thumbnail the ciphertext and each viewer would otherwise fetch the
 * whole photo).
 */
export async function probeMedia(file: File, { thumbnailImages = false } = {}): Promise<Probed> {
  try {
    if (/^image\//.test(file.type)) return await probeImage(file, thumbnailImages);
    if (/^video\//.test(file.type)) return await probeElement(file, 'video');
    if (/^audio\//.test(file.type)) return await probeElement(file, 'audio');
  } catch {
    // Not decodable here: sent as it is, without sizes.
  }
  return {};
}

async function probeImage(file: File, thumbnail: boolean): Promise<Probed> {
  const bitmap = await createImageBitmap(file);
  try {
    const probed: Probed = { width: bitmap.width, height: bitmap.height };
    // An image that may move (GIF, WebP, APNG) is not given a still: shown inline it would never
    // animate. Its own file loads instead, under the automatic-load cap (lib/media.ts).
    const mayAnimate = file.type === 'image/gif' || file.type === 'image/webp' || file.type === 'image/apng';
    if (thumbnail && !mayAnimate && (bitmap.width > THUMBNAIL_BOX.width || bitmap.height > THUMBNAIL_BOX.height)) {
      // A PNG keeps its transparency; anything else (photos) becomes a JPEG.
      const made = await stillOf(bitmap, bitmap.width, bitmap.height, file.type === 'image/png' ? 'image/png' : 'image/jpeg').catch(() => null);
      if (made) probed.thumbnail = made;
    }
    return probed;
  } finally {
    bitmap.close();
  }
}

function probeElement(file: File, tag: 'video' | 'audio'): Promise<Probed> {
  const url = URL.createObjectURL(file);
  const el = document.createElement(tag);
  // A video reads up to its first frame (the poster); the file is local, nothing goes over the network.
  el.preload = tag === 'video' ? 'auto' : 'metadata';
  el.muted = true;
  return new Promise<Probed>((resolve) => {
    let settled = false;
    const probed: Probed = {};
    const done = (result: Probed) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      el.removeAttribute('src');
      el.load();
      URL.revokeObjectURL(url);
      resolve(result);
    };
    // Out of time: what was read so far (the sizes without a poster, say).
    const timer = setTimeout(() => done(probed), PROBE_TIMEOUT_MS);
    el.onloadedmetadata = () => {
      if (Number.isFinite(el.duration)) probed.durationMs = Math.round(el.duration * 1000);
      if (el instanceof HTMLVideoElement && el.videoWidth && el.videoHeight) {
        probed.width = el.videoWidth;
        probed.height = el.videoHeight;
      } else done(probed);
      // A video waits for its first frame (loadeddata).
    };
    el.onloadeddata = () => {
      if (!(el instanceof HTMLVideoElement) || !el.videoWidth) return done(probed);
      void stillOf(el, el.videoWidth, el.videoHeight, 'image/jpeg').then(
        (thumbnail) => done(thumbnail ? { ...probed, thumbnail } : probed),
        () => done(probed),
      );
    };
    el.onerror = () => done({});
    el.src = url;
  });
}

/**
 * A picture (an image, or a video's current, first frame) scaled to fit THUMBNAIL_BOX, encoded as
 * `type`; null if it cannot be drawn.
 */
async function stillOf(
  source: CanvasImageSource,
  sourceWidth: number,
  sourceHeight: number,
  type: 'image/jpeg' | 'image/png',
): Promise<{ blob: Blob; width: number; height: number } | null> {
  const scale = Math.min(1, THUMBNAIL_BOX.width / sourceWidth, THUMBNAIL_BOX.height / sourceHeight);
  const width = Math.max(1, Math.round(sourceWidth * scale));
  const height = Math.max(1, Math.round(sourceHeight * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.drawImage(source, 0, 0, width, height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, POSTER_QUALITY));
  return blob ? { blob, width, height } : null;
}
