// POST /rooms/{roomId}/upgrade (room_upgrades.yaml); the upgrade itself is rooms/upgrade-room.ts.
import type { RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { stringField } from '../http/params.ts';
import { upgradeRoom } from '../rooms/upgrade-room.ts';
import { checkedRoomId } from './rooms.ts';
import { inviteAnyUser } from './remote-rooms.ts';

export const roomUpgradeRoutes: RouteGroup = (r, deps) => {
  r.post('/rooms/:roomId/upgrade', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const me = requester(ctx);
    const newVersion = stringField(body, 'new_version', true);
    const extra = body.additional_creators;
    if (extra !== undefined && (!Array.isArray(extra) || extra.some((u) => typeof u !== 'string')))
      throw new MatrixError(400, 'M_BAD_JSON', "'additional_creators' must be an array of user ids");
    const roomId = checkedRoomId(ctx);
    const { replacementRoom, remoteInvites } = await upgradeRoom(deps.rooms, {
      roomId,
      userId: me.userId,
      newVersion,
      additionalCreators: extra as string[] | undefined,
    });
    // Members on other servers are invited once the room exists (their server co-signs each
    // invite). One unreachable server must not fail an upgrade that has already happened.
    for (const userId of remoteInvites) {
      try {
        await inviteAnyUser(deps, replacementRoom, me.userId, userId);
      } catch (err) {
        deps.federation?.log('room upgrade: could not invite a member of another server', err, { roomId: replacementRoom, userId });
      }
    }
    ctx.body = { replacement_room: replacementRoom };
  });
};
