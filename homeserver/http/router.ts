// @koa/router, loaded through require(): its ESM build imports node:http as an ES module, and the
// facade Node builds for that reads every export of node:http, one of which loads undici (for
// WebSocket): about 60 ms of every start, as profiled. The CommonJS build does not.
import { createRequire } from 'node:module';
import type KoaRouter from '@koa/router';

export type Router = KoaRouter;
export const Router = createRequire(import.meta.url)('@koa/router') as typeof KoaRouter;

/**
 * Compiles the path pattern of each of `router`'s routes now, at start. A router tests a request's
 * path against every one of its routes in turn, and V8 compiles a regular expression in two steps:
 * to bytecode when it first runs, to machine code when it runs again. The first requests after a
 * start paid both for some hundreds of patterns (profiled: ~20 ms of a first send, a few ms of
 * the second; issue 13); start-up pays them once instead (~15 ms for all 485 on a quiet machine).
 */
export function compileRoutes(router: Router): void {
  for (let pass = 0; pass < 2; pass++) for (const layer of router.stack) layer.match('/');
}
