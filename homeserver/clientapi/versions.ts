// GET /versions, /.well-known/matrix/client, /capabilities (versions.yaml, wellknown.yaml, capabilities.yaml).
import { Router } from '../http/router.ts';
import type KoaRouter from '@koa/router';
import type { ClientApiDeps, RouteGroup } from './deps.ts';
import { SUPPORTED_ROOM_VERSIONS, DEFAULT_ROOM_VERSION } from '../protocol/room-versions.ts';
import { requester } from '../http/auth.ts';
import { canMintLoginToken } from './login-token.ts';

/** The spec versions up to v1.12, all implemented (the optional modules aside, as every server does). */
export const SPEC_VERSIONS_BEFORE_V1_13 = [
  'r0.0.1',
  'r0.1.0',
  'r0.2.0',
  'r0.3.0',
  'r0.4.0',
  'r0.5.0',
  'r0.6.0',
  'r0.6.1',
  'v1.1',
  'v1.2',
  'v1.3',
  'v1.4',
  'v1.5',
  'v1.6',
  'v1.7',
  'v1.8',
  'v1.9',
  'v1.10',
  'v1.11',
  'v1.12',
];

/**
 * What each later version added that a server must serve (content/changelog/v1.13.md ..): the
 * operations as `METHOD /path` under the client prefix, and `missing` for a requirement routes
 * cannot show and Hearth lacks. A version is advertised only when it and every earlier one are
 * complete, so /versions grows by itself as the endpoints of issue #14 land, and never promises a
 * client an endpoint that answers 404. (OAuth 2.0, 3PID and application-service additions are
 * optional: a server without them answers M_UNRECOGNIZED as the spec allows.)
 */
export interface LaterSpecVersion {
  version: string;
  operations: string[];
  missing?: string;
}

export const LATER_SPEC_VERSIONS: readonly LaterSpecVersion[] = [
  // MSC4151: reporting a room. (MSC4163, server ACLs applied to typing and receipt EDUs, is
  // federation/inbound/edu-checks.ts aclAllowsEdu.)
  { version: 'v1.13', operations: ['POST /rooms/:/report'] },
  // MSC4260: reporting a user.
  { version: 'v1.14', operations: ['POST /users/:/report'] },
  // MSC3266: the room summary (under /_matrix/client/v1).
  { version: 'v1.15', operations: ['GET /room_summary/:'] },
  // MSC4133: extended profile fields; MSC4222: /sync's use_state_after (sync/state-after.ts).
  { version: 'v1.16', operations: ['PUT /profile/:/:', 'DELETE /profile/:/:'] },
  // Client-Server additions are for application services and OAuth 2.0 only.
  { version: 'v1.17', operations: [] },
];

/** `METHOD /path` of every route of `routers`, their prefix removed and parameter names blanked (`:`). */
function routedOperations(routers: readonly KoaRouter[]): Set<string> {
  const out = new Set<string>();
  for (const router of routers) {
    const prefix = router.opts.prefix ?? '';
    for (const layer of router.stack) {
      const path = String(layer.path)
        .slice(prefix.length)
        .replace(/:[A-Za-z0-9_]+/g, ':');
      for (const method of layer.methods) out.add(`${method} ${path}`);
    }
  }
  return out;
}

/** The spec versions `routers` (the client API's, under its prefixes) implement: see LATER_SPEC_VERSIONS. */
export function specVersionsServed(routers: readonly KoaRouter[], table: readonly LaterSpecVersion[] = LATER_SPEC_VERSIONS): string[] {
  const routed = routedOperations(routers);
  const versions = [...SPEC_VERSIONS_BEFORE_V1_13];
  for (const later of table) {
    if (later.missing !== undefined || !later.operations.every((op) => routed.has(op))) break;
    versions.push(later.version);
  }
  return versions;
}

/** Routes outside the versioned prefix; `specVersions` is read when /versions is asked (the routers exist by then). */
export function unversionedRoutes(deps: ClientApiDeps, specVersions: () => string[]): Router {
  const r = new Router();
  r.get('/_matrix/client/versions', (ctx) => {
    // MSC4133's flag for clients that look for extended profiles at the stable paths (matrix-js-sdk
    // does, until /versions lists v1.16).
    ctx.body = { versions: specVersions(), unstable_features: { 'uk.tcpip.msc4133.stable': true } };
  });
  r.get('/.well-known/matrix/client', (ctx) => {
    ctx.body = { 'm.homeserver': { base_url: deps.config.publicBaseUrl ?? `${ctx.protocol}://${ctx.host}` } };
  });
  return r;
}

export const capabilitiesRoutes: RouteGroup = (r, deps) => {
  r.get('/capabilities', deps.auth, async (ctx) => {
    // Every version Hearth implements is one the spec lists as stable (content/rooms/_index.md).
    const available: Record<string, string> = {};
    for (const v of SUPPORTED_ROOM_VERSIONS) available[v] = 'stable';
    ctx.body = {
      capabilities: {
        'm.change_password': { enabled: true },
        'm.room_versions': { default: deps.config.defaultRoomVersion ?? DEFAULT_ROOM_VERSION, available },
        'm.set_displayname': { enabled: true },
        'm.set_avatar_url': { enabled: true },
        'm.3pid_changes': { enabled: false },
        'm.get_login_token': { enabled: await canMintLoginToken(deps, requester(ctx).userId) },
        // Every profile key a client may set (users/profiles.ts), so no allowed or disallowed list.
        'm.profile_fields': { enabled: true },
        // capabilities.yaml: omitted altogether for users who may neither suspend nor lock.
        ...((await deps.users.moderation.isAdmin(requester(ctx).userId)) ? { 'm.account_moderation': { suspend: true, lock: true } } : {}),
      },
    };
  });
};
