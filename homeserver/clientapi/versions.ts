// GET /versions, /.well-known/matrix/client, /capabilities (versions.yaml, wellknown.yaml, capabilities.yaml).
import { Router } from '../http/router.ts';
import type { ClientApiDeps, RouteGroup } from './deps.ts';
import { SUPPORTED_ROOM_VERSIONS, DEFAULT_ROOM_VERSION } from '../protocol/room-versions.ts';
import { requester } from '../http/auth.ts';
import { canMintLoginToken } from './login-token.ts';

export const SPEC_VERSIONS = [
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

/** Routes outside the versioned prefix. */
export function unversionedRoutes(deps: ClientApiDeps): Router {
  const r = new Router();
  r.get('/_matrix/client/versions', (ctx) => {
    // MSC4133's flag for clients that look for extended profiles at the stable paths (matrix-js-sdk
    // does, until /versions lists v1.16).
    ctx.body = { versions: SPEC_VERSIONS, unstable_features: { 'uk.tcpip.msc4133.stable': true } };
  });
  r.get('/.well-known/matrix/client', (ctx) => {
    ctx.body = { 'm.homeserver': { base_url: deps.config.publicBaseUrl ?? `${ctx.protocol}://${ctx.host}` } };
  });
  return r;
}

export const capabilitiesRoutes: RouteGroup = (r, deps) => {
  r.get('/capabilities', deps.auth, async (ctx) => {
    const available: Record<string, string> = {};
    for (const v of SUPPORTED_ROOM_VERSIONS) available[v] = 'stable';
    ctx.body = {
      capabilities: {
        'm.change_password': { enabled: true },
        'm.room_versions': { default: DEFAULT_ROOM_VERSION, available },
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
