// GET /_matrix/federation/v1/openid/userinfo (server-server openid.yaml). Not X-Matrix signed:
// the caller is a third-party service (a widget's backend, an integration manager), not a
// server, and it proves itself with the OpenID token a user gave it. So it is mounted with the
// open routes (keys, version), and answers only {sub} or 401 M_UNKNOWN_TOKEN.
import type Router from '@koa/router';
import { MatrixError } from '../../http/matrix-error.ts';

/** The user an OpenID token belongs to, while it is valid (users/openid-tokens.ts). */
export type OpenIdOwner = (token: string) => Promise<string | undefined>;

export function openIdRoutes(router: Router, owner: OpenIdOwner): void {
  router.get('/_matrix/federation/v1/openid/userinfo', async (ctx) => {
    const token = ctx.query.access_token;
    if (typeof token !== 'string' || token === '') throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Access token unknown or expired');
    const sub = await owner(token);
    if (sub === undefined) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Access token unknown or expired');
    ctx.body = { sub };
  });
}
