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
 * The largest poster made for a video: the timeline shows it at most 320 x 240 CSS pixels, so
 * 640 x 480 is sharp on a 2x screen and stays a few tens of KB as JPEG.
 */
export const POSTER_BOX = { width: 640, height: 480 } as const;
/** JPEG quality of the poster: a still shown small under a play button. */
const POSTER_QUALITY = 0.8;

export async function probeMedia(file: File): Promise<Probed> {
  try {
    if (/^image\//.test(file.type)) return await probeImage(file);
    if (/^video\//.test(file.type)) return await probeElement(file, 'video');
    if (/^audio\//.test(file.type)) return await probeElement(file, 'audio');
  } catch {
    // Not decodable here: sent as it is, without sizes.
  }
  return {};
}

async function probeImage(file: File): Promise<Probed> {
  const bitmap = await createImageBitmap(file);
  try {
    return { width: bitmap.width, height: bitmap.height };
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
      void posterOf(el).then(
        (thumbnail) => done(thumbnail ? { ...probed, thumbnail } : probed),
        () => done(probed),
      );
    };
    el.onerror = () => done({});
    el.src = url;
  });
}

/** The video's current (first) frame as a JPEG, scaled to fit POSTER_BOX; null if it cannot be drawn. */
async function posterOf(video: HTMLVideoElement): Promise<{ blob: Blob; width: number; height: number } | null> {
  const scale = Math.min(1, POSTER_BOX.width / video.videoWidth, POSTER_BOX.height / video.videoHeight);
  const width = Math.max(1, Math.round(video.videoWidth * scale));
  const height = Math.max(1, Math.round(video.videoHeight * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.drawImage(video, 0, 0, width, height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', POSTER_QUALITY));
  return blob ? { blob, width, height } : null;
}
