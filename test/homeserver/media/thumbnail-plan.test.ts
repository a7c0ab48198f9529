// The thumbnail size rules of content_repo.md "Thumbnails", as a pure function: what is served for
// each source size, request and method, before any pixel is decoded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_SOURCE_PIXELS, planThumbnail, type ImageInfo, type ThumbnailRequest } from '../../../homeserver/media/thumbnailer.ts';

const jpeg = (width: number, height: number): ImageInfo => ({ contentType: 'image/jpeg', width, height, frames: 1 });
const req = (width: number, height: number, method: 'crop' | 'scale', animated = false): ThumbnailRequest => ({ width, height, method, animated });

describe('planThumbnail', () => {
  const renders: Array<[string, ImageInfo, ThumbnailRequest, [number, number]]> = [
    ['crop to the exact box', jpeg(1600, 1200), req(96, 96, 'crop'), [96, 96]],
    ['crop a wide box from a tall image', jpeg(600, 1200), req(320, 100, 'crop'), [320, 100]],
    ['scale fits inside, bounded by width', jpeg(1600, 1200), req(320, 320, 'scale'), [320, 240]],
    ['scale fits inside, bounded by height', jpeg(1600, 1200), req(800, 300, 'scale'), [400, 300]],
    ['scale of a panorama', jpeg(4000, 1000), req(320, 240, 'scale'), [320, 80]],
    ['crop when the source is narrower than the box: largest box of that aspect, no upscaling', jpeg(400, 300), req(600, 200, 'crop'), [400, 133]],
    ['crop when the source is shorter than the box', jpeg(300, 400), req(200, 600, 'crop'), [133, 400]],
    ['scale when only one side is larger keeps the other smaller', jpeg(1000, 100), req(500, 500, 'scale'), [500, 50]],
    ['a 1-pixel-high image never becomes 0 pixels high', jpeg(5000, 1), req(100, 100, 'scale'), [100, 1]],
    ['a request beyond 3200 is bounded, keeping its aspect', jpeg(9000, 6000), req(8000, 4000, 'crop'), [3200, 1600]],
  ];
  for (const [name, src, r, [w, h]] of renders) {
    test(name, () => {
      const plan = planThumbnail(src, r);
      assert.equal(plan.kind, 'render');
      if (plan.kind !== 'render') return;
      assert.deepEqual([plan.width, plan.height], [w, h]);
      assert.ok(plan.width <= src.width && plan.height <= src.height, 'never upscaled');
    });
  }

  test('a source that fits inside the box is served as the original', () => {
    assert.deepEqual(planThumbnail(jpeg(100, 80), req(320, 240, 'scale')), { kind: 'original' });
    assert.deepEqual(planThumbnail(jpeg(96, 96), req(96, 96, 'crop')), { kind: 'original' });
  });

  test('but not a format outside the thumbnail types (TIFF, AVIF): those are re-encoded as PNG', () => {
    const plan = planThumbnail({ contentType: 'image/tiff', width: 50, height: 50, frames: 1 }, req(96, 96, 'crop'));
    assert.equal(plan.kind, 'render');
    assert.equal(plan.kind === 'render' && plan.contentType, 'image/png');
  });

  test('output type: JPEG for JPEG, PNG for everything else, WebP for animation when asked', () => {
    const t = (src: ImageInfo, r: ThumbnailRequest) => {
      const p = planThumbnail(src, r);
      return p.kind === 'render' ? `${p.contentType}${p.animated ? ' animated' : ''}` : p.kind;
    };
    assert.equal(t(jpeg(1000, 1000), req(96, 96, 'crop')), 'image/jpeg');
    assert.equal(t({ contentType: 'image/png', width: 1000, height: 1000, frames: 1 }, req(96, 96, 'crop')), 'image/png');
    assert.equal(t({ contentType: 'image/webp', width: 1000, height: 1000, frames: 1 }, req(96, 96, 'crop')), 'image/png');
    const gif = { contentType: 'image/gif', width: 1000, height: 1000, frames: 10 };
    assert.equal(t(gif, req(96, 96, 'crop', true)), 'image/webp animated');
    assert.equal(t(gif, req(96, 96, 'crop', false)), 'image/png');
    // animated=true for a still image behaves as false.
    assert.equal(t(jpeg(1000, 1000), req(96, 96, 'crop', true)), 'image/jpeg');
  });

  test('an animated original smaller than the box is served as itself only when animation was asked for', () => {
    const gif = { contentType: 'image/gif', width: 50, height: 50, frames: 4 };
    assert.deepEqual(planThumbnail(gif, req(96, 96, 'scale', true)), { kind: 'original' });
    assert.equal(planThumbnail(gif, req(96, 96, 'scale', false)).kind, 'render');
  });

  test('a source with more than the pixel budget is too large', () => {
    const side = Math.ceil(Math.sqrt(MAX_SOURCE_PIXELS)) + 1;
    assert.deepEqual(planThumbnail(jpeg(side, side), req(96, 96, 'crop')), { kind: 'too-large' });
  });
});
