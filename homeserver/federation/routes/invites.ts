// PUT /_matrix/federation/v2/invite/{roomId}/{eventId} (invites-v2.yaml): another server invites
// one of our users. We check the event, co-sign it, and keep it (with the stripped state it came
// with) so the invitee sees it in /sync; the inviting server then appends it to the room.
import type Router from '@koa/router';
import type { FederationServices } from '../services.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { param } from '../../http/params.ts';
import { parseUserId } from '../../protocol/identifiers.ts';
import { getRoomVersion } from '../../protocol/room-versions.ts';
import { hashAndSignEvent, type DraftPDU } from '../../protocol/event-hashing.ts';
import type { JsonObject, PDU } from '../../protocol/types.ts';
import { accountsStore } from '../../storage/accounts-store.ts';
import { checkReceivedPdu, PduCheckError } from '../pdu-checks.ts';
import { JOINABLE_VERSIONS } from '../remote-membership.ts';

export function inviteRoutes(s: FederationServices) {
  return (router: Router): void => {
    router.put('/_matrix/federation/v2/invite/:roomId/:eventId', async (ctx) => {
      const roomId = param(ctx, 'roomId');
      const body = ctx.request.json as { event?: unknown; room_version?: unknown; invite_room_state?: unknown } | undefined;
      if (!body || typeof body !== 'object') throw new MatrixError(400, 'M_BAD_JSON', 'Body must be an object');
      const version = typeof body.room_version === 'string' ? body.room_version : '';
      const rv = getRoomVersion(version);
      if (!rv || !JOINABLE_VERSIONS.includes(version)) {
        throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${version} is not supported by this server`, { room_version: version });
      }
      let checked;
      try {
        checked = await checkReceivedPdu(body.event, version, roomId, s.remoteKeys);
      } catch (err) {
        if (err instanceof PduCheckError) throw new MatrixError(403, 'M_FORBIDDEN', err.message);
        throw err;
      }
      const { pdu, eventId } = checked;
      if (eventId !== param(ctx, 'eventId')) throw new MatrixError(400, 'M_INVALID_PARAM', 'The event id does not match the event');
      if (pdu.type !== 'm.room.member' || pdu.content.membership !== 'invite' || typeof pdu.state_key !== 'string') {
        throw new MatrixError(400, 'M_BAD_JSON', 'The event must be an m.room.member invite');
      }
      if (parseUserId(pdu.sender)?.serverName !== ctx.state.origin)
        throw new MatrixError(403, 'M_FORBIDDEN', 'The inviter is not a user of the requesting server');
      if (parseUserId(pdu.state_key)?.serverName !== s.serverName) throw new MatrixError(400, 'M_INVALID_PARAM', 'The invitee is not a user of this server');
      const user = await accountsStore.getUser(s.db.reader, pdu.state_key);
      if (!user || user.deactivated) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown user ${pdu.state_key}`);

      const { hashes: _h, unsigned: _u, ...draft } = pdu;
      const signed = hashAndSignEvent(draft as DraftPDU, rv, s.serverName, s.signingKey);
      // A room we are part of hears of the invite through /send like any event.
      if (!(await s.rooms.roomVersion(roomId))) {
        const stripped = Array.isArray(body.invite_room_state) ? (body.invite_room_state as JsonObject[]) : [];
        await s.rooms.write((w) => w.storeOutOfRoomMembership(roomId, eventId, { ...signed, unsigned: { invite_room_state: stripped } } as PDU));
      }
      ctx.body = { event: signed };
    });
  };
}
