// POST /refresh (refresh.yaml; client-server-api "Refreshing access tokens"): a refresh token,
// not an access token, authenticates it, so a client whose access token has expired can call it.
import type { RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { stringField } from '../http/params.ts';

export const refreshRoutes: RouteGroup = (r, deps) => {
  r.post('/refresh', async (ctx) => {
    const refreshToken = stringField(bodyObject(ctx), 'refresh_token', true);
    const session = await deps.users.refresh(refreshToken);
    // Unknown, revoked by the use of its successor, or its device logged out: the session is
    // gone as far as this token can tell, so no soft logout (as Synapse answers).
    if (!session) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown or already used refresh token', { soft_logout: false });
    ctx.body = { access_token: session.accessToken, refresh_token: session.refreshToken, expires_in_ms: session.expiresInMs };
  });
};
