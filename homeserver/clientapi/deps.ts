import type { SearchIndexer } from '../rooms/search-indexer.ts';
import type Router from '@koa/router';
import type { HomeserverConfig } from '../config/types.ts';
import type { RoomService } from '../rooms/room-service.ts';
import type { Visibility } from '../rooms/visibility.ts';
import type { SyncService } from '../sync/sync-service.ts';
import type { UserService } from '../users/user-service.ts';
import type { UiaSessions } from '../users/uia.ts';
import type { Authenticate } from '../http/auth.ts';
import type { Middleware } from 'koa';
import type { Notifier } from '../sync/notifier.ts';
import type { Edus } from '../edus/index.ts';
import type { E2ee } from '../e2ee/index.ts';
import type { PushRules } from '../push/push-rules.ts';
import type { FederationServices } from '../federation/services.ts';
import type { AccountData } from '../users/account-data.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { Pushers } from '../push/pushers.ts';
import type { OpenIdTokens } from '../users/openid-tokens.ts';
import type { LanSharing } from '../discovery/lan-sharing.ts';

/** Everything the client API's routers need, passed in rather than imported. */
export interface ClientApiDeps {
  config: HomeserverConfig;
  users: UserService;
  rooms: RoomService;
  sync: SyncService;
  uia: UiaSessions;
  visibility: Visibility;
  authenticate: Authenticate;
  auth: Middleware;
  notifier: Notifier;
  edus: Edus;
  e2ee: E2ee;
  push: PushRules;
  /** Users' pushers and the HTTP pushes they make. */
  pushers: Pushers;
  openId: OpenIdTokens;
  accountData: AccountData;
  /** Brings the search index up to date before a search reads it. */
  searchIndexer: SearchIndexer;
  /** Accounts registered per client address (createClientApp makes it from config.rateLimit). */
  registrationLimiter: RateLimiter;
  /** Present when federation is configured: remote rooms, users and keys go through it. */
  federation?: FederationServices;
  /** Present when the config has `lan`: the sharing switch and the people nearby (clientapi/lan.ts). */
  lan?: LanSharing;
}

/** Each endpoint group adds its routes (paths relative to /_matrix/client/{v3,r0,...}). */
export type RouteGroup = (router: Router, deps: ClientApiDeps) => void;
