// Account data (account-data.yaml): global and per-room, delivered through /sync.
import type { RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param } from '../http/params.ts';
import { accountDataStore } from '../storage/rooms-store.ts';
import type { Context } from 'koa';
import { NEARBY_ACCOUNT_DATA } from '../discovery/lan-sharing.ts';

function owner(ctx: Context): string {
  const userId = param(ctx, 'userId');
  if (userId !== requester(ctx).userId) throw new MatrixError(403, 'M_FORBIDDEN', "You may not access another user's account data");
  return userId;
}

export const accountDataRoutes: RouteGroup = (r, deps) => {
  const put = async (ctx: Context, roomId: string) => {
    const userId = owner(ctx);
    const type = param(ctx, 'type');
    // org.hearth.lan.nearby is written by the server from LAN discovery (discovery/lan-sharing.ts).
    if (type === 'm.fully_read' || type === 'm.push_rules' || type === NEARBY_ACCOUNT_DATA)
      throw new MatrixError(405, 'M_BAD_JSON', `${type} is controlled by the server and cannot be set by clients`);
    const content = bodyObject(ctx);
    await deps.accountData.put(userId, roomId, type, content);
    ctx.body = {};
  };
  const get = async (ctx: Context, roomId: string) => {
    const userId = owner(ctx);
    const row = await accountDataStore.get(deps.rooms.db.reader, userId, roomId, param(ctx, 'type'));
    if (!row) throw new MatrixError(404, 'M_NOT_FOUND', 'Account data not found');
    ctx.body = JSON.parse(row.content);
  };
  r.put('/user/:userId/account_data/:type', deps.auth, (ctx) => put(ctx, ''));
  r.get('/user/:userId/account_data/:type', deps.auth, (ctx) => get(ctx, ''));
  r.put('/user/:userId/rooms/:roomId/account_data/:type', deps.auth, (ctx) => put(ctx, param(ctx, 'roomId')));
  r.get('/user/:userId/rooms/:roomId/account_data/:type', deps.auth, (ctx) => get(ctx, param(ctx, 'roomId')));
};
