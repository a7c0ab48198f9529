// Profiles (profile.yaml). A change is copied into the user's member event in every joined room,
// as clients read display names from member events.
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param } from '../http/params.ts';
import { isValidUserId, parseUserId } from '../protocol/identifiers.ts';
import { FederationRequestError } from '../federation/client.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import type { JsonObject } from '../protocol/types.ts';
import { findCanonicalJsonViolation } from '../protocol/canonical-json-check.ts';
import { nullObject } from '../protocol/null-object.ts';

const FIELDS = ['displayname', 'avatar_url'] as const;
type Field = (typeof FIELDS)[number];

/** A remote user's profile, asked of their server (query.yaml: GET /_matrix/federation/v1/query/profile). */
async function remoteProfileOf(fed: NonNullable<ClientApiDeps['federation']>, server: string, userId: string): Promise<Record<string, string>> {
  let body: unknown;
  try {
    body = await fed.client.request(server, 'GET', `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(userId)}`);
  } catch (err) {
    if (err instanceof FederationRequestError && err.kind === 'response' && err.status === 404) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile not found');
    if (err instanceof FederationRequestError) throw new MatrixError(502, 'M_UNKNOWN', `Could not fetch the profile from ${server}`);
    throw err;
  }
  const p: Record<string, string> = nullObject();
  const got = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  for (const f of FIELDS) if (typeof got[f] === 'string') p[f] = got[f];
  return p;
}

async function profileOf(deps: ClientApiDeps, userId: string): Promise<Record<string, string>> {
  if (!isValidUserId(userId)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id '${userId}'`);
  const server = parseUserId(userId)?.serverName;
  if (deps.federation && server !== undefined && server !== deps.federation.serverName) return remoteProfileOf(deps.federation, server, userId);
  const u = await deps.users.getUser(userId);
  if (!u || u.deactivated) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile not found');
  const p: Record<string, string> = nullObject();
  if (u.displayname) p.displayname = u.displayname;
  if (u.avatar_url) p.avatar_url = u.avatar_url;
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
    Object.assign(content, profile);
    try {
      await deps.rooms.send(row.room_id, { type: 'm.room.member', sender: userId, stateKey: userId, content });
    } catch (err) {
      // A room whose power levels forbid the change keeps the old name; the profile itself is saved.
      if (!(err instanceof MatrixError)) throw err;
    }
  }
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
    const userId = param(ctx, 'userId');
    const field = param(ctx, 'field') as Field;
    if (userId !== requester(ctx).userId) throw new MatrixError(403, 'M_FORBIDDEN', "You may not change another user's profile");
    if (!FIELDS.includes(field)) throw new MatrixError(400, 'M_INVALID_PARAM', `Unsupported profile field '${field}'`);
    const v = bodyObject(ctx)[field];
    if (v !== undefined && v !== null && typeof v !== 'string') throw new MatrixError(400, 'M_BAD_JSON', `'${field}' must be a string`);
    if (typeof v === 'string' && Buffer.byteLength(v) > 256 && field === 'displayname')
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Display name is too long');
    // The value is copied into member events, which must be canonical JSON: refused here rather
    // than saved and then silently left out of every room.
    const violation = findCanonicalJsonViolation(v, 1, field);
    if (violation) throw new MatrixError(400, 'M_BAD_JSON', violation);
    await deps.rooms.db.write((tx) => accountsStore.setProfileField(tx, userId, field, (v as string | undefined) ?? null));
    await propagate(deps, userId);
    ctx.body = {};
  });
};
