// Assembles the client listener's Koa app: shared middleware, then each endpoint group mounted
// under every prefix a client may use (v3, r0, and the seed's api/v1).
import Koa from 'koa';
import { compileRoutes, Router } from '../http/router.ts';
import type { ClientApiDeps, RouteGroup } from './deps.ts';
import { errorMiddleware, logKoaErrors, unrecognized, type Logger } from '../http/errors.ts';
import { cors } from '../http/cors.ts';
import { hostCheck } from '../http/host-check.ts';
import { jsonBody } from '../http/json-body.ts';
import { RateLimiter, rateLimit } from '../http/rate-limit.ts';
import { capabilitiesRoutes, specVersionsServed, unversionedRoutes } from './versions.ts';
import { wellKnownRoutes } from './well-known.ts';
import { lanRoutes } from './lan.ts';
import { mutualRoomsRoutes } from './mutual-rooms.ts';
import { thirdPartyLookupRoutes } from './third-party-lookup.ts';
import { reportContentRoutes } from './report-content.ts';
import { adminRoutes } from './admin.ts';
import { accountModerationGate } from './account-moderation.ts';
import { accountRoutes } from './account.ts';
import { refreshRoutes } from './refresh.ts';
import { loginTokenRoutes } from './login-token.ts';
import { roomRoutes } from './rooms.ts';
import { roomEventRoutes } from './room-events.ts';
import { directoryRoutes } from './directory.ts';
import { profileRoutes } from './profile.ts';
import { syncRoutes } from './sync.ts';
import { accountDataRoutes } from './account-data.ts';
import { legacyRoutes } from './legacy.ts';
import { pushRuleRoutes } from './push-rules.ts';
import { notificationRoutes } from './notifications.ts';
import { pusherRoutes } from './pushers.ts';
import { openIdRoutes } from './openid.ts';
import { eduRoutes, tagRoutes } from './edus.ts';
import { relationRoutes } from './relations.ts';
import { searchRoutes } from './search.ts';
import { fallbackRoutes, loginFallbackRoutes } from './fallback.ts';
import { voipRoutes } from './voip.ts';
import { keysRoutes } from './keys.ts';
import { toDeviceRoutes } from './to-device.ts';
import { keyBackupRoutes } from './key-backup.ts';
import { userDirectoryRoutes } from './user-directory.ts';
import { roomUpgradeRoutes } from './room-upgrades.ts';
import { spaceHierarchyRoutes } from './space-hierarchy.ts';
import { mediaRouters, type MediaDeps } from './media.ts';
import { DEFAULT_RATE_LIMITS } from '../config/types.ts';

const GROUPS: RouteGroup[] = [
  capabilitiesRoutes,
  accountRoutes,
  refreshRoutes,
  loginTokenRoutes,
  roomRoutes,
  roomEventRoutes,
  directoryRoutes,
  profileRoutes,
  syncRoutes,
  accountDataRoutes,
  legacyRoutes,
  pushRuleRoutes,
  notificationRoutes,
  pusherRoutes,
  openIdRoutes,
  eduRoutes,
  tagRoutes,
  relationRoutes,
  searchRoutes,
  fallbackRoutes,
  voipRoutes,
  keysRoutes,
  toDeviceRoutes,
  keyBackupRoutes,
  userDirectoryRoutes,
  roomUpgradeRoutes,
  spaceHierarchyRoutes,
  mutualRoomsRoutes,
  thirdPartyLookupRoutes,
  reportContentRoutes,
  adminRoutes,
];

export const CLIENT_PREFIXES = ['/_matrix/client/v3', '/_matrix/client/r0', '/_matrix/client/api/v1', '/_matrix/client/v1'];

/** Accounts registered per client address: `rate_limit.registration_burst`, then `registrations_per_hour`. */
export function registrationLimiter(limits: ClientApiDeps['config']['rateLimit']): RateLimiter {
  const perHour = limits.registrationsPerHour ?? DEFAULT_RATE_LIMITS.registrationsPerHour;
  return new RateLimiter(perHour / 3600, limits.registrationBurst ?? DEFAULT_RATE_LIMITS.registrationBurst);
}

export function createClientApp(deps: ClientApiDeps & MediaDeps, allowedHosts: Set<string>, log: Logger, extra: Koa.Middleware[] = []): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  app.on('error', logKoaErrors(log));
  const limits = deps.config.rateLimit;
  const limiter = new RateLimiter(limits.perSecond, limits.burst);
  app.use(errorMiddleware(log, { adminContact: deps.config.adminContact }));
  app.use(hostCheck(allowedHosts));
  app.use(cors);
  app.use(unrecognized);
  const users = deps.users;
  app.use(rateLimit(limiter, { cached: (token) => users.cachedIdentity(token), authenticate: deps.authenticate }));
  app.use(accountModerationGate(deps));
  app.use(jsonBody);
  // /versions advertises what the routers below serve (specVersionsServed), known once they exist.
  const versioned: Router[] = [];
  let specVersions: string[] = [];
  const unversioned = unversionedRoutes(deps, () => specVersions);
  compileRoutes(unversioned);
  app.use(unversioned.routes());
  app.use(unversioned.allowedMethods({ throw: false }));
  const wellKnown = wellKnownRoutes(deps);
  compileRoutes(wellKnown);
  app.use(wellKnown.routes());
  const lan = lanRoutes(deps);
  compileRoutes(lan);
  app.use(lan.routes());
  app.use(lan.allowedMethods({ throw: false }));
  const fallback = loginFallbackRoutes(deps);
  compileRoutes(fallback);
  app.use(fallback.routes());
  for (const prefix of CLIENT_PREFIXES) {
    const router = new Router({ prefix });
    for (const group of GROUPS) group(router, deps);
    versioned.push(router);
    compileRoutes(router);
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: false }));
  }
  specVersions = specVersionsServed(versioned);
  // The content repository has its own prefixes: /_matrix/client/v1/media and /_matrix/media/*.
  for (const router of mediaRouters(deps)) {
    compileRoutes(router);
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: false }));
  }
  for (const mw of extra) app.use(mw);
  return app;
}
