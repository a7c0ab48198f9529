// GET /voip/turnServer (voip.yaml; the seed's "Voice over IP"): time-limited TURN credentials
// from the TURN server's shared secret, in the REST API form coturn accepts
// (username "<expiry>:<user id>", password base64(HMAC-SHA1(secret, username))).
// m.call.* events need nothing else from the server: they pass through as room events.
import { createHmac } from 'node:crypto';
import type { RouteGroup } from './deps.ts';
import { requester } from '../http/auth.ts';
import type { TurnConfig } from '../config/types.ts';

export function turnCredentials(turn: TurnConfig, userId: string, nowMs: number): { username: string; password: string; uris: string[]; ttl: number } {
  const expiry = Math.floor((nowMs + turn.userLifetimeMs) / 1000);
  const username = `${expiry}:${userId}`;
  const password = createHmac('sha1', turn.sharedSecret).update(username).digest('base64');
  return { username, password, uris: turn.uris, ttl: Math.floor(turn.userLifetimeMs / 1000) };
}

export const voipRoutes: RouteGroup = (r, deps) => {
  r.get('/voip/turnServer', deps.auth, (ctx) => {
    // No TURN server configured: an empty object, which clients read as "no TURN" (as Synapse answers).
    ctx.body = deps.config.turn ? turnCredentials(deps.config.turn, requester(ctx).userId, Date.now()) : {};
  });
};
