import type { Context, Next } from 'koa';
import { MatrixError } from './matrix-error.ts';

export type Logger = (msg: string, err?: unknown) => void;

/**
 * Turns every thrown error into a standard Matrix error body. A MatrixError says exactly what
 * went wrong; anything else is a bug, logged with its stack and answered 500 without internals.
 */
export function errorMiddleware(log: Logger) {
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
      log(`${ctx.method} ${ctx.path} failed`, err);
      ctx.status = 500;
      ctx.body = { errcode: 'M_UNKNOWN', error: 'Internal server error' };
    }
  };
}

/** Anything no router claimed: the spec's M_UNRECOGNIZED (404 for unknown paths, 405 for known paths, wrong method). */
export async function unrecognized(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.body === undefined && ctx.status === 404) {
    const isApi = ctx.path.startsWith('/_matrix/');
    if (isApi || ctx.method !== 'GET') {
      throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
    }
  }
}
