// createRoom, membership and joined_rooms (create_room.yaml, joining.yaml, inviting.yaml,
// leaving.yaml, kicking.yaml, banning.yaml, list_joined_rooms.yaml).
import type { Context } from 'koa';
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { boolField, objectField, param, stringField } from '../http/params.ts';
import { createRoom, type CreateRoomRequest } from '../rooms/create-room.ts';
import { setMembership, kick, unban, forgetRoom } from '../rooms/membership.ts';
import { resolveRoomAndServers, joinAnyRoom, leaveAnyRoom, knockAnyRoom, inviteAnyUser } from './remote-rooms.ts';
import { isValidRoomAlias, isValidRoomId, isValidUserId } from '../protocol/identifiers.ts';
import { roomsStore } from '../storage/rooms-store.ts';
import type { JsonObject } from '../protocol/types.ts';

export const roomRoutes: RouteGroup = (r, deps) => {
  r.post('/createRoom', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const me = requester(ctx);
    const visibility = stringField(body, 'visibility');
    if (visibility !== undefined && visibility !== 'public' && visibility !== 'private')
      throw new MatrixError(400, 'M_BAD_JSON', "visibility must be 'public' or 'private'");
    const preset = stringField(body, 'preset');
    if (preset !== undefined && !['private_chat', 'public_chat', 'trusted_private_chat'].includes(preset))
      throw new MatrixError(400, 'M_BAD_JSON', `Unknown preset '${preset}'`);
    const invite = body.invite;
    if (invite !== undefined && (!Array.isArray(invite) || invite.some((u) => typeof u !== 'string')))
      throw new MatrixError(400, 'M_BAD_JSON', "'invite' must be an array of user ids");
    const initialState = body.initial_state;
    if (initialState !== undefined) {
      if (!Array.isArray(initialState)) throw new MatrixError(400, 'M_BAD_JSON', "'initial_state' must be an array");
      for (const s of initialState) {
        if (!s || typeof s !== 'object' || typeof s.type !== 'string' || !s.content || typeof s.content !== 'object') {
          throw new MatrixError(400, 'M_BAD_JSON', 'Each initial_state entry needs a type and a content object');
        }
        if (s.state_key !== undefined && typeof s.state_key !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'initial_state state_key must be a string');
      }
    }
    const user = await deps.users.getUser(me.userId);
    const req: CreateRoomRequest = {
      creator: me.userId,
      visibility: visibility as 'public' | 'private' | undefined,
      roomAliasName: stringField(body, 'room_alias_name'),
      name: stringField(body, 'name'),
      topic: stringField(body, 'topic'),
      invite: invite as string[] | undefined,
      initialState: initialState as CreateRoomRequest['initialState'],
      preset: preset as CreateRoomRequest['preset'],
      powerLevelContentOverride: objectField(body, 'power_level_content_override') as JsonObject | undefined,
      creationContent: objectField(body, 'creation_content') as JsonObject | undefined,
      roomVersion: stringField(body, 'room_version') ?? deps.config.defaultRoomVersion,
      isDirect: boolField(body, 'is_direct'),
      creatorProfile: { displayname: user?.displayname, avatar_url: user?.avatar_url },
    };
    const { roomId, remoteInvites } = await createRoom(deps.rooms, req);
    // Users of other servers are invited once the room exists (their server co-signs each invite).
    for (const inv of remoteInvites) await inviteAnyUser(deps, roomId, me.userId, inv.userId, undefined, inv.content);
    ctx.body = { room_id: roomId };
  });

  const join = async (ctx: Context, roomIdOrAlias: string) => {
    const body = bodyObject(ctx);
    const me = requester(ctx);
    const { roomId, servers } = await resolveRoomAndServers(deps, roomIdOrAlias, viaServers(ctx));
    await joinAnyRoom(deps, roomId, servers, me.userId, stringField(body, 'reason'));
    ctx.body = { room_id: roomId };
  };
  r.post('/join/:roomIdOrAlias', deps.auth, (ctx) => join(ctx, param(ctx, 'roomIdOrAlias')));
  r.post('/rooms/:roomId/join', deps.auth, (ctx) => join(ctx, param(ctx, 'roomId')));
  // Knocking (knocking.yaml).
  r.post('/knock/:roomIdOrAlias', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const me = requester(ctx);
    const { roomId, servers } = await resolveRoomAndServers(deps, param(ctx, 'roomIdOrAlias'), viaServers(ctx));
    await knockAnyRoom(deps, roomId, servers, me.userId, stringField(body, 'reason'));
    ctx.body = { room_id: roomId };
  });

  r.post('/rooms/:roomId/invite', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const target = targetUser(body);
    await inviteAnyUser(deps, checkedRoomId(ctx), requester(ctx).userId, target, stringField(body, 'reason'));
    ctx.body = {};
  });
  r.post('/rooms/:roomId/leave', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const me = requester(ctx);
    await leaveAnyRoom(deps, checkedRoomId(ctx), me.userId, stringField(body, 'reason'));
    ctx.body = {};
  });
  r.post('/rooms/:roomId/kick', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    await kick(deps.rooms, checkedRoomId(ctx), requester(ctx).userId, targetUser(body), stringField(body, 'reason'));
    ctx.body = {};
  });
  r.post('/rooms/:roomId/ban', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    await setMembership(deps.rooms, checkedRoomId(ctx), requester(ctx).userId, targetUser(body), 'ban', { reason: stringField(body, 'reason') });
    ctx.body = {};
  });
  r.post('/rooms/:roomId/unban', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    await unban(deps.rooms, checkedRoomId(ctx), requester(ctx).userId, targetUser(body), stringField(body, 'reason'));
    ctx.body = {};
  });
  r.post('/rooms/:roomId/forget', deps.auth, async (ctx) => {
    await forgetRoom(deps.rooms, checkedRoomId(ctx), requester(ctx).userId);
    ctx.body = {};
  });
  r.get('/joined_rooms', deps.auth, async (ctx) => {
    const rows = await deps.rooms.db.reader.all<{ room_id: string }>(
      "SELECT room_id FROM memberships WHERE user_id = ? AND membership = 'join'",
      requester(ctx).userId,
    );
    ctx.body = { joined_rooms: rows.map((x) => x.room_id) };
  });
};

/** `via` (current spec) and `server_name` (older clients) query parameters of a join or knock. */
function viaServers(ctx: Context): string[] {
  const out: string[] = [];
  for (const key of ['via', 'server_name']) {
    const v = ctx.query[key];
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) out.push(...v);
  }
  return out;
}

function targetUser(body: Record<string, unknown>): string {
  const u = stringField(body, 'user_id', true);
  if (!isValidUserId(u)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id '${u}'`);
  return u;
}

export function checkedRoomId(ctx: Context): string {
  const id = param(ctx, 'roomId');
  if (!isValidRoomId(id)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room id '${id}'`);
  return id;
}

/** A room id as is, or an alias of this server looked up in the directory. */
export async function resolveRoom(deps: ClientApiDeps, idOrAlias: string): Promise<string> {
  if (idOrAlias.startsWith('!')) {
    if (!isValidRoomId(idOrAlias)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room id '${idOrAlias}'`);
    return idOrAlias;
  }
  if (idOrAlias.startsWith('#')) {
    if (!isValidRoomAlias(idOrAlias)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room alias '${idOrAlias}'`);
    const row = await roomsStore.getAlias(deps.rooms.db.reader, idOrAlias);
    if (!row) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${idOrAlias} not found`);
    return row.room_id;
  }
  throw new MatrixError(400, 'M_INVALID_PARAM', `'${idOrAlias}' is neither a room id nor an alias`);
}
