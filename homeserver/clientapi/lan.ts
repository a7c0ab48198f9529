// LAN sharing for clients (issue #15), under the unstable namespace org.hearth.lan: the sharing
// switch (anyone signed in reads it, server admins change it) and the people nearby. A server
// without `lan` in its config answers 404 M_UNRECOGNIZED, as for any route it does not know.
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
  if (body.domains !== undefined) {
    const d = body.domains;
    if (!Array.isArray(d) || d.some((n) => typeof n !== 'string' || !isValidServerName(n))) {
      throw new MatrixError(400, 'M_BAD_JSON', "'domains' must be a list of server names");
    }
    if (d.length > MAX_LAN_DOMAINS) throw new MatrixError(400, 'M_BAD_JSON', `'domains' may list at most ${MAX_LAN_DOMAINS} servers`);
    change.domains = d as string[];
  }
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
    if (!(await deps.users.moderation.isAdmin(requester(ctx).userId))) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Only a server administrator may change LAN sharing.');
    }
    await lan.change(parseChange(ctx));
    ctx.body = {};
  });
  // Like removing a line of SSH's known_hosts: a peer whose certificate changed (reported as
  // `certificate-changed`) is trusted again with the certificate of its next announcement.
  r.delete('/peers/:serverName', deps.auth, async (ctx) => {
    const lan = sharingOf(deps);
    if (!(await deps.users.moderation.isAdmin(requester(ctx).userId))) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Only a server administrator may forget a LAN peer.');
    }
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
