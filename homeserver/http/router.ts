// @koa/router, loaded through require(): its ESM build imports node:http as an ES module, and the
// facade Node builds for that reads every export of node:http, one of which loads undici (for
// WebSocket): about 60 ms of every start, as profiled. The CommonJS build does not.
import { createRequire } from 'node:module';
import type KoaRouter from '@koa/router';

export type Router = KoaRouter;
export const Router = createRequire(import.meta.url)('@koa/router') as typeof KoaRouter;
