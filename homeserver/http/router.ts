// @koa/router, loaded through require(): its ESM build imports node:http as an ES module, and the
// facade Node builds for that reads every export of node:http, one of which loads undici (for
// WebSocket): about 60 ms of every start, as profiled. The CommonJS build does not.
import { createRequire } from 'node:module';
import type KoaRouter from '@koa/router';

const KoaRouterClass = createRequire(import.meta.url)('@koa/router') as typeof KoaRouter;

export type Router = KoaRouter;
/**
 * Matches paths case-sensitively, as Matrix's are (and Synapse's routes): @koa/router's default
 * ignores case, and then `/_matrix/client/v3/CreateRoom` reached a route that the path-based
 * gates in front of the routers (suspension, account locking) did not recognise.
 */
export const Router = class CaseSensitiveRouter extends KoaRouterClass {
  constructor(opts: ConstructorParameters<typeof KoaRouter>[0] = {}) {
    super({ sensitive: true, ...opts });
  }
} as typeof KoaRouter;

/**
 * Compiles the path pattern of each of `router`'s routes now, at start. A router tests a request's
 * path against every one of its routes in turn, and V8 compiles a regular expression to bytecode
 * when it first runs: the first request after a start compiled some hundreds of them (profiled:
 * ~20 ms of a first send; issue 13). Start-up pays that once instead, within the noise of its
 * time and RSS. Their second run (to machine code) is left to the first requests, a few ms: paid
 * here too it cost ~3 MiB of idle RSS, which has little room under its 100 MB budget.
 */
export function compileRoutes(router: Router): void {
  for (const layer of router.stack) layer.match('/');
}
