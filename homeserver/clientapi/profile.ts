// Profiles (profile.yaml), with the extended fields of v1.16. A change of displayname or
// avatar_url is copied into the user's member event in every joined room, as clients read display
// names from member events; other fields live only in the profile.
import type { Context } from 'koa';
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param } from '../http/params.ts';
import { isValidUserId, parseUserId } from '../protocol/identifiers.ts';
import { FederationRequestError } from '../federation/client.ts';
import type { JsonObject } from '../protocol/types.ts';
import { nullObject } from '../protocol/null-object.ts';
import { changeProfileField, checkProfileKey, checkProfileValue, loadProfile, type Profile } from '../users/profiles.ts';

/** The fields member events carry (client-server-api, "Events on Change of Profile Information"). */
const MEMBER_FIELDS = ['displayname', 'avatar_url'] as const;

/** A remote user's profile, asked of their server (query.yaml: GET /_matrix/federation/v1/query/profile). */
async function remoteProfileOf(fed: NonNullable<ClientApiDeps['federation']>, server: string, userId: string): Promise<Profile> {
  let body: unknown;
  try {
    body = await fed.client.request(server, 'GET', `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(userId)}`);
  } catch (err) {
    if (err instanceof FederationRequestError && err.kind === 'response' && err.status === 404) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile not found');
    if (err instanceof FederationRequestError) throw new MatrixError(502, 'M_UNKNOWN', `Could not fetch the profile from ${server}`);
    throw err;
  }
  const p: Profile = nullObject();
  const got = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  // query.yaml: a server may add fields of its own; the defined ones must be strings when set.
  for (const [key, value] of Object.entries(got)) {
    if ((MEMBER_FIELDS as readonly string[]).includes(key) || key === 'm.tz') {
      if (typeof value === 'string') p[key] = value;
    } else if (value !== undefined) {
      p[key] = value;
    }
  }
  return p;
}

async function profileOf(deps: ClientApiDeps, userId: string): Promise<Profile> {
  if (!isValidUserId(userId)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id '${userId}'`);
  const server = parseUserId(userId)?.serverName;
  if (deps.federation && server !== undefined && server !== deps.federation.serverName) return remoteProfileOf(deps.federation, server, userId);
  const p = await loadProfile(deps.rooms.db.reader, userId);
  if (!p) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile not found');
  return p;
}

async function propagate(deps: ClientApiDeps, userId: string): Promise<void> {
  const profile = await profileOf(deps, userId);
  const rows = await deps.rooms.db.reader.all<{ room_id: string; event_id: string }>(
    "SELECT room_id, event_id FROM memberships WHERE user_id = ? AND membership = 'join'",
    userId,
  );
  for (const row of rows) {
    const current = await deps.rooms.reader.getEvent(deps.rooms.db.reader, row.event_id);
    const content: JsonObject = { ...(current?.pdu.content ?? {}), membership: 'join' };
    delete content.displayname;
    delete content.avatar_url;
    delete content.join_authorised_via_users_server;
    for (const f of MEMBER_FIELDS) if (typeof profile[f] === 'string') content[f] = profile[f];
    try {
      await deps.rooms.send(row.room_id, { type: 'm.room.member', sender: userId, stateKey: userId, content });
    } catch (err) {
      // A room whose power levels forbid the change keeps the old name; the profile itself is saved.
      if (!(err instanceof MatrixError)) throw err;
    }
  }
}

/** The user whose profile a PUT or DELETE changes: only one's own. */
function ownProfile(ctx: Context): string {
  const userId = param(ctx, 'userId');
  if (userId !== requester(ctx).userId) throw new MatrixError(403, 'M_FORBIDDEN', "You may not change another user's profile");
  return userId;
}

export const profileRoutes: RouteGroup = (r, deps) => {
  r.get('/profile/:userId', async (ctx) => {
    ctx.body = await profileOf(deps, param(ctx, 'userId'));
  });
  r.get('/profile/:userId/:field', async (ctx) => {
    const field = param(ctx, 'field');
    const p = await profileOf(deps, param(ctx, 'userId'));
    if (p[field] === undefined) throw new MatrixError(404, 'M_NOT_FOUND', `No ${field} set`);
    ctx.body = { [field]: p[field] };
  });
  r.put('/profile/:userId/:field', deps.auth, async (ctx) => {
    const userId = ownProfile(ctx);
    const field = param(ctx, 'field');
    checkProfileKey(field);
    const body = bodyObject(ctx);
    // profile.yaml: "An object which contains exactly one property", named as the key.
    if (!Object.hasOwn(body, field)) throw new MatrixError(400, 'M_MISSING_PARAM', `The body must hold '${field}'`);
    if (Object.keys(body).length > 1) throw new MatrixError(400, 'M_BAD_JSON', `The body must hold only '${field}'`);
    const value = body[field];
    checkProfileValue(field, value);
    // displayname and avatar_url keep their old meaning of null: cleared. Other keys store null
    // as a value, as profile.yaml asks of servers that accept it (DELETE removes a key).
    await changeProfileField(deps.rooms.db, userId, field, (MEMBER_FIELDS as readonly string[]).includes(field) && value === null ? undefined : value);
    if ((MEMBER_FIELDS as readonly string[]).includes(field)) await propagate(deps, userId);
    // The LAN announcement's label is a local user's display name (discovery/lan-sharing.ts).
    if (field === 'displayname') await deps.lan?.refreshAnnouncement();
    ctx.body = {};
  });
  r.delete('/profile/:userId/:field', deps.auth, async (ctx) => {
    const userId = ownProfile(ctx);
    const field = param(ctx, 'field');
    checkProfileKey(field);
    await changeProfileField(deps.rooms.db, userId, field, undefined);
    if ((MEMBER_FIELDS as readonly string[]).includes(field)) await propagate(deps, userId);
    // The LAN announcement's label is a local user's display name (discovery/lan-sharing.ts).
    if (field === 'displayname') await deps.lan?.refreshAnnouncement();
    ctx.body = {};
  });
};
