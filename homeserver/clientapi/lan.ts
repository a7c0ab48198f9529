// LAN sharing for clients (issue #15), under the unstable namespace org.hearth.lan: the sharing
// switch and the label (anyone signed in reads them, server admins change them), the configured
// domains (same), and the people nearby. A server without `lan` in its config answers 404
// M_UNRECOGNIZED, as for any route it does not know.
//
// The domains are readable by every signed-in user, not only admins: GET /sharing has always
// carried them, and who this server federates with is no secret from its own users (every remote
// member of their rooms shows it); a user told "cannot reach example.org" can see why.
import type { Context } from 'koa';
import type { ClientApiDeps } from './deps.ts';
import { Router } from '../http/router.ts';
import { bodyObject } from '../http/json-body.ts';
import { param } from '../http/params.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { isValidServerName } from '../protocol/identifiers.ts';
import { isLanServerName } from '../protocol/lan-identity.ts';
import type { LanSharing, SharingChange } from '../discovery/lan-sharing.ts';

export const LAN_PREFIX = '/_matrix/client/unstable/org.hearth.lan';

/** Configured domains a PUT may set: a policy lists the few servers a team works with, not a directory. */
export const MAX_LAN_DOMAINS = 100;

/**
 * The `domains` of a body: a list of server names (appendices.md "Server Name"), at most
 * MAX_LAN_DOMAINS, duplicates (case-insensitive, as DNS compares) dropped. Not a list of strings is
 * M_BAD_JSON; a string that is no server name, or too many, is M_INVALID_PARAM.
 */
export function parseDomains(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((n) => typeof n !== 'string')) {
    throw new MatrixError(400, 'M_BAD_JSON', "'domains' must be a list of server names");
  }
  const bad = (value as string[]).find((n) => !isValidServerName(n));
  if (bad !== undefined) throw new MatrixError(400, 'M_INVALID_PARAM', `'${bad.slice(0, 100)}' is not a server name`);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const name of value as string[]) {
    if (seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    out.push(name);
  }
  if (out.length > MAX_LAN_DOMAINS) throw new MatrixError(400, 'M_INVALID_PARAM', `'domains' may list at most ${MAX_LAN_DOMAINS} servers`);
  return out;
}

async function requireAdmin(deps: ClientApiDeps, ctx: Context, what: string): Promise<void> {
  if (!(await deps.users.moderation.isAdmin(requester(ctx).userId))) {
    throw new MatrixError(403, 'M_FORBIDDEN', `Only a server administrator may ${what}.`);
  }
}

function sharingOf(deps: ClientApiDeps): LanSharing {
  if (deps.lan === undefined) throw new MatrixError(404, 'M_UNRECOGNIZED', 'LAN sharing is not configured on this server');
  return deps.lan;
}

function parseChange(ctx: Context): SharingChange {
  const body = bodyObject(ctx);
  const change: SharingChange = {};
  for (const [key, field] of [
    ['enabled', 'enabled'],
    ['announce_label', 'announceLabel'],
  ] as const) {
    const v = body[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new MatrixError(400, 'M_BAD_JSON', `'${key}' must be true or false`);
    change[field] = v;
  }
  if (body.domains !== undefined) change.domains = parseDomains(body.domains);
  return change;
}

export function lanRoutes(deps: ClientApiDeps): Router {
  const r = new Router({ prefix: LAN_PREFIX });
  r.get('/sharing', deps.auth, async (ctx) => {
    const lan = sharingOf(deps);
    await lan.watch(requester(ctx).userId);
    ctx.body = lan.state();
  });
  r.put('/sharing', deps.auth, async (ctx) => {
    const lan = sharingOf(deps);
    await requireAdmin(deps, ctx, 'change LAN sharing');
    await lan.change(parseChange(ctx));
    ctx.body = {};
  });
  // The configured domains of policy 'lan' (federation.domains): persisted, winning over the
  // config file from then on, and applied at once to requests in and out (federation/server-acl.ts).
  r.get('/domains', deps.auth, async (ctx) => {
    const { domains, policy } = sharingOf(deps).state();
    ctx.body = { domains, policy };
  });
  r.put('/domains', deps.auth, async (ctx) => {
    const lan = sharingOf(deps);
    await requireAdmin(deps, ctx, 'change the federation domains');
    const body = bodyObject(ctx);
    if (body.domains === undefined) throw new MatrixError(400, 'M_BAD_JSON', "'domains' is required");
    await lan.change({ domains: parseDomains(body.domains) });
    ctx.body = {};
  });
  // Like removing a line of SSH's known_hosts: a peer whose certificate changed (reported as
  // `certificate-changed`) is trusted again with the certificate of its next announcement.
  r.delete('/peers/:serverName', deps.auth, async (ctx) => {
    const lan = sharingOf(deps);
    await requireAdmin(deps, ctx, 'forget a LAN peer');
    const name = param(ctx, 'serverName');
    if (!isLanServerName(name)) throw new MatrixError(400, 'M_INVALID_PARAM', `${name} is not a LAN server name`);
    await lan.forget(name);
    ctx.body = {};
  });
  r.get('/nearby', deps.auth, async (ctx) => {
    const lan = sharingOf(deps);
    await lan.watch(requester(ctx).userId);
    ctx.body = await lan.nearby();
  });
  return r;
}
