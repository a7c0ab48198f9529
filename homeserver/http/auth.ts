import type { Context, Next } from 'koa';
import { MatrixError } from './matrix-error.ts';
import { peerAddress } from './client-address.ts';

export interface Requester {
  userId: string;
  deviceId: string;
  accessToken: string;
}

/** Who a token speaks for; `expired` when it was a refreshable token whose lifetime is over. */
export type Authenticate = (token: string) => Promise<{ userId: string; deviceId: string; expired?: boolean } | undefined>;

/** The access token from `Authorization: Bearer` or the deprecated `access_token` query parameter. */
export function accessTokenOf(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new MatrixError(401, 'M_MISSING_TOKEN', 'Authorization header must be "Bearer <token>"');
    return m[1];
  }
  const q = ctx.query.access_token;
  return typeof q === 'string' && q.length > 0 ? q : undefined;
}

/** Told of each request a device's token authenticated, with the client's address (GET /devices' last_seen_*). */
export type DeviceSeen = (userId: string, deviceId: string, ip: string) => void;

/**
 * Middleware for routes that need a user: sets ctx.state.requester or answers 401. An expired
 * token is 401 M_UNKNOWN_TOKEN with soft_logout true: the session lives on, the client refreshes
 * (client-server-api "Refreshing access tokens"). `allowExpired` lets one through (/logout, as in
 * Synapse: a client must be able to end a session whose token it can no longer refresh). `seen` is
 * told of every request a token authenticated.
 */
export function requireAuth(authenticate: Authenticate, options: { allowExpired?: boolean; seen?: DeviceSeen } = {}) {
  return async function auth(ctx: Context, next: Next): Promise<void> {
    const token = accessTokenOf(ctx);
    if (!token) throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    const who = await authenticate(token);
    if (!who) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token', { soft_logout: false });
    if (who.expired && !options.allowExpired) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Access token has expired', { soft_logout: true });
    options.seen?.(who.userId, who.deviceId, peerAddress(ctx.ip));
    ctx.state.requester = { userId: who.userId, deviceId: who.deviceId, accessToken: token } satisfies Requester;
    await next();
  };
}

export function requester(ctx: Context): Requester {
  const r = ctx.state.requester as Requester | undefined;
  if (!r) throw new Error('route used requester() without requireAuth');
  return r;
}
