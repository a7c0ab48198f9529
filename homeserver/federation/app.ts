// The federation listener's Koa app: errors, unrecognized paths, JSON bodies, then the key,
// version and OpenID userinfo routes (no X-Matrix: see routes/openid.ts) and `federationRouter`,
// where every route needs an X-Matrix signature.
// Later groups (send, joins, backfill, queries) mount on `federationRouter` with full paths.
import Koa from 'koa';
import { Router } from '../http/router.ts';
import { errorMiddleware, logKoaErrors, unrecognized, type Logger } from '../http/errors.ts';
import { jsonBody } from '../http/json-body.ts';
import type { SigningKey } from '../protocol/signing-key.ts';
import { requireServerAuth } from './request-auth.ts';
import type { RemoteKeys } from './remote-keys.ts';
import type { ServerAcl } from './server-acl.ts';
import { versionRoutes } from './routes/version.ts';
import { keyRoutes } from './routes/keys.ts';
import { openIdRoutes, type OpenIdOwner } from './routes/openid.ts';

export interface FederationAppDeps {
  serverName: string;
  signingKey: SigningKey;
  remoteKeys: RemoteKeys;
  acl: ServerAcl;
  version: string;
  log: Logger;
  /** Who an OpenID token belongs to; without it /openid/userinfo knows no token. */
  openIdOwner?: OpenIdOwner;
}

/** A group of authenticated federation routes: `router.get('/_matrix/federation/v1/...', ...)`. */
export type FederationRouteGroup = (router: Router) => void;

export function createFederationApp(deps: FederationAppDeps, groups: FederationRouteGroup[] = []): { app: Koa; federationRouter: Router } {
  const app = new Koa({ proxy: false });
  app.silent = true;
  app.on('error', logKoaErrors(deps.log));
  app.use(errorMiddleware(deps.log));
  app.use(unrecognized);
  app.use(jsonBody);

  const open = new Router();
  versionRoutes(open, deps.version);
  keyRoutes(open, deps);
  openIdRoutes(open, deps.openIdOwner ?? (async () => undefined));
  app.use(open.routes());
  app.use(open.allowedMethods({ throw: false }));

  const federationRouter = new Router();
  // Signature checks only where a route exists, so unknown paths stay 404 M_UNRECOGNIZED.
  const auth = requireServerAuth({ serverName: deps.serverName, keys: (s, k) => deps.remoteKeys.getKey(s, k), acl: deps.acl });
  federationRouter.use(auth);
  for (const group of groups) group(federationRouter);
  app.use(federationRouter.routes());
  app.use(federationRouter.allowedMethods({ throw: false }));
  return { app, federationRouter };
}
