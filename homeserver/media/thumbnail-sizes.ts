// Which thumbnail is made for a request: only the standard sizes of content_repo.md "Thumbnails"
// (32x32 crop, 96x96 crop, 320x240 scale, 640x480 scale, 800x600 scale) are ever rendered and
// kept. Rendering every size a client names let unauthenticated requests fill the disk (issue
// #13: 80 requests of different sizes, 74 MB), so a request is answered with the smallest
// standard size that is at least as large as it asked for, as Synapse does when
// dynamic_thumbnails is off (media/_base.py ThumbnailProvider._select_thumbnail).
import { COMMON_SIZES, type ThumbnailMethod } from './thumbnailer.ts';

export interface StandardSize {
  width: number;
  height: number;
  method: ThumbnailMethod;
}

const covers = (s: StandardSize, width: number, height: number) => s.width >= width && s.height >= height;

/**
 * The smallest standard size at least as large as the request, or undefined when the request is
 * larger than every one (the caller then serves the original or the largest, see largestStandardSize).
 * A crop request is cropped only to a standard crop size (both are square); beyond 96x96 it gets a
 * scaled thumbnail that covers it, which the client crops itself: "The client should scale the
 * image if it needs to fit within a given rectangle".
 */
export function standardThumbnailSize(width: number, height: number, method: ThumbnailMethod): StandardSize | undefined {
  const byArea = [...COMMON_SIZES].sort((a, b) => a.width * a.height - b.width * b.height);
  if (method === 'crop') {
    const crop = byArea.find((s) => s.method === 'crop' && covers(s, width, height));
    if (crop) return crop;
  }
  return byArea.find((s) => s.method === 'scale' && covers(s, width, height));
}

/** The largest standard size: what a request beyond every standard size gets when the original cannot be served. */
export function largestStandardSize(): StandardSize {
  return [...COMMON_SIZES].sort((a, b) => b.width * b.height - a.width * a.height)[0]!;
}
