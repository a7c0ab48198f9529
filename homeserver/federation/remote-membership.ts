// Membership in rooms this server is not (yet) part of, done through a resident server
// (server-server-api.md "Joining Rooms", "Leaving Rooms (Rejecting Invites)", "Knocking", "Inviting
// to a room"): make_* gets a template, we fill and sign it, send_* hands it back. Also: asking
// another server to co-sign an invite for one of its users, and resolving a remote room alias.
import type { FederationServices } from './services.ts';
import { FederationRequestError } from './client.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { KNOWN_ROOM_VERSIONS } from '../protocol/auth-rules-versions.ts';
import { getRoomVersion } from '../protocol/room-versions.ts';
import { computeEventId, hashAndSignEvent, type DraftPDU } from '../protocol/event-hashing.ts';
import { isValidRoomId, isValidServerName, parseUserId } from '../protocol/identifiers.ts';
import type { JsonObject, PDU } from '../protocol/types.ts';
import { draftEvent } from '../rooms/append-event.ts';
import { strippedState } from '../rooms/stripped-state.ts';
import { checkAll } from './remote-room-data.ts';
import { asClientError } from './client-facing-error.ts';
import { checkReceivedPdu, PduCheckError } from './pdu-checks.ts';

const enc = encodeURIComponent;
/** Room versions Hearth can join (6..12); older ones are refused with M_INCOMPATIBLE_ROOM_VERSION. */
export const JOINABLE_VERSIONS = KNOWN_ROOM_VERSIONS.filter((v) => Number(v) >= 6);

type Membership = 'join' | 'leave' | 'knock';

/** Tries each server in turn; a server that answers "no" (4xx) or is unreachable passes to the next. */
async function throughServers<T>(s: FederationServices, servers: string[], attempt: (server: string) => Promise<T>): Promise<T> {
  const candidates = [...new Set(servers)].filter((x) => x !== s.serverName);
  if (candidates.length === 0) throw new MatrixError(404, 'M_NOT_FOUND', 'No server to reach this room through');
  let last: unknown;
  for (const server of candidates) {
    try {
      return await attempt(server);
    } catch (err) {
      if (err instanceof MatrixError && err.errcode === 'M_INCOMPATIBLE_ROOM_VERSION') throw err;
      s.log(`membership through ${server} failed: ${(err as Error).message}`);
      last = err;
    }
  }
  if (last instanceof FederationRequestError && last.kind === 'response') {
    // The remote's refusal is the answer (403, 404), never its 401 about our own request.
    throw new MatrixError(last.status === 401 ? 502 : last.status, last.errcode, last.message);
  }
  throw last;
}

