// GET /_matrix/client/v1/mutual_rooms (mutual_rooms.yaml): the rooms the requester and another
// user are both joined to, in batches.
import type { RouteGroup } from './deps.ts';
import { MatrixError, invalidParam } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { queryString } from '../http/params.ts';
import { isValidUserId } from '../protocol/identifiers.ts';
import { mutualRoomsStore } from '../storage/mutual-rooms-store.ts';

/**
 * Room ids per batch. A user shares a few dozen rooms with most people; 100 answers nearly every
 * call in one batch while bounding the answer for two bots in thousands of rooms together.
 */
export const MUTUAL_ROOMS_BATCH = 100;

// The batch token is the last room id given, so it never expires and stays valid whatever joins
// in between (modules/mutual_rooms.md: "valid for at least 10 minutes"). It is opaque to clients.
const TOKEN_PREFIX = 'mr1_';

function encodeToken(roomId: string): string {
  return TOKEN_PREFIX + Buffer.from(roomId).toString('base64url');
}

function decodeToken(token: string): string {
  if (!token.startsWith(TOKEN_PREFIX)) throw invalidParam('Invalid from token');
  const roomId = Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString();
  if (!roomId.startsWith('!') || encodeToken(roomId) !== token) throw invalidParam('Invalid from token');
  return roomId;
}

export const mutualRoomsRoutes: RouteGroup = (r, deps) => {
  r.get('/mutual_rooms', deps.auth, async (ctx) => {
    const me = requester(ctx).userId;
    const other = queryString(ctx, 'user_id');
    if (other === undefined || other === '') throw new MatrixError(400, 'M_MISSING_PARAM', 'user_id is required');
    if (!isValidUserId(other)) throw invalidParam('user_id is not a valid user id');
    if (other === me) throw invalidParam('user_id is your own user id');
    const from = queryString(ctx, 'from');
    const after = from === undefined ? undefined : decodeToken(from);
    // One more than a batch tells whether another batch follows.
    const { roomIds, total } = await mutualRoomsStore.page(deps.rooms.db.reader, me, other, after, MUTUAL_ROOMS_BATCH + 1);
    const joined = roomIds.slice(0, MUTUAL_ROOMS_BATCH);
    ctx.body = { joined, count: total, ...(roomIds.length > MUTUAL_ROOMS_BATCH ? { next_batch: encodeToken(joined[joined.length - 1]!) } : {}) };
  });
};
