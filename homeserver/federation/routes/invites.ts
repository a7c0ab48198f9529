// PUT /_matrix/federation/v2/invite/{roomId}/{eventId} (invites-v2.yaml) and its older twin
// PUT /_matrix/federation/v1/invite/{roomId}/{eventId} (invites-v1.yaml): another server invites
// one of our users. We check the event, co-sign it, and keep it (with the stripped state it came
// with) so the invitee sees it in /sync; the inviting server then appends it to the room.
import type Router from '@koa/router';
import type { Context } from 'koa';
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
      const body = ctx.request.json as { event?: unknown; room_version?: unknown; invite_room_state?: unknown } | undefined;
      if (!body || typeof body !== 'object') throw new MatrixError(400, 'M_BAD_JSON', 'Body must be an object');
      const version = typeof body.room_version === 'string' ? body.room_version : '';
      ctx.body = { event: await acceptInvite(ctx, s, version, body.event, body.invite_room_state) };
    });

    // v1: the body is the event itself, its stripped state in `unsigned.invite_room_state`, and
    // the answer the old [200, {event}] pair. The spec has a v1 receiver assume room version 1 or
    // 2, which Hearth does not implement; a sender still on v1 today invites to a newer room, so
    // the version is read where it is known: the room itself if we are in it, else the
    // m.room.create the invite must carry since v1.16 (invites-v1.yaml "invite_room_state").
    router.put('/_matrix/federation/v1/invite/:roomId/:eventId', async (ctx) => {
      const event = ctx.request.json as Record<string, unknown> | undefined;
      if (!event || typeof event !== 'object' || Array.isArray(event)) throw new MatrixError(400, 'M_BAD_JSON', 'Body must be an event');
      const unsigned = event.unsigned && typeof event.unsigned === 'object' ? (event.unsigned as Record<string, unknown>) : {};
      const stripped = unsigned.invite_room_state;
      const version = (await s.rooms.roomVersion(param(ctx, 'roomId'))) ?? versionFromStrippedState(stripped);
      ctx.body = [200, { event: await acceptInvite(ctx, s, version, event, stripped) }];
    });
  };
}

/** room_version of the m.room.create among the stripped state, or '' (refused as unsupported). */
function versionFromStrippedState(stripped: unknown): string {
  if (!Array.isArray(stripped)) return '';
  const create = stripped.find((e) => e && typeof e === 'object' && e.type === 'm.room.create' && e.state_key === '') as
    { content?: { room_version?: unknown } } | undefined;
  const v = create?.content?.room_version;
  return typeof v === 'string' ? v : '';
}

/** The checks both versions make (invites-v2.yaml's list), then our co-signed copy of the invite. */
async function acceptInvite(ctx: Context, s: FederationServices, version: string, event: unknown, inviteRoomState: unknown): Promise<PDU> {
  const roomId = param(ctx, 'roomId');
  const rv = getRoomVersion(version);
  if (!rv || !JOINABLE_VERSIONS.includes(version)) {
    throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${version || '1 or 2'} is not supported by this server`, {
      room_version: version || '1',
    });
  }
  let checked;
  try {
    checked = await checkReceivedPdu(event, version, roomId, s.remoteKeys);
  } catch (err) {
    if (err instanceof PduCheckError) throw new MatrixError(403, 'M_FORBIDDEN', err.message);
    throw err;
  }
  const { pdu, eventId } = checked;
  if (eventId !== param(ctx, 'eventId')) throw new MatrixError(400, 'M_INVALID_PARAM', 'The event id does not match the event');
  if (pdu.type !== 'm.room.member' || pdu.content.membership !== 'invite' || typeof pdu.state_key !== 'string') {
    throw new MatrixError(400, 'M_BAD_JSON', 'The event must be an m.room.member invite');
  }
  if (parseUserId(pdu.sender)?.serverName !== ctx.state.origin) throw new MatrixError(403, 'M_FORBIDDEN', 'The inviter is not a user of the requesting server');
  if (parseUserId(pdu.state_key)?.serverName !== s.serverName) throw new MatrixError(400, 'M_INVALID_PARAM', 'The invitee is not a user of this server');
  const user = await accountsStore.getUser(s.db.reader, pdu.state_key);
  if (!user || user.deactivated) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown user ${pdu.state_key}`);

  const { hashes: _h, unsigned: _u, ...draft } = pdu;
  const signed = hashAndSignEvent(draft as DraftPDU, rv, s.serverName, s.signingKey);
  // A room we are part of hears of the invite through /send like any event.
  if (!(await s.rooms.roomVersion(roomId))) {
    const stripped = Array.isArray(inviteRoomState) ? (inviteRoomState as JsonObject[]) : [];
    await s.rooms.write((w) => w.storeOutOfRoomMembership(roomId, eventId, { ...signed, unsigned: { invite_room_state: stripped } } as PDU));
  }
  return signed;
}
