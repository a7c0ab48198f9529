// The operations of one API folder as a route table: `servers` base path + `paths` template,
// matched against concrete URL paths with literal segments preferred over `{param}` segments.
import { basename } from 'node:path';
import type { Located, SpecStore } from './spec-store.ts';
import { isObject } from './spec-store.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

export interface Operation {
  method: string; // upper case
  template: string; // base path + path template, e.g. /_matrix/client/v3/rooms/{roomId}/members
  file: string;
  operationId: string | undefined;
  /** The operation object, located so that its `$ref`s resolve. */
  at: Located;
  segments: Segment[];
  /** One char per segment, 'L' literal or 'P' param; ascending order puts literals first. */
  rank: string;
}

type Segment = { literal: string } | { param: string };

export function buildRoutes(store: SpecStore, docs: Map<string, unknown>): Operation[] {
  const ops: Operation[] = [];
  for (const [file, doc] of docs) {
    if (!isObject(doc) || !isObject(doc.paths)) continue;
    const root: Located = { file, pointer: '', node: doc };
    const docBases = basePaths(doc.servers);
    const paths = store.child(root, 'paths');
    for (const rawKey of Object.keys(doc.paths)) {
      // The spec disambiguates a path documented in two files with a trailing space ("/events ").
      const pathTemplate = rawKey.trim();
      const item = store.deref(store.child(paths, rawKey));
      if (!isObject(item.node)) continue;
      const itemBases = item.node.servers ? basePaths(item.node.servers) : docBases;
      for (const method of METHODS) {
        const opAt = store.child(item, method);
        if (!isObject(opAt.node)) continue;
        const bases = opAt.node.servers ? basePaths(opAt.node.servers) : itemBases;
        for (const base of bases) {
          const template = joinPath(base, pathTemplate);
          const segments = splitTemplate(template);
          ops.push({
            method: method.toUpperCase(),
            template,
            file,
            operationId: typeof opAt.node.operationId === 'string' ? opAt.node.operationId : undefined,
            at: opAt,
            segments,
            rank: segments.map((s) => ('literal' in s ? 'L' : 'P')).join(''),
          });
        }
      }
    }
  }
  // Most specific first: at the first segment where two templates differ, a literal beats a param.
  ops.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  return ops;
}

/** Base paths from OpenAPI `servers`: the `basePath` variable's default, or a literal URL's path. */
function basePaths(servers: unknown): string[] {
  if (!Array.isArray(servers) || servers.length === 0) return [''];
  const out = new Set<string>();
  for (const server of servers) {
    if (!isObject(server) || typeof server.url !== 'string') continue;
    const vars = isObject(server.variables) ? server.variables : {};
    const url = server.url.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const v = vars[name];
      return isObject(v) && typeof v.default === 'string' ? v.default : '';
    });
    // After substitution: "https://localhost:8008/_matrix/client/v3" or just "/_matrix/...".
    const m = /^[a-z]+:\/\/[^/]*(\/.*)?$/i.exec(url);
    out.add((m ? (m[1] ?? '') : url).replace(/\/+$/, ''));
  }
  return out.size ? [...out] : [''];
}

function joinPath(base: string, path: string): string {
  return base + (path.startsWith('/') ? path : `/${path}`);
}

function splitTemplate(template: string): Segment[] {
  return template
    .split('/')
    .slice(1)
    .map((seg) => {
      const m = /^\{([^}]+)\}$/.exec(seg);
      return m ? { param: m[1] as string } : { literal: seg };
    });
}

/** Split a concrete path into percent-decoded segments (split first: %2F stays inside one). */
export function splitUrlPath(urlPath: string): string[] {
  const path = urlPath.replace(/[?#].*$/, '');
  return path
    .split('/')
    .slice(1)
    .map((seg) => {
      try {
        return decodeURIComponent(seg);
      } catch {
        return seg;
      }
    });
}

function matches(op: Operation, segs: string[]): boolean {
  if (op.segments.length !== segs.length) return false;
  // A param may be empty: PUT /rooms/{roomId}/state/{eventType}/ is the empty state_key.
  return op.segments.every((s, i) => !('literal' in s) || s.literal === segs[i]);
}

/**
 * Operations for method + path at the most specific matching template: usually one, but the spec
 * documents a few endpoints twice (POST /rooms/{roomId}/invite also in third_party_membership).
 * `otherMethods` lists the methods the path does have, for the error message.
 */
export function matchRoute(routes: Operation[], method: string, urlPath: string): { ops: Operation[]; otherMethods: string[] } {
  const upper = method.toUpperCase();
  const tryPath = (p: string) => {
    const segs = splitUrlPath(p);
    const all = routes.filter((op) => matches(op, segs));
    const forMethod = all.filter((op) => op.method === upper);
    const best = forMethod[0];
    return {
      ops: best ? forMethod.filter((op) => op.template === best.template) : [],
      otherMethods: [...new Set(all.map((op) => op.method))],
    };
  };
  const exact = tryPath(urlPath);
  if (exact.ops.length) return exact;
  // Clients disagree on trailing slashes (GET /pushrules/ vs /pushrules); accept either.
  const bare = urlPath.replace(/[?#].*$/, '');
  const toggled = bare.endsWith('/') ? bare.slice(0, -1) : `${bare}/`;
  const retry = tryPath(toggled);
  return retry.ops.length ? retry : exact;
}

export function describeOp(op: Operation): string {
  return `${basename(op.file)} ${op.method} ${op.template}${op.operationId ? ` (${op.operationId})` : ''}`;
}
