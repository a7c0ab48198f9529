// POST /createRoom's behaviour (data/api/client-server/create_room.yaml): the events it implies, in
// the order the spec lists, all appended in one transaction.
import type { JsonObject } from '../protocol/types.ts';
import { DEFAULT_ROOM_VERSION, getRoomVersion } from '../protocol/room-versions.ts';
import { isValidUserId } from '../protocol/identifiers.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import type { RoomHead } from './room-heads.ts';
import type { RoomService } from './room-service.ts';
import { randomBytes } from 'node:crypto';

export interface CreateRoomRequest {
  creator: string;
  visibility?: 'public' | 'private';
  roomAliasName?: string;
  name?: string;
  topic?: string;
  invite?: string[];
  initialState?: Array<{ type: string; state_key?: string; content: JsonObject }>;
  preset?: 'private_chat' | 'public_chat' | 'trusted_private_chat';
  powerLevelContentOverride?: JsonObject;
  creationContent?: JsonObject;
  /** createRoom's `room_version`, else the server's default (config `default_room_version`). */
  roomVersion?: string;
  isDirect?: boolean;
  /** The creator's profile, copied into their join event as clients expect. */
  creatorProfile: { displayname?: string | null; avatar_url?: string | null };
}

const PRESETS: Record<string, { join_rule: string; history_visibility: string; guest_access: string }> = {
  private_chat: { join_rule: 'invite', history_visibility: 'shared', guest_access: 'can_join' },
  trusted_private_chat: { join_rule: 'invite', history_visibility: 'shared', guest_access: 'can_join' },
  public_chat: { join_rule: 'public', history_visibility: 'shared', guest_access: 'forbidden' },
};

/**
 * Creates a room with its initial state and local invites. Invites of users on other servers need
 * their server's co-signature (invites-v2), so they come back in `remoteInvites` for the caller to
 * send once the room exists.
 */
