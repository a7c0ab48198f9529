// Send-to-device messaging (to_device.yaml). Delivery happens in /sync (sync/sync-service.ts).
import type { RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param } from '../http/params.ts';

export const toDeviceRoutes: RouteGroup = (r, deps) => {
  r.put('/sendToDevice/:eventType/:txnId', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const body = bodyObject(ctx);
    if (body.messages === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', "Missing 'messages'");
    await deps.e2ee.toDevice.send(me.userId, me.deviceId, param(ctx, 'eventType'), param(ctx, 'txnId'), body.messages);
    ctx.body = {};
  });
};
