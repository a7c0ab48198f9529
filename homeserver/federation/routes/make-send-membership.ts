// The two-step membership handshakes of a resident server (joins-v2.yaml, leaving-v2.yaml,
// knocks.yaml): make_{join,leave,knock} hands out an unsigned m.room.member template built on the
// room's current front; send_{join,leave,knock} takes the event back signed by the joining server,
// runs the receipt checks, and answers with what that server needs (for a join: the state before
// the event and its auth chain). The resident server then sends the event to the room's other servers.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { FederationServices } from '../services.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { param } from '../../http/params.ts';
import { parseUserId } from '../../protocol/identifiers.ts';
import type { JsonObject, PDU } from '../../protocol/types.ts';
import { checkEventAuth, AuthError } from '../../protocol/auth-rules.ts';
import { authRulesVersion } from '../../protocol/auth-rules-versions.ts';
import { getRoomVersion } from '../../protocol/room-versions.ts';
import { hashAndSignEvent, type DraftPDU } from '../../protocol/event-hashing.ts';
import { draftEvent } from '../../rooms/append-event.ts';
import { authChain } from '../../rooms/auth-chain.ts';
import { assertAclAllows } from '../../rooms/server-visibility.ts';
import { serversInRoom } from '../../rooms/servers-in-room.ts';
import { restrictedJoinAuthoriser } from '../../rooms/membership.ts';
import { checkPduFormat, checkReceivedPdu, PduCheckError } from '../pdu-checks.ts';
import { strippedState } from '../../rooms/stripped-state.ts';
import { receivePdu } from '../inbound/pdus.ts';

type Membership = 'join' | 'leave' | 'knock';

function federationPdu(e: { pdu: PDU }): PDU {
  const { unsigned: _u, ...rest } = e.pdu;
  return rest as PDU;
}

async function roomVersionOr404(s: FederationServices, roomId: string): Promise<string> {
  const version = await s.rooms.roomVersion(roomId);
  if (!version) throw new MatrixError(404, 'M_NOT_FOUND', `Room ${roomId} is not known to this server`);
  return version;
}

function assertOriginOwns(ctx: Context, userId: string): void {
  const parsed = parseUserId(userId);
  if (!parsed) throw new MatrixError(400, 'M_INVALID_PARAM', `${userId} is not a user id`);
  if (parsed.serverName !== ctx.state.origin) throw new MatrixError(403, 'M_FORBIDDEN', `${userId} is not a user of ${String(ctx.state.origin)}`);
}

/** GET make_{membership}: the template, refused if the auth rules would refuse the event now. */
async function makeMembership(s: FederationServices, ctx: Context, membership: Membership): Promise<void> {
  const roomId = param(ctx, 'roomId');
  const userId = param(ctx, 'userId');
  const version = await roomVersionOr404(s, roomId);
  assertOriginOwns(ctx, userId);
  await assertAclAllows(s.rooms.reader, s.db.reader, roomId, ctx.state.origin!);
  if (membership !== 'leave') {
    // joins-v1.yaml (make_join): `ver` lists the versions the joining server supports; it defaults to ["1"].
    const raw = ctx.query.ver;
    const supported = raw === undefined ? ['1'] : Array.isArray(raw) ? raw : [raw];
    if (!supported.includes(version)) {
      throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `This room has version ${version}, which your server does not support`, {
        room_version: version,
      });
    }
  }
  const head = await s.rooms.heads.get(s.db.reader, roomId);
  if (!head) throw new MatrixError(404, 'M_NOT_FOUND', `Room ${roomId} is not known to this server`);
  const content: JsonObject = { membership };
  if (membership === 'join') {
    const via = await restrictedJoinAuthoriser(s.rooms, s.db.reader, head, userId);
    if (via === null) throw new MatrixError(403, 'M_FORBIDDEN', 'You are not allowed to join this room');
    if (via !== undefined) content.join_authorised_via_users_server = via;
  }
  const { draft, authState, createId } = await draftEvent(
    s.db.reader,
    s.rooms.reader,
    head,
    { type: 'm.room.member', sender: userId, stateKey: userId, content },
    Date.now(),
  );
  try {
    // Signatures come later; the rules' signature checks see the resident's own as present.
    const probe = { ...draft, hashes: { sha256: '' }, signatures: { [s.serverName]: {}, [parseUserId(userId)!.serverName]: {} } } as PDU;
    checkEventAuth(probe, authState, authRulesVersion(version)!, { createEventId: createId, isSignedBy: () => true });
  } catch (err) {
    if (err instanceof AuthError) throw new MatrixError(403, 'M_FORBIDDEN', `You may not ${membership} this room: ${err.message}`);
    throw err;
  }
  // The template names the resident server as `origin` (joins-v1.yaml requires it; Synapse sends it).
  ctx.body = { event: { ...draft, origin: s.serverName }, room_version: version };
}

