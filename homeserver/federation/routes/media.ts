// content_repository.yaml (server-server): GET /_matrix/federation/v1/media/download/{mediaId} and
// /media/thumbnail/{mediaId}, this server's own media for other servers (signed requests). The
// answer is multipart/mixed: a JSON part (`{}`: no metadata is defined yet), then the bytes with
// their Content-Type and Content-Disposition. Only media uploaded here is served: media this server
// merely cached from a third server is that server's to give (server-server-api.md "Content
// Repository": servers MUST download from the server named in the mxc:// URI).
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { MediaService, ServedFile } from '../../media/media-service.ts';
import { contentDisposition, isInlineSafe } from '../../media/content-type.ts';
import { multipartHead, multipartTail, newBoundary } from '../../media/multipart.ts';
import { openServedFile } from '../../media/open-served-file.ts';
import { param } from '../../http/params.ts';
import { mediaTimeoutOf, thumbnailRequestOf } from '../../http/media-params.ts';

export function mediaRoutes(media: MediaService) {
  return (router: Router): void => {
    router.get('/_matrix/federation/v1/media/download/:mediaId', async (ctx) => {
      const file = await media.download(media.serverName, param(ctx, 'mediaId'), mediaTimeoutOf(ctx), false);
      await sendMultipart(ctx, file, contentDisposition(isInlineSafe(file.contentType) ? 'inline' : 'attachment', file.filename));
    });
    router.get('/_matrix/federation/v1/media/thumbnail/:mediaId', async (ctx) => {
      const file = await media.thumbnail(media.serverName, param(ctx, 'mediaId'), thumbnailRequestOf(ctx), mediaTimeoutOf(ctx), false);
      await sendMultipart(ctx, file, contentDisposition('inline', file.filename));
    });
  };
}

async function sendMultipart(ctx: Context, file: ServedFile, disposition: string): Promise<void> {
  const { stream: bytes, size } = await openServedFile(file.path);
  const boundary = newBoundary();
  const head = multipartHead(boundary, file.contentType, disposition);
  const tail = multipartTail(boundary);
  async function* parts() {
    yield head;
    yield* bytes;
    yield tail;
  }
  ctx.type = `multipart/mixed; boundary=${boundary}`;
  ctx.body = Readable.from(parts(), { objectMode: false });
  ctx.length = head.length + size + tail.length;
}
