// GET /pushers and POST /pushers/set (pusher.yaml). The pushers and their pushes live in
// push/pushers.ts; the body is checked by push/pusher-input.ts.
import type { RouteGroup } from './deps.ts';
import { requester } from '../http/auth.ts';
import { bodyObject } from '../http/json-body.ts';
import { parsePusherRequest } from '../push/pusher-input.ts';

export const pusherRoutes: RouteGroup = (r, deps) => {
  r.get('/pushers', deps.auth, async (ctx) => {
    ctx.body = { pushers: await deps.pushers.list(requester(ctx).userId) };
  });
  r.post('/pushers/set', deps.auth, async (ctx) => {
    const me = requester(ctx);
    await deps.pushers.set(me.userId, me.deviceId, parsePusherRequest(bodyObject(ctx)));
    ctx.body = {};
  });
};