/** PUT send_{membership}: checks, co-signs a restricted join, persists, and relays the event. */
async function sendMembership(
  s: FederationServices,
  ctx: Context,
  membership: Membership,
): Promise<{ eventId: string; pdu: PDU; roomId: string; stateGroup: number | null }> {
  const roomId = param(ctx, 'roomId');
  const eventIdParam = param(ctx, 'eventId');
  const version = await roomVersionOr404(s, roomId);
  const rv = getRoomVersion(version)!;
  await assertAclAllows(s.rooms.reader, s.db.reader, roomId, ctx.state.origin!);
  let pdu: PDU;
  try {
    pdu = checkPduFormat(ctx.request.json, rv, roomId);
  } catch (err) {
    if (err instanceof PduCheckError) throw new MatrixError(400, 'M_BAD_JSON', err.message);
    throw err;
  }
  if (pdu.type !== 'm.room.member' || pdu.state_key !== pdu.sender || pdu.content.membership !== membership) {
    throw new MatrixError(400, 'M_BAD_JSON', `The event must be the sender's own m.room.member ${membership}`);
  }
  assertOriginOwns(ctx, pdu.sender);
  // A restricted join names one of our users as authoriser: this server signs it too (joins-v2.yaml).
  const via = pdu.content.join_authorised_via_users_server;
  if (membership === 'join' && typeof via === 'string' && parseUserId(via)?.serverName === s.serverName) {
    const { hashes: _h, unsigned: _u, ...draft } = pdu;
    pdu = hashAndSignEvent(draft as DraftPDU, rv, s.serverName, s.signingKey);
  }
  let checked;
  try {
    checked = await checkReceivedPdu(pdu, version, roomId, s.remoteKeys);
  } catch (err) {
    if (err instanceof PduCheckError) throw new MatrixError(403, 'M_FORBIDDEN', err.message);
    throw err;
  }
  if (checked.eventId !== eventIdParam) throw new MatrixError(400, 'M_INVALID_PARAM', 'The event id does not match the event');
  if (checked.redacted) throw new MatrixError(400, 'M_BAD_JSON', 'The content hash does not match');
  const outcome = await receivePdu(s, ctx.state.origin!, roomId, version, checked, false);
  if (outcome.kind === 'rejected') throw new MatrixError(403, 'M_FORBIDDEN', `The event was rejected: ${outcome.reason}`);
  if (outcome.kind === 'soft_failed') throw new MatrixError(403, 'M_FORBIDDEN', `The event is not allowed by the room's current state: ${outcome.reason}`);
  const stored = await s.rooms.reader.getEvent(s.db.reader, checked.eventId);
  if (!stored) throw new MatrixError(500, 'M_UNKNOWN', 'The event was not stored');
  // Relay to every other server in the room; the joining server learns the room from our answer.
  const others = [...(await serversInRoom(s.db.reader, roomId))].filter((x) => x !== s.serverName && x !== ctx.state.origin);
  if (others.length > 0) await s.outbound?.sendPdus(others, [federationPdu(stored)]);
  return { eventId: checked.eventId, pdu: federationPdu(stored), roomId, stateGroup: stored.stateGroup };
}

export function membershipHandshakeRoutes(s: FederationServices) {
  return (router: Router): void => {
    for (const membership of ['join', 'leave', 'knock'] as const) {
      router.get(`/_matrix/federation/v1/make_${membership}/:roomId/:userId`, (ctx) => makeMembership(s, ctx, membership));
    }
    router.put('/_matrix/federation/v2/send_join/:roomId/:eventId', async (ctx) => {
      const done = await sendMembership(s, ctx, 'join');
      const state = await s.rooms.reader.stateOfGroup(s.db.reader, done.stateGroup);
      const stateEvents = await s.rooms.reader.getEvents(s.db.reader, state.values());
      const chain = await authChain(s.rooms.reader, s.db.reader, [...state.values(), done.eventId]);
      const servers = [...(await serversInRoom(s.db.reader, done.roomId))];
      ctx.body = {
        origin: s.serverName,
        state: stateEvents.map(federationPdu),
        auth_chain: chain.map(federationPdu),
        event: done.pdu,
        members_omitted: false,
        servers_in_room: servers,
      };
    });
    router.put('/_matrix/federation/v2/send_leave/:roomId/:eventId', async (ctx) => {
      await sendMembership(s, ctx, 'leave');
      ctx.body = {};
    });
    router.put('/_matrix/federation/v1/send_knock/:roomId/:eventId', async (ctx) => {
      const done = await sendMembership(s, ctx, 'knock');
      ctx.body = { knock_room_state: await strippedState(s.rooms, s.db.reader, done.roomId) };
    });
  };
}
