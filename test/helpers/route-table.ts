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
import type { Located } from './openapi/spec-store.ts';
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

/** The client operations that may carry a body: every POST, PUT and DELETE. */
export function clientOperationsWithBody(): RoutedOperation[] {
  return clientOperations().filter((op) => op.method !== 'GET');
}

/** The operations of a router (the federation listener's `federationRouter`). */
export function routerOperations(router: Router): RoutedOperation[] {
  return operationsOf(router);
}

const store = new SpecStore();
let clientSpec: Operation[] | undefined;
let serverSpec: Operation[] | undefined;

function specOperation(op: RoutedOperation): Operation | undefined {
  clientSpec ??= buildRoutes(store, store.loadDir(resolve(matrixSpecDir(), 'data/api/client-server')));
  serverSpec ??= buildRoutes(store, store.loadDir(resolve(matrixSpecDir(), 'data/api/server-server')));
  const concrete = op.path.replace(/:[A-Za-z]+/g, 'x');
  // The same handlers answer under v3 and v1 (and media's r0); the spec lists each under one.
  const v3 = concrete.replace(/^\/_matrix\/media\/(r0|v1)(?=\/)/, '/_matrix/media/v3');
  const candidates = [concrete, v3, v3.replace(/^\/_matrix\/(client|media)\/v3(?=\/)/, '/_matrix/$1/v1')];
  const table = op.path.startsWith('/_matrix/federation/') || op.path.startsWith('/_matrix/key/') ? serverSpec : clientSpec;
  for (const path of candidates) {
    const { ops } = matchRoute(table, op.method, path);
    if (ops.length > 0) return ops[0];
  }
  return undefined;
}

/** The spec's request body for an operation: its top-level property names and its example. */
export interface RequestShape {
  properties: string[];
  example: unknown;
}

/** What the spec says an operation's JSON body looks like; empty when it has none. */
export function requestShape(op: RoutedOperation): RequestShape {
  const shape: RequestShape = { properties: [], example: undefined };
  const spec = specOperation(op);
  if (!spec || !isObject(spec.at.node) || !isObject(spec.at.node.requestBody)) return shape;
  const body = store.deref(store.child(spec.at, 'requestBody'));
  if (!isObject(body.node) || !isObject(body.node.content)) return shape;
  const content = store.child(body, 'content');
  const type = Object.keys(body.node.content).find((t) => /json/.test(t));
  if (type === undefined) return shape;
  const media = store.deref(store.child(content, type));
  if (!isObject(media.node)) return shape;
  if ('example' in media.node) shape.example = store.resolveExample(media.node.example, media.file);
  else if (isObject(media.node.examples)) {
    const first = Object.keys(media.node.examples)[0];
    const ex = first === undefined ? undefined : store.deref(store.child(store.child(media, 'examples'), first));
    if (ex && isObject(ex.node) && 'value' in ex.node) shape.example = store.resolveExample(ex.node.value, ex.file);
  }
  const names = new Set<string>();
  const collect = (at: Located, depth: number) => {
    const node = store.deref(at);
    if (!isObject(node.node) || depth > 5) return;
    if (isObject(node.node.properties)) for (const key of Object.keys(node.node.properties)) names.add(key);
    for (const combiner of ['allOf', 'oneOf', 'anyOf']) {
      const list = node.node[combiner];
      if (Array.isArray(list)) list.forEach((_, i) => collect(store.child(store.child(node, combiner), String(i)), depth + 1));
    }
    if (shape.example === undefined && 'example' in node.node) shape.example = store.resolveExample(node.node.example, node.file);
  };
  if ('schema' in media.node) collect(store.child(media, 'schema'), 0);
  shape.properties = [...names];
  return shape;
}

/**
 * What the Client-Server OpenAPI says of this operation: 'public' when it has no `security` or
 * lists `{}` among its options (the token is optional), 'authenticated' when every option needs a
 * token, undefined when the spec has no such operation (a legacy or Hearth-only route).
 */
export function specAccess(op: RoutedOperation): 'public' | 'authenticated' | undefined {
  const spec = specOperation(op);
  if (!spec) return undefined;
  const security = (spec.at.node as Record<string, unknown>).security;
  if (!Array.isArray(security)) return 'public';
  return security.some((option) => isObject(option) && Object.keys(option).length === 0) ? 'public' : 'authenticated';
}