export async function createRoom(
  svc: RoomService,
  req: CreateRoomRequest,
): Promise<{ roomId: string; alias?: string; remoteInvites: Array<{ userId: string; content: JsonObject }> }> {
  const versionId = req.roomVersion ?? DEFAULT_ROOM_VERSION;
  const version = getRoomVersion(versionId);
  if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version '${versionId}' is not supported`);
  const preset = req.preset ?? (req.visibility === 'public' ? 'public_chat' : 'private_chat');
  const presetState = PRESETS[preset];
  if (!presetState) throw new MatrixError(400, 'M_BAD_JSON', `Unknown preset '${preset}'`);
  const invitees = [...new Set(req.invite ?? [])];
  for (const u of invitees) if (!isValidUserId(u)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id in invite: ${u}`);

  const alias = req.roomAliasName !== undefined ? `#${req.roomAliasName}:${svc.serverName}` : undefined;
  if (alias !== undefined) {
    if (!/^[^\s:#]+$/.test(req.roomAliasName!) || alias.length > 255) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room_alias_name');
    if (await roomsStore.getAlias(svc.db.reader, alias)) throw new MatrixError(400, 'M_ROOM_IN_USE', `Alias ${alias} is already in use`);
  }

  // Create event content: client keys first, then the keys the server owns (creator, room_version).
  const createContent: JsonObject = { ...(req.creationContent ?? {}), room_version: versionId };
  // From v11 the creator is the create event's sender and `creator` is no longer required
  // (rooms/v11.md "Remove the creator property"), but nheko and matrix-nio still treat a create
  // event without it as malformed, and v11 keeps the whole create content on redaction, so rooms
  // up to v11 carry it (as they must before v11). v12 clients know better; it is left out there.
  if (!version.roomIdFromCreateEvent) createContent.creator = req.creator;
  else delete createContent.creator;
  if (version.roomIdFromCreateEvent && preset === 'trusted_private_chat') {
    const extra = Array.isArray(createContent.additional_creators) ? (createContent.additional_creators as string[]) : [];
    createContent.additional_creators = [...new Set([...extra, ...invitees])];
  }
  const creators = new Set([req.creator, ...(Array.isArray(createContent.additional_creators) ? (createContent.additional_creators as string[]) : [])]);

  // Spread, not Object.assign: an override key `__proto__` must stay a key, not become the
  // content's prototype (assignment would call Object.prototype's __proto__ setter).
  const powerLevels: JsonObject = {
    ...defaultPowerLevels(req.creator, version.roomIdFromCreateEvent, preset === 'trusted_private_chat' ? invitees : []),
    ...(req.powerLevelContentOverride ?? {}),
  };

  return svc
    .write(async (w) => {
      // Checked again in the transaction: two createRoom calls with one alias both pass the check
      // above, and the second would meet the alias table's unique key half-way through its room.
      if (alias !== undefined && (await roomsStore.getAlias(w.tx, alias))) throw new MatrixError(400, 'M_ROOM_IN_USE', `Alias ${alias} is already in use`);
      // Before v12 the room id is ours to choose; from v12 it is the create event's reference hash.
      const provisionalId = `!${randomBytes(12).toString('base64url')}:${svc.serverName}`;
      const head: RoomHead = { roomId: provisionalId, version: versionId, state: new Map(), stateGroup: null, chainLength: 0, extremities: [], maxDepth: 0 };
      const send = (type: string, stateKey: string, content: JsonObject) => w.appendToNewHead(head, { type, sender: req.creator, stateKey, content });

      await send('m.room.create', '', createContent);
      await roomsStore.insertRoom(w.tx, head.roomId, versionId, req.creator, req.visibility === 'public');
      const member: JsonObject = { membership: 'join' };
      if (req.creatorProfile.displayname) member.displayname = req.creatorProfile.displayname;
      if (req.creatorProfile.avatar_url) member.avatar_url = req.creatorProfile.avatar_url;
      await send('m.room.member', req.creator, member);
      // v12: creators have infinite power and must not be listed in users (rooms/v12.md).
      if (version.roomIdFromCreateEvent) {
        const users = (powerLevels.users ?? {}) as JsonObject;
        for (const c of creators) delete users[c];
      }
      await send('m.room.power_levels', '', powerLevels);
      if (alias) {
        await roomsStore.insertAlias(w.tx, alias, head.roomId, req.creator);
        await send('m.room.canonical_alias', '', { alias });
      }
      await send('m.room.join_rules', '', { join_rule: presetState.join_rule });
      await send('m.room.history_visibility', '', { history_visibility: presetState.history_visibility });
      await send('m.room.guest_access', '', { guest_access: presetState.guest_access });
      for (const s of req.initialState ?? []) await send(s.type, s.state_key ?? '', s.content);
      if (req.name !== undefined) await send('m.room.name', '', { name: req.name });
      if (req.topic !== undefined) {
        // m.room.topic since v1.15 carries m.topic with a text/plain representation too.
        await send('m.room.topic', '', { topic: req.topic, 'm.topic': [{ mimetype: 'text/plain', body: req.topic }] as unknown as JsonObject[] });
      }
      const remoteInvites: Array<{ userId: string; content: JsonObject }> = [];
      for (const invitee of invitees) {
        const content: JsonObject = { membership: 'invite' };
        if (!invitee.endsWith(`:${svc.serverName}`)) {
          remoteInvites.push({ userId: invitee, content: req.isDirect ? { is_direct: true } : {} });
          continue;
        }
        // As /invite does (and Synapse): the invitee's profile, so clients can name them at once.
        const profile = await accountsStore.getUser(w.tx, invitee);
        if (profile?.displayname) content.displayname = profile.displayname;
        if (profile?.avatar_url) content.avatar_url = profile.avatar_url;
        if (req.isDirect) content.is_direct = true;
        await send('m.room.member', invitee, content);
      }
      return { roomId: head.roomId, alias, remoteInvites };
    })
    .catch(invalidRoomState);
}

/**
 * The room is new, so an event the auth rules refuse was made invalid by the request itself
 * (power_level_content_override, initial_state): create_room.yaml answers 400 M_INVALID_ROOM_STATE.
 */
function invalidRoomState(err: unknown): never {
  if (err instanceof MatrixError && err.errcode === 'M_FORBIDDEN') {
    throw new MatrixError(400, 'M_INVALID_ROOM_STATE', `The initial state is invalid: ${err.message}`);
  }
  throw err;
}

/** The default m.room.power_levels content of createRoom (client-server "m.room.power_levels"). */
function defaultPowerLevels(creator: string, creatorsHaveInfinitePower: boolean, trustedInvitees: string[]): JsonObject {
  const users: JsonObject = {};
  if (!creatorsHaveInfinitePower) users[creator] = 100;
  for (const u of trustedInvitees) users[u] = 100;
  return {
    users,
    users_default: 0,
    events: {
      'm.room.name': 50,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.canonical_alias': 50,
      'm.room.avatar': 50,
      // v12: tombstone must be above state_default (create_room.yaml); 150 as the spec suggests.
      'm.room.tombstone': creatorsHaveInfinitePower ? 150 : 100,
      'm.room.server_acl': 100,
      'm.room.encryption': 100,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite: 0,
    notifications: { room: 50 },
  };
}
