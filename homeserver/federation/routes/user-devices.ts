// GET /_matrix/federation/v1/user/devices/{userId} (user_devices.yaml): a local user's devices and
// cross-signing keys, with the stream_id that m.device_list_update EDUs continue from
// (server-server-api.md "Device Management").
import type Router from '@koa/router';
import type { FederationServices } from '../services.ts';
import { invalidParam } from '../../http/matrix-error.ts';
import { param } from '../../http/params.ts';
import { parseUserId } from '../../protocol/identifiers.ts';
import { deviceListOutboundStore } from '../../storage/federation-edus-store.ts';
import { localDeviceView } from '../local-device-lists.ts';

export function userDevicesRoutes(s: FederationServices) {
  return (router: Router): void => {
    router.get('/_matrix/federation/v1/user/devices/:userId', async (ctx) => {
      const userId = param(ctx, 'userId');
      if (parseUserId(userId)?.serverName !== s.serverName) throw invalidParam('userId is not a user of this server');
      // Read the stream position first: a change racing this request then shows as a newer EDU.
      const streamId = await deviceListOutboundStore.current(s.db.reader, userId);
      const view = await localDeviceView(s, userId);
      const devices = [...view.devices].map(([deviceId, d]) => ({
        device_id: deviceId,
        keys: d.keys,
        ...(d.displayName !== undefined ? { device_display_name: d.displayName } : {}),
      }));
      ctx.body = {
        user_id: userId,
        stream_id: streamId,
        devices,
        ...(view.masterKey ? { master_key: view.masterKey } : {}),
        ...(view.selfSigningKey ? { self_signing_key: view.selfSigningKey } : {}),
      };
    });
  };
}
