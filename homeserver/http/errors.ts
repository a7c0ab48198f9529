import type { Context, Next } from 'koa';
import { MatrixError } from './matrix-error.ts';
import { DISK_RETRY_AFTER_S, diskError } from './disk-errors.ts';

import type { Logger } from '../log/logger.ts';

export type { Logger } from '../log/logger.ts';

/**
 * Turns every thrown error into a standard Matrix error body. A MatrixError says exactly what
 * went wrong; anything else is a bug, logged with its stack and answered 500 without internals.
 *
 * JSON bodies are serialised here rather than by Koa's respond(), which runs after every
 * middleware has returned: an answer that cannot be serialised (a stack overflow on a document
 * too deep) would otherwise escape both this handler and the log, and reach the client as a bare
 * 500 with nothing said anywhere.
 */
export function errorMiddleware(log: Logger, opts: { adminContact?: string } = {}) {
  return async function errors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      serialiseJsonBody(ctx);
    } catch (err) {
      if (err instanceof MatrixError) {
        ctx.status = err.status;
        ctx.body = err.toBody();
        if (err.status === 429 && typeof err.extra.retry_after_ms === 'number') {
          ctx.set('Retry-After', String(Math.ceil(err.extra.retry_after_ms / 1000)));
        }
        return;
      }
      const disk = diskError(err, opts.adminContact);
      if (disk) {
        log(`${ctx.method} ${ctx.path} refused: ${(err as Error).message}`);
        ctx.status = disk.status;
        ctx.body = disk.toBody();
        ctx.set('Retry-After', String(DISK_RETRY_AFTER_S));
        return;
      }
      // Method and path only: never the query string (it may hold an access_token) nor the body.
      log(`${ctx.method} ${ctx.path} failed`, err, { method: ctx.method, path: ctx.path, status: 500 });
      ctx.status = 500;
      ctx.body = { errcode: 'M_UNKNOWN', error: 'Internal server error' };
    }
  };
}

/** Replaces an object or array body by its JSON text, as respond() would; throws what JSON.stringify throws. */
function serialiseJsonBody(ctx: Context): void {
  const body: unknown = ctx.body;
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body) || typeof (body as { pipe?: unknown }).pipe === 'function') return;
  // Koa typed the response as JSON when the object was assigned; a string keeps that type.
  ctx.body = JSON.stringify(body);
}

/**
 * Logs what Koa itself reports outside the middleware (a response stream that failed midway),
 * which `app.silent` would otherwise drop; a client that went away is not worth a line.
 */
export function logKoaErrors(log: Logger) {
  return (err: unknown): void => {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    log('response failed after the handlers', err);
  };
}

/**
 * Anything no router claimed: the spec's M_UNRECOGNIZED, 404 for unknown paths and 405 for known
 * paths with the wrong method (client-server-api/_index.md "Common error codes"). The routers'
 * allowedMethods() leave a bodiless 405, or 501 for a method no router knows (e.g. PATCH), with
 * the path's methods in `Allow`.
 */
export async function unrecognized(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.body !== undefined) return;
  const knownPath = ctx.response.get('Allow') !== '';
  if (ctx.status === 405 || (ctx.status === 501 && knownPath)) {
    throw new MatrixError(405, 'M_UNRECOGNIZED', `Method ${ctx.method} is not allowed here`);
  }
  if (ctx.status === 404 || ctx.status === 501) {
    const isApi = ctx.path.startsWith('/_matrix/');
    if (isApi || ctx.method !== 'GET') {
      throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
    }
  }
}
