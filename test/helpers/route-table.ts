// Every operation Hearth routes, read from the routers themselves, so that a test walking them
// (authorization, fuzzing) covers a new route the day it is added, without a list to keep up.
//
// The client listener's routes come from createClientApp() itself: registering a route only
// stores the handler, it never calls into the services, so the app is built here over a stand-in
// for its dependencies that answers anything, and the routers are read from its middleware
// (@koa/router marks each dispatch function with `.router`). The federation routes come from a
// running server's `federationRouter` (see walkFederationRoutes' caller).
import type Router from '@koa/router';
import { createClientApp, CLIENT_PREFIXES } from '../../homeserver/clientapi/app.ts';
import { resolve } from 'node:path';
import { SpecStore, isObject } from './openapi/spec-store.ts';
import { buildRoutes, matchRoute, type Operation } from './openapi/routes.ts';
import { matrixSpecDir } from './openapi.ts';

export interface RoutedOperation {
  method: string;
  /** The Koa path with `:param`s, prefix included: `/_matrix/client/v3/rooms/:roomId/state`. */
  path: string;
  /** The path's param names, in order. */
  params: string[];
}

/** A value that is any object, any function and any primitive: what a route registration may touch. */
function standIn(): any {
  const fn = function () {
    return proxy;
  };
  const proxy: any = new Proxy(fn, {
    get: (_t, key) => (key === Symbol.toPrimitive ? () => 1 : key === 'then' ? undefined : proxy),
    apply: () => proxy,
  });
  return proxy;
}

function operationsOf(router: Router): RoutedOperation[] {
  const out: RoutedOperation[] = [];
  for (const layer of router.stack) {
    for (const method of layer.methods) {
      // @koa/router adds HEAD to every GET; it runs the same handler.
      if (method === 'HEAD') continue;
      out.push({ method, path: String(layer.path), params: layer.paramNames.map((p) => String(p.name)) });
    }
  }
  return out;
}

/**
 * The client listener's operations. The endpoint groups are mounted once per client prefix with
 * the same handlers, so only the v3 copy is listed; every other router (unversioned, fallback,
 * media under each of its prefixes) is listed as mounted.
 */
export function clientOperations(): RoutedOperation[] {
  const app = createClientApp(standIn(), new Set(), { error() {}, warn() {}, info() {} } as never);
  const seen = new Set<string>();
  const out: RoutedOperation[] = [];
  for (const mw of app.middleware as Array<{ router?: Router }>) {
    const router = mw.router;
    if (!router) continue;
    const prefix = (router as unknown as { opts: { prefix?: string } }).opts.prefix;
    if (prefix !== undefined && CLIENT_PREFIXES.includes(prefix) && prefix !== '/_matrix/client/v3') continue;
    for (const op of operationsOf(router)) {
      const key = `${op.method} ${op.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(op);
    }
  }
  return out;
}

/** The operations of a router (the federation listener's `federationRouter`). */
export function routerOperations(router: Router): RoutedOperation[] {
  return operationsOf(router);
}

let clientSpec: Operation[] | undefined;

/**
 * What the Client-Server OpenAPI says of this operation: 'public' when it has no `security` or
 * lists `{}` among its options (the token is optional), 'authenticated' when every option needs a
 * token, undefined when the spec has no such operation (a legacy or Hearth-only route).
 */
export function specAccess(op: RoutedOperation): 'public' | 'authenticated' | undefined {
  if (!clientSpec) {
    const store = new SpecStore();
    clientSpec = buildRoutes(store, store.loadDir(resolve(matrixSpecDir(), 'data/api/client-server')));
  }
  const concrete = op.path.replace(/:[A-Za-z]+/g, 'x');
  // The same handlers answer under v3 and v1 (and media's r0); the spec lists each under one.
  const v3 = concrete.replace(/^\/_matrix\/media\/(r0|v1)(?=\/)/, '/_matrix/media/v3');
  const candidates = [concrete, v3, v3.replace(/^\/_matrix\/(client|media)\/v3(?=\/)/, '/_matrix/$1/v1')];
  const ops = candidates.map((path) => matchRoute(clientSpec!, op.method, path).ops).find((found) => found.length > 0);
  if (ops === undefined) return undefined;
  const security = (ops[0]!.at.node as Record<string, unknown>).security;
  if (!Array.isArray(security)) return 'public';
  return security.some((option) => isObject(option) && Object.keys(option).length === 0) ? 'public' : 'authenticated';
}