/** make_{membership}, filled in and signed by us: the event to hand back with send_{membership}. */
async function makeSignedMembership(
  s: FederationServices,
  server: string,
  roomId: string,
  userId: string,
  membership: Membership,
  content: JsonObject,
): Promise<{ version: string; eventId: string; pdu: PDU }> {
  const ver = membership === 'leave' ? '' : `?${JOINABLE_VERSIONS.map((v) => `ver=${v}`).join('&')}`;
  let made: { event?: Record<string, unknown>; room_version?: string };
  try {
    made = await s.client.request(server, 'GET', `/_matrix/federation/v1/make_${membership}/${enc(roomId)}/${enc(userId)}${ver}`);
  } catch (err) {
    if (err instanceof FederationRequestError && err.errcode === 'M_INCOMPATIBLE_ROOM_VERSION') {
      throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', err.message, {
        room_version: String((err.body as JsonObject | undefined)?.room_version ?? ''),
      });
    }
    throw err;
  }
  const version = made.room_version ?? '1';
  const rv = getRoomVersion(version);
  if (!rv || !JOINABLE_VERSIONS.includes(version)) {
    throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${version} is not supported by this server`, { room_version: version });
  }
  const t = made.event;
  if (!t || t.type !== 'm.room.member' || t.sender !== userId || t.state_key !== userId || t.room_id !== roomId) {
    throw new MatrixError(502, 'M_UNKNOWN', `${server} sent a bad make_${membership} template`);
  }
  const templateContent = (typeof t.content === 'object' && t.content !== null ? t.content : {}) as JsonObject;
  const { hashes: _h, signatures: _s, unsigned: _u, event_id: _e, ...rest } = t;
  const draft = { ...rest, content: { ...templateContent, ...content, membership }, origin_server_ts: Date.now() } as unknown as DraftPDU;
  const pdu = hashAndSignEvent(draft, rv, s.serverName, s.signingKey);
  return { version, eventId: computeEventId(pdu, rv), pdu };
}

/**
 * Joins `userId` to a room on other servers: the room's state and auth chain come back with
 * send_join and are checked before the room is created here. Returns the join's event id.
 */
export async function joinRemoteRoom(s: FederationServices, roomId: string, userId: string, servers: string[], content: JsonObject): Promise<string> {
  return throughServers(s, servers, async (server) => {
    const { version, eventId, pdu } = await makeSignedMembership(s, server, roomId, userId, 'join', content);
    const resp = await s.client.request<{ event?: unknown; state?: unknown; auth_chain?: unknown }>(
      server,
      'PUT',
      `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(eventId)}`,
      pdu,
      { timeoutMs: 120_000 },
    );
    // A restricted join comes back co-signed by the resident server; use that copy if it is ours.
    let join = { eventId, pdu };
    if (resp.event !== undefined) {
      try {
        const signed = await checkReceivedPdu(resp.event, version, roomId, s.remoteKeys);
        if (signed.eventId === eventId && !signed.redacted) join = { eventId, pdu: signed.pdu };
      } catch (err) {
        if (!(err instanceof PduCheckError)) throw err;
      }
    }
    const state = await checkAll(s, server, resp.state, version, roomId);
    const chain = await checkAll(s, server, resp.auth_chain, version, roomId);
    const outcome = await s.rooms.write((w) => w.joinRemoteRoom(roomId, version, state, chain, join));
    if (outcome.kind !== 'accepted') throw new MatrixError(403, 'M_FORBIDDEN', `The join was not accepted: ${outcome.reason}`);
    return eventId;
  });
}

/** Leaves (or rejects an invite to) a room this server has no resident member in. */
export async function leaveRemoteRoom(s: FederationServices, roomId: string, userId: string, servers: string[], reason?: string): Promise<PDU> {
  return throughServers(s, servers, async (server) => {
    const { eventId, pdu } = await makeSignedMembership(s, server, roomId, userId, 'leave', reason ? { reason } : {});
    await s.client.request(server, 'PUT', `/_matrix/federation/v2/send_leave/${enc(roomId)}/${enc(eventId)}`, pdu);
    await s.rooms.write((w) => w.storeOutOfRoomMembership(roomId, eventId, pdu));
    return pdu;
  });
}

/** Knocks on a room on another server; the stripped state that comes back is kept with the knock. */
export async function knockRemoteRoom(s: FederationServices, roomId: string, userId: string, servers: string[], reason?: string): Promise<void> {
  await throughServers(s, servers, async (server) => {
    const { eventId, pdu } = await makeSignedMembership(s, server, roomId, userId, 'knock', reason ? { reason } : {});
    const resp = await s.client.request<{ knock_room_state?: unknown }>(server, 'PUT', `/_matrix/federation/v1/send_knock/${enc(roomId)}/${enc(eventId)}`, pdu);
    const stripped = Array.isArray(resp.knock_room_state) ? (resp.knock_room_state as JsonObject[]) : [];
    await s.rooms.write((w) => w.storeOutOfRoomMembership(roomId, eventId, { ...pdu, unsigned: { knock_room_state: stripped } }));
  });
}

/**
 * Invites a user of another server (invites-v2.yaml): our event, built on the room's current front,
 * goes to the invitee's server to be co-signed, then is appended here (and sent to the room).
 */
export async function inviteRemoteUser(s: FederationServices, roomId: string, sender: string, target: string, content: JsonObject): Promise<void> {
  const server = parseUserId(target)?.serverName;
  if (!server) throw new MatrixError(400, 'M_INVALID_PARAM', `${target} is not a user id`);
  const head = await s.rooms.heads.get(s.db.reader, roomId);
  if (!head) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
  const rv = getRoomVersion(head.version)!;
  const { draft } = await draftEvent(
    s.db.reader,
    s.rooms.reader,
    head,
    { type: 'm.room.member', sender, stateKey: target, content: { ...content, membership: 'invite' } },
    Date.now(),
  );
  // invite_event.yaml requires the legacy `origin` key, which Synapse still sets.
  const pdu = hashAndSignEvent({ ...draft, origin: s.serverName } as unknown as DraftPDU, rv, s.serverName, s.signingKey);
  const eventId = computeEventId(pdu, rv);
  const inviteRoomState = await strippedState(s.rooms, s.db.reader, roomId, [sender]);
  const resp = await s.client.request<{ event?: unknown }>(server, 'PUT', `/_matrix/federation/v2/invite/${enc(roomId)}/${enc(eventId)}`, {
    event: pdu,
    room_version: head.version,
    invite_room_state: inviteRoomState,
  });
  let signed: PDU = pdu;
  try {
    const checked = await checkReceivedPdu(resp.event, head.version, roomId, s.remoteKeys);
    if (checked.eventId === eventId) signed = checked.pdu;
  } catch (err) {
    if (!(err instanceof PduCheckError)) throw err;
    throw new MatrixError(502, 'M_UNKNOWN', `${server} returned a bad invite: ${err.message}`);
  }
  const outcome = await s.rooms.write((w) => w.appendRemote(roomId, { eventId, pdu: signed }));
  if (outcome.kind !== 'accepted') throw new MatrixError(403, 'M_FORBIDDEN', `The invite is not allowed: ${outcome.reason}`);
}

/**
 * A room alias on another server (query.yaml "directory"), for GET /directory/room/{roomAlias} and
 * joins by alias: unknown is 404 M_NOT_FOUND, a server that cannot answer 502.
 */
export async function queryRemoteAlias(s: FederationServices, alias: string): Promise<{ roomId: string; servers: string[] }> {
  const server = alias.slice(alias.indexOf(':') + 1);
  try {
    const body = await s.client.request<{ room_id?: unknown; servers?: unknown }>(
      server,
      'GET',
      `/_matrix/federation/v1/query/directory?room_alias=${enc(alias)}`,
    );
    if (typeof body.room_id !== 'string' || !isValidRoomId(body.room_id)) throw new MatrixError(502, 'M_UNKNOWN', `${server} sent no room id for ${alias}`);
    const servers = Array.isArray(body.servers) ? body.servers.filter((x): x is string => typeof x === 'string' && isValidServerName(x)) : [];
    return { roomId: body.room_id, servers: servers.length > 0 ? servers : [server] };
  } catch (err) {
    if (err instanceof FederationRequestError && err.kind === 'response' && err.status === 404)
      throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
    throw asClientError(err, server);
  }
}
