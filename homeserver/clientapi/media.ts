// The content repository's endpoints (authed-content-repo.yaml and content-repo.yaml):
//   /_matrix/client/v1/media/{config,download,thumbnail,preview_url}    authenticated (v1.11)
//   /_matrix/media/{v3,r0,v1}/{upload,create,download,thumbnail,config,preview_url}
// The legacy download and thumbnail endpoints stay unauthenticated, as deprecated but still
// specified; uploads were never moved and always need a token.
import { Router } from '../http/router.ts';
import type { Context, Middleware } from 'koa';
import type { ClientApiDeps } from './deps.ts';
import type { MediaService, ServedFile, UploadOptions } from '../media/media-service.ts';
import { mediaTimeoutOf as timeoutOf, thumbnailRequestOf } from '../http/media-params.ts';
import { contentDisposition, isInlineSafe } from '../media/content-type.ts';
import { openServedFile } from '../media/open-served-file.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, queryBool, queryString } from '../http/params.ts';
import { guardBody } from '../http/unread-body.ts';

export interface MediaDeps {
  media: MediaService;
}

export const LEGACY_MEDIA_PREFIXES = ['/_matrix/media/v3', '/_matrix/media/r0', '/_matrix/media/v1'];

/** content_repo.md: "The recommended policy is ..." (plus media-src, so audio and video still play). */
const CSP = "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";

/** One router per prefix, each to be mounted on the client app. */
export function mediaRouters(deps: ClientApiDeps & MediaDeps): Router[] {
  const authed = new Router({ prefix: '/_matrix/client/v1/media' });
  contentRoutes(authed, deps, deps.auth, 'private');
  const routers = [authed];
  for (const prefix of LEGACY_MEDIA_PREFIXES) {
    const r = new Router({ prefix });
    uploadRoutes(r, deps);
    contentRoutes(r, deps, undefined, 'public');
    routers.push(r);
  }
  return routers;
}

function uploadRoutes(r: Router, { media, auth }: ClientApiDeps & MediaDeps): void {
  r.post('/upload', auth, async (ctx) => {
    const mediaId = await guardBody(ctx, () => media.upload(requester(ctx).userId, ctx.req, uploadOptions(ctx)));
    ctx.body = { content_uri: media.mxcUri(mediaId) };
  });
  r.post('/create', auth, async (ctx) => {
    const { mediaId, expiresTs } = await media.create(requester(ctx).userId);
    ctx.body = { content_uri: media.mxcUri(mediaId), unused_expires_at: expiresTs };
  });
  r.put('/upload/:serverName/:mediaId', auth, async (ctx) => {
    await guardBody(ctx, () => media.uploadTo(requester(ctx).userId, param(ctx, 'serverName'), param(ctx, 'mediaId'), ctx.req, uploadOptions(ctx)));
    ctx.body = {};
  });
}

/** Download, thumbnail, config and preview; `auth` is set on the authenticated prefix only. */
function contentRoutes(r: Router, { media, auth }: ClientApiDeps & MediaDeps, authOrNone: Middleware | undefined, cache: 'public' | 'private'): void {
  const guard: Middleware[] = authOrNone ? [authOrNone] : [];
  // content-repo.yaml allow_remote (legacy endpoints only): false serves only what this server holds,
  // so that servers falling back to these endpoints never make each other fetch in a loop.
  const allowRemote = (ctx: Context) => authOrNone !== undefined || queryString(ctx, 'allow_remote') === undefined || queryBool(ctx, 'allow_remote');
  const download = async (ctx: Context) => {
    const file = await media.download(param(ctx, 'serverName'), param(ctx, 'mediaId'), timeoutOf(ctx), allowRemote(ctx));
    const fileName = (ctx.params as Record<string, string | undefined>).fileName;
    const disposition = isInlineSafe(file.contentType) ? 'inline' : 'attachment';
    await sendFile(ctx, file, contentDisposition(disposition, fileName ?? file.filename), cache);
  };
  r.get('/download/:serverName/:mediaId', ...guard, download);
  r.get('/download/:serverName/:mediaId/:fileName', ...guard, download);
  r.get('/thumbnail/:serverName/:mediaId', ...guard, async (ctx) => {
    const file = await media.thumbnail(param(ctx, 'serverName'), param(ctx, 'mediaId'), thumbnailRequestOf(ctx), timeoutOf(ctx), allowRemote(ctx));
    // authed-content-repo.yaml: a thumbnail's disposition "MUST be `inline`".
    await sendFile(ctx, file, contentDisposition('inline', file.filename), cache);
  });
  // config and preview_url need a token on every prefix.
  r.get('/config', auth, (ctx) => {
    ctx.body = { 'm.upload.size': media.maxUploadBytes };
  });
  r.get('/preview_url', auth, (ctx) => {
    if (!queryString(ctx, 'url')) throw new MatrixError(400, 'M_MISSING_PARAM', "Missing 'url'");
    // URL previews are off: fetching arbitrary URLs from a server on someone's LAN would let any
    // user probe that network. The spec allows an empty answer ("which may be empty").
    ctx.body = {};
  });
}

function uploadOptions(ctx: Context): UploadOptions {
  const opts: UploadOptions = {};
  const type = ctx.get('content-type');
  if (type) opts.contentType = type;
  const filename = queryString(ctx, 'filename');
  if (filename !== undefined) opts.filename = filename;
  const length = ctx.get('content-length');
  if (/^\d+$/.test(length)) opts.contentLength = Number(length);
  return opts;
}

async function sendFile(ctx: Context, file: ServedFile, disposition: string, cache: 'public' | 'private'): Promise<void> {
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
  ctx.set('X-Content-Type-Options', 'nosniff');
  // The bytes behind an mxc:// URI never change. Authenticated media stays out of shared caches.
  ctx.set('Cache-Control', `${cache}, max-age=31536000, immutable`);
  ctx.set('ETag', file.etag);
  if (
    ctx
      .get('if-none-match')
      .split(',')
      .some((t) => t.trim() === file.etag)
  ) {
    ctx.status = 304;
    return;
  }
  // Set before the body, so that Koa keeps it rather than labelling the stream octet-stream.
  ctx.set('Content-Type', file.contentType);
  ctx.set('Content-Disposition', disposition);
  const { stream, size } = await openServedFile(file.path);
  ctx.body = stream;
  ctx.length = size;
}
