// POST /user/{userId}/openid/request_token (openid.yaml): an OpenID token for oneself only.
import type { RouteGroup } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { bodyObject } from '../http/json-body.ts';
import { param } from '../http/params.ts';

export const openIdRoutes: RouteGroup = (r, deps) => {
  r.post('/user/:userId/openid/request_token', deps.auth, async (ctx) => {
    const me = requester(ctx);
    bodyObject(ctx); // "An empty object. Reserved for future expansion."
    if (param(ctx, 'userId') !== me.userId) throw new MatrixError(403, 'M_FORBIDDEN', 'You may only request OpenID tokens for yourself');
    const { token, expiresInSeconds } = await deps.openId.issue(me.userId);
    ctx.body = { access_token: token, token_type: 'Bearer', matrix_server_name: deps.config.serverName, expires_in: expiresInSeconds };
  });
};
