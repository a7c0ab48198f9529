// Every authenticated federation route group, mounted on the federation listener's router.
// One file per group, named like the spec's server-server OpenAPI files.
import type Router from '@koa/router';
import type { FederationServices } from '../services.ts';
import { queryRoutes } from './query.ts';
import { accountsStore } from '../../storage/accounts-store.ts';

export function mountFederationRoutes(router: Router, s: FederationServices): void {
  queryRoutes(s.serverName, (userId) => accountsStore.getUser(s.db.reader, userId))(router);
}
