// Every authenticated federation route group, mounted on the federation listener's router.
// One file per group, named like the spec's server-server OpenAPI files.
import type Router from '@koa/router';
import type { FederationServices } from '../services.ts';
import { queryRoutes, queryDirectoryRoutes } from './query.ts';
import { eventsRoutes } from './events.ts';
import { eventAuthRoutes } from './event-auth.ts';
import { backfillRoutes } from './backfill.ts';
import { publicRoomsRoutes } from './public-rooms.ts';
import { transactionRoutes } from './transactions.ts';
import { wakeOnTraffic } from '../sender/wake-on-traffic.ts';
import { userDevicesRoutes } from './user-devices.ts';
import { userKeysRoutes } from './user-keys.ts';
import { loadProfile } from '../../users/profiles.ts';
import { membershipHandshakeRoutes } from './make-send-membership.ts';
import { inviteRoutes } from './invites.ts';
import { spaceHierarchyRoutes } from './space-hierarchy.ts';

export function mountFederationRoutes(router: Router, s: FederationServices): void {
  // First: any signed request shows its origin is up, so its outbound queue retries now.
  router.use(wakeOnTraffic(s));
  queryRoutes(s.serverName, (userId) => loadProfile(s.db.reader, userId))(router);
  transactionRoutes(s)(router);
  queryDirectoryRoutes(router, s);
  eventsRoutes(router, s);
  eventAuthRoutes(router, s);
  backfillRoutes(router, s);
  publicRoomsRoutes(router, s);
  userDevicesRoutes(s)(router);
  userKeysRoutes(s)(router);
  membershipHandshakeRoutes(s)(router);
  inviteRoutes(s)(router);
  spaceHierarchyRoutes(router, s);
}
