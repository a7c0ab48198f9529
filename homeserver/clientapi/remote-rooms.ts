// Membership requests that may need another server: this server joins, invites to, leaves or knocks
// on a room locally when it is part of the room (has a joined member), and through the room's
// servers otherwise (client-server-api "Joining rooms": `via` / `server_name`, the alias's servers,
// the room id's server, the inviter's server).
import type { ClientApiDeps } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { isValidRoomAlias, isValidRoomId, parseUserId } from '../protocol/identifiers.ts';
import type { JsonObject } from '../protocol/types.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import { eventsStore } from '../storage/events-store.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import { joinRoom, setMembership } from '../rooms/membership.ts';
import { serversInRoom } from '../rooms/servers-in-room.ts';
import { joinRemoteRoom, leaveRemoteRoom, knockRemoteRoom, inviteRemoteUser, queryRemoteAlias } from '../federation/remote-membership.ts';

/** A room id or alias resolved to the room id, with servers that may know the room. */
export async function resolveRoomAndServers(deps: ClientApiDeps, idOrAlias: string, via: string[]): Promise<{ roomId: string; servers: string[] }> {
  if (idOrAlias.startsWith('!')) {
    if (!isValidRoomId(idOrAlias)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room id '${idOrAlias}'`);
    const servers = [...via];
    // Room ids before v12 carry the creating server's name.
    const colon = idOrAlias.indexOf(':');
    if (colon > 0) servers.push(idOrAlias.slice(colon + 1));
    return { roomId: idOrAlias, servers };
  }
  if (idOrAlias.startsWith('#')) {
    if (!isValidRoomAlias(idOrAlias)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room alias '${idOrAlias}'`);
    const row = await roomsStore.getAlias(deps.rooms.db.reader, idOrAlias);
    if (row) return { roomId: row.room_id, servers: [...via] };
    const aliasServer = idOrAlias.slice(idOrAlias.indexOf(':') + 1);
    if (aliasServer === deps.config.serverName || !deps.federation) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${idOrAlias} not found`);
    const remote = await queryRemoteAlias(deps.federation, idOrAlias);
    return { roomId: remote.roomId, servers: [...via, ...remote.servers] };
  }
  throw new MatrixError(400, 'M_INVALID_PARAM', `'${idOrAlias}' is neither a room id nor an alias`);
}

/** Whether this server takes part in the room: it knows it and one of its users is joined. */
async function isResident(deps: ClientApiDeps, roomId: string): Promise<boolean> {
  if (!(await deps.rooms.roomVersion(roomId))) return false;
  return (await serversInRoom(deps.rooms.db.reader, roomId)).has(deps.config.serverName);
}

/** The server of whoever invited `userId`, if they hold an invite: it certainly knows the room. */
async function inviterServer(deps: ClientApiDeps, roomId: string, userId: string): Promise<string[]> {
  const m = await eventsStore.membershipOf(deps.rooms.db.reader, roomId, userId);
  if (m?.membership !== 'invite' && m?.membership !== 'knock') return [];
  const e = await deps.rooms.reader.getEvent(deps.rooms.db.reader, m.event_id);
  const server = e ? parseUserId(e.pdu.sender)?.serverName : undefined;
  return server ? [server] : [];
}

async function profile(deps: ClientApiDeps, userId: string): Promise<JsonObject> {
  const u = await accountsStore.getUser(deps.rooms.db.reader, userId);
  const c: JsonObject = {};
  if (u?.displayname) c.displayname = u.displayname;
  if (u?.avatar_url) c.avatar_url = u.avatar_url;
  return c;
}

export async function joinAnyRoom(deps: ClientApiDeps, roomId: string, servers: string[], userId: string, reason?: string): Promise<void> {
  if ((await isResident(deps, roomId)) || !deps.federation) {
    await joinRoom(deps.rooms, roomId, userId, { reason });
    return;
  }
  const content: JsonObject = await profile(deps, userId);
  if (reason) content.reason = reason;
  await joinRemoteRoom(deps.federation, roomId, userId, [...(await inviterServer(deps, roomId, userId)), ...servers], content);
}

export async function leaveAnyRoom(deps: ClientApiDeps, roomId: string, userId: string, reason?: string): Promise<void> {
  if ((await isResident(deps, roomId)) || !deps.federation) {
    await setMembership(deps.rooms, roomId, userId, userId, 'leave', { reason });
    return;
  }
  const servers = await inviterServer(deps, roomId, userId);
  if (servers.length === 0) throw new MatrixError(404, 'M_NOT_FOUND', `You are not in room ${roomId}`);
  await leaveRemoteRoom(deps.federation, roomId, userId, servers, reason);
}

export async function knockAnyRoom(deps: ClientApiDeps, roomId: string, servers: string[], userId: string, reason?: string): Promise<void> {
  if ((await isResident(deps, roomId)) || !deps.federation) {
    await setMembership(deps.rooms, roomId, userId, userId, 'knock', { reason });
    return;
  }
  await knockRemoteRoom(deps.federation, roomId, userId, servers, reason);
}

export async function inviteAnyUser(
  deps: ClientApiDeps,
  roomId: string,
  sender: string,
  target: string,
  reason?: string,
  extra: JsonObject = {},
): Promise<void> {
  const server = parseUserId(target)?.serverName;
  if (server === deps.config.serverName || !deps.federation) {
    await setMembership(deps.rooms, roomId, sender, target, 'invite', { reason, extraContent: extra });
    return;
  }
  const m = await eventsStore.membershipOf(deps.rooms.db.reader, roomId, target);
  if (m?.membership === 'join') throw new MatrixError(403, 'M_FORBIDDEN', `${target} is already in the room`);
  if (m?.membership === 'ban') throw new MatrixError(403, 'M_FORBIDDEN', `${target} is banned from the room`);
  const content: JsonObject = { ...extra };
  if (reason) content.reason = reason;
  await inviteRemoteUser(deps.federation, roomId, sender, target, content);
}
