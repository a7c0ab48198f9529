// What suspension and locking do to a user's requests (client-server-api, "Account locking" and
// "Account suspension"), as one middleware before every route of the client listener, so that a
// route added later is covered without knowing about either.
import type { Context, Middleware, Next } from 'koa';
import type { ClientApiDeps } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { accessTokenOf } from '../http/auth.ts';

// The client API's paths under any of its prefixes (v3, r0, v1, the seed's api/v1, unstable).
const CLIENT_PREFIX = /^\/_matrix\/client\/(?:api\/v1|[^/]+)(?=\/)/;

// "Account locking": every Client-Server API but these answers 401 M_USER_LOCKED.
const ALLOWED_WHILE_LOCKED = /^\/logout(?:\/all)?\/?$/;

/**
 * "Account suspension", its recommended forbidden actions: joining and knocking (accepting an
 * invite is a join), inviting, sending messages and state, creating and upgrading rooms (each
 * sends events as the user), and changing profile data. Reading, leaving, key management,
 * logging out and deactivating stay open, as the spec asks.
 */
const FORBIDDEN_WHILE_SUSPENDED: Array<[method: string, path: RegExp]> = [
  ['POST', /^\/createRoom\/?$/],
  ['POST', /^\/join\/[^/]+\/?$/],
  ['POST', /^\/knock\/[^/]+\/?$/],
  ['POST', /^\/rooms\/[^/]+\/(?:join|invite|upgrade)\/?$/],
  ['PUT', /^\/rooms\/[^/]+\/state\//],
  ['PUT', /^\/rooms\/[^/]+\/send\/(?!m\.room\.redaction\/)[^/]+\/[^/]+\/?$/],
  ['POST', /^\/rooms\/[^/]+\/send\/(?!m\.room\.redaction\/?$)[^/]+\/?$/],
  ['PUT', /^\/profile\/[^/]+\/[^/]+\/?$/],
  ['DELETE', /^\/profile\/[^/]+\/[^/]+\/?$/],
];

// The media API's uploads (any version prefix). The spec leaves suspension's list to the server
// (client-server-api "Account suspension"): a suspended account would otherwise keep filling the
// server's disk, which is no part of what the spec asks to stay open (reading, leaving, keys).
const MEDIA_PREFIX = /^\/_matrix\/media\/[^/]+(?=\/)/;
const FORBIDDEN_MEDIA_WHILE_SUSPENDED: Array<[method: string, path: RegExp]> = [
  ['POST', /^\/upload\/?$/],
  ['PUT', /^\/upload\/[^/]+\/[^/]+\/?$/],
  ['POST', /^\/create\/?$/],
];

// "Redacting other users' events" is forbidden; redacting one's own stays allowed.
const REDACT = /^\/rooms\/[^/]+\/redact\/([^/]+)\/[^/]+\/?$/;

const suspended = () => new MatrixError(403, 'M_USER_SUSPENDED', 'You cannot perform this action while suspended.');

export function accountModerationGate(deps: Pick<ClientApiDeps, 'authenticate' | 'users' | 'rooms'>): Middleware {
  return async function moderationGate(ctx: Context, next: Next): Promise<void> {
    const path = CLIENT_PREFIX.exec(ctx.path) ? ctx.path.replace(CLIENT_PREFIX, '') : undefined;
    let token: string | undefined;
    try {
      token = accessTokenOf(ctx);
    } catch {
      token = undefined; // A malformed header is answered by the route's own auth.
    }
    const who = token === undefined ? undefined : await deps.authenticate(token);
    if (who === undefined) return next();
    const state = await deps.users.moderation.stateOf(who.userId);
    if (state.locked && !(path !== undefined && ALLOWED_WHILE_LOCKED.test(path))) {
      throw new MatrixError(401, 'M_USER_LOCKED', 'This account has been locked', { soft_logout: true });
    }
    const mediaPath = MEDIA_PREFIX.exec(ctx.path) ? ctx.path.replace(MEDIA_PREFIX, '') : undefined;
    if (state.suspended && mediaPath !== undefined && FORBIDDEN_MEDIA_WHILE_SUSPENDED.some(([m, re]) => m === ctx.method && re.test(mediaPath)))
      throw suspended();
    if (state.suspended && path !== undefined) {
      if (FORBIDDEN_WHILE_SUSPENDED.some(([method, re]) => method === ctx.method && re.test(path))) throw suspended();
      const redact = ctx.method === 'PUT' ? REDACT.exec(path) : null;
      if (redact) {
        let eventId: string;
        try {
          eventId = decodeURIComponent(redact[1]!);
        } catch {
          throw suspended(); // Not an event id at all; the route would refuse it anyway.
        }
        const target = await deps.rooms.reader.getEvent(deps.rooms.db.reader, eventId);
        if (target !== undefined && target.pdu.sender !== who.userId) throw suspended();
      }
    }
    return next();
  };
}
