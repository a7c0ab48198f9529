// Server administration (admin.yaml): whois, and suspending and locking accounts. Admins are the
// accounts `hearth admin grant` marked (homeserver/cli/admin-commands.ts).
import type { Context } from 'koa';
import type { ClientApiDeps, RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError, invalidParam } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param } from '../http/params.ts';
import { parseUserId } from '../protocol/identifiers.ts';

const notAdmin = () => new MatrixError(403, 'M_FORBIDDEN', 'Requesting user is not a server administrator.');

/**
 * The local, active account an admin acts on. admin.yaml: "servers MUST ensure that authorisation
 * is checked prior to trying to do account lookups", so the caller's admin flag comes first and a
 * non-admin learns nothing of which accounts exist.
 */
async function moderatedAccount(deps: ClientApiDeps, ctx: Context, change: boolean): Promise<string> {
  const me = requester(ctx).userId;
  if (!(await deps.users.moderation.isAdmin(me))) throw notAdmin();
  const userId = param(ctx, 'userId');
  if (parseUserId(userId)?.serverName !== deps.users.serverName) throw invalidParam('User does not belong to the local server.');
  const account = await deps.users.getUser(userId);
  if (!account || account.deactivated) throw new MatrixError(404, 'M_NOT_FOUND', 'User not found.');
  if (change && userId === me) throw new MatrixError(403, 'M_FORBIDDEN', 'You cannot do this to your own account.');
  if (userId !== me && (await deps.users.moderation.isAdmin(userId))) throw new MatrixError(403, 'M_FORBIDDEN', 'The target user is another administrator.');
  return userId;
}

function booleanField(ctx: Context, key: string): boolean {
  const v = bodyObject(ctx)[key];
  if (v === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', `'${key}' is required`);
  if (typeof v !== 'boolean') throw new MatrixError(400, 'M_BAD_JSON', `'${key}' must be true or false`);
  return v;
}

export const adminRoutes: RouteGroup = (r, deps) => {
  // "May be restricted to only be called by the user being looked up, or by a server admin."
  r.get('/admin/whois/:userId', deps.auth, async (ctx) => {
    const me = requester(ctx).userId;
    const userId = param(ctx, 'userId');
    if (userId !== me && !(await deps.users.moderation.isAdmin(me))) throw notAdmin();
    const account = parseUserId(userId)?.serverName === deps.users.serverName ? await deps.users.getUser(userId) : undefined;
    if (!account) throw new MatrixError(404, 'M_NOT_FOUND', 'User not found.');
    // One session per device (a device holds one login's tokens); its connection is what the
    // device was last seen from. Hearth does not record user agents.
    const devices: Record<string, unknown> = {};
    for (const d of await deps.users.listDevices(userId)) {
      const connection = {
        ...(d.last_seen_ip !== null ? { ip: d.last_seen_ip } : {}),
        ...(d.last_seen_ts !== null ? { last_seen: d.last_seen_ts } : {}),
      };
      devices[d.device_id] = { sessions: [{ connections: Object.keys(connection).length > 0 ? [connection] : [] }] };
    }
    ctx.body = { user_id: userId, devices };
  });

  for (const [path, flag] of [
    ['/admin/suspend/:userId', 'suspended'],
    ['/admin/lock/:userId', 'locked'],
  ] as const) {
    r.get(path, deps.auth, async (ctx) => {
      const userId = await moderatedAccount(deps, ctx, false);
      ctx.body = { [flag]: (await deps.users.moderation.stateOf(userId))[flag] };
    });
    r.put(path, deps.auth, async (ctx) => {
      const userId = await moderatedAccount(deps, ctx, true);
      const on = booleanField(ctx, flag);
      await deps.users.moderation.set(userId, flag, on);
      ctx.body = { [flag]: on };
    });
  }
};
