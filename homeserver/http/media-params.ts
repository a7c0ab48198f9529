// Query parameters of the media download and thumbnail endpoints, shared by the client API
// (authed-content-repo.yaml, content-repo.yaml) and the federation API (content_repository.yaml),
// which name them alike.
import type { Context } from 'koa';
import { MatrixError } from './matrix-error.ts';
import { queryBool, queryInt, queryString } from './params.ts';
import { DEFAULT_WAIT_MS, MAX_WAIT_MS } from '../media/media-service.ts';
import type { ThumbnailRequest } from '../media/thumbnailer.ts';

/** timeout_ms: the spec's default, our cap ("The content repository SHOULD impose a maximum value"). */
export function mediaTimeoutOf(ctx: Context): number {
  return queryInt(ctx, 'timeout_ms', DEFAULT_WAIT_MS, 0, MAX_WAIT_MS);
}

/** width, height (required), method (crop or scale, default scale), animated. */
export function thumbnailRequestOf(ctx: Context): ThumbnailRequest {
  const method = queryString(ctx, 'method') ?? 'scale';
  if (method !== 'crop' && method !== 'scale') throw new MatrixError(400, 'M_INVALID_PARAM', "method must be 'crop' or 'scale'");
  return { width: dimension(ctx, 'width'), height: dimension(ctx, 'height'), method, animated: queryBool(ctx, 'animated') };
}

function dimension(ctx: Context, key: 'width' | 'height'): number {
  const v = queryString(ctx, key);
  if (v === undefined || v === '') throw new MatrixError(400, 'M_MISSING_PARAM', `Missing '${key}'`);
  if (!/^\d{1,9}$/.test(v)) throw new MatrixError(400, 'M_INVALID_PARAM', `'${key}' must be a positive integer`);
  return Number(v);
}
