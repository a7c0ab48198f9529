// What the browser can tell about a file before it is uploaded: an image's size in pixels, a
// video's size and length, an audio file's length. They go in the event's `info`, so that the
// other side reserves the right box before anything loads. Best effort: a file the browser cannot
// decode is sent without them.
import type { Probed } from './media-content.ts';

/**
 * A file whose metadata takes longer to read is sent without it: reading a video's header is
 * quick, and the user is waiting for the upload to start.
 */
export const PROBE_TIMEOUT_MS = 3000;

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
  el.preload = 'metadata';
  el.muted = true;
  return new Promise<Probed>((resolve) => {
    const done = (result: Probed) => {
      clearTimeout(timer);
      el.removeAttribute('src');
      el.load();
      URL.revokeObjectURL(url);
      resolve(result);
    };
    const timer = setTimeout(() => done({}), PROBE_TIMEOUT_MS);
    el.onloadedmetadata = () => {
      const probed: Probed = {};
      if (Number.isFinite(el.duration)) probed.durationMs = Math.round(el.duration * 1000);
      if (el instanceof HTMLVideoElement && el.videoWidth && el.videoHeight) {
        probed.width = el.videoWidth;
        probed.height = el.videoHeight;
      }
      done(probed);
    };
    el.onerror = () => done({});
    el.src = url;
  });
}
