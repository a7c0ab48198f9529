import type { Context, Next } from 'koa';
import { MatrixError } from './matrix-error.ts';
import { DISK_RETRY_AFTER_S, diskError } from './disk-errors.ts';

export type Logger = (msg: string, err?: unknown) => void;

/**
 * Turns every thrown error into a standard Matrix error body. A MatrixError says exactly what
 * went wrong; anything else is a bug, logged with its stack and answered 500 without internals.
 */
export function errorMiddleware(log: Logger, opts: { adminContact?: string } = {}) {
  return async function errors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
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
      log(`${ctx.method} ${ctx.path} failed`, err);
      ctx.status = 500;
      ctx.body = { errcode: 'M_UNKNOWN', error: 'Internal server error' };
    }
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
