// Registration, login, logout, whoami, password, deactivation and devices
// (registration.yaml, login.yaml, logout.yaml, whoami.yaml, password_management.yaml,
// account_deactivation.yaml, device_management.yaml).
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester, requireAuth } from '../http/auth.ts';
import { boolField, objectField, param, queryString, stringField } from '../http/params.ts';
import { checkDeviceDisplayName, checkDeviceId, initialDeviceDisplayName } from './device-fields.ts';
import { parseUserId } from '../protocol/identifiers.ts';
import type { UiaFlow } from '../users/uia.ts';
import { clientAddress, peerAddress } from '../http/client-address.ts';
import { checkNewPassword } from '../users/password-policy.ts';
import { DEFAULT_PASSWORD_MINIMUM_LENGTH } from '../config/types.ts';
import type { Session } from '../users/user-service.ts';

/** The /login and /register answer; refresh_token and expires_in_ms only for clients that asked (`refresh_token: true`). */
function sessionJson(deps: ClientApiDeps, s: Session): Record<string, unknown> {
  const o: Record<string, unknown> = { user_id: s.userId, access_token: s.accessToken, device_id: s.deviceId, home_server: deps.config.serverName };
  if (s.refreshToken !== undefined) {
    o.refresh_token = s.refreshToken;
    o.expires_in_ms = s.expiresInMs;
  }
  return o;
}

function checkPasswordPolicy(deps: ClientApiDeps, password: string): void {
  checkNewPassword(password, deps.config.passwordPolicy?.minimumLength ?? DEFAULT_PASSWORD_MINIMUM_LENGTH);
}

function registrationFlows(deps: ClientApiDeps): UiaFlow[] {
  return deps.config.registration === 'token' ? [{ stages: ['m.login.registration_token'] }] : [{ stages: ['m.login.dummy'] }];
}

/**
 * A UIA stage check shared by the endpoints that accept these stages. The request gives the
 * client's address: a password stage guesses passwords as /login does, and is limited the same way.
 */
export function stageChecker(deps: ClientApiDeps, ctx: Context, userId?: string) {
  const address = clientAddress(ctx.ip);
  return async (stage: string, auth: Record<string, unknown>) => {
    if (stage === 'm.login.dummy') return;
    if (stage === 'm.login.registration_token') {
      const token = auth.token;
      const valid = typeof token === 'string' && deps.config.registrationTokens.includes(token);
      if (!deps.users.attemptRegistrationToken(valid, address)) {
        throw new MatrixError(401, 'M_FORBIDDEN', 'Invalid registration token');
      }
      return;
    }
    if (stage === 'm.login.password') {
      const who = identifierUser(deps, auth) ?? userId;
      const password = auth.password;
      if (!who || who !== userId || typeof password !== 'string' || !(await deps.users.attemptPassword(who, password, address))) {
        throw new MatrixError(401, 'M_FORBIDDEN', 'Invalid password');
      }
      return;
    }
    throw new MatrixError(400, 'M_UNRECOGNIZED', `Unknown stage ${stage}`);
  };
}

/** The user id named by a login or UIA body: `identifier` of type m.id.user, or the deprecated `user`. */
function identifierUser(deps: ClientApiDeps, body: Record<string, unknown>): string | undefined {
  const ident = body.identifier === undefined ? undefined : objectField(body, 'identifier');
  let user: unknown;
  if (ident) {
    if (ident.type !== 'm.id.user') throw new MatrixError(400, 'M_UNKNOWN', `Unsupported identifier type ${String(ident.type)}`);
    user = stringField(ident, 'user');
  } else {
    user = stringField(body, 'user');
  }
  if (typeof user !== 'string' || user === '') return undefined;
  if (user.startsWith('@')) {
    const parsed = parseUserId(user);
    return parsed ? `@${parsed.localpart.toLowerCase()}:${parsed.serverName}` : undefined;
  }
  return deps.users.userIdFor(user.toLowerCase());
}

export const accountRoutes: RouteGroup = (r, deps) => {
  r.post('/register', async (ctx) => {
    const body = bodyObject(ctx);
    const kind = queryString(ctx, 'kind') ?? 'user';
    if (kind === 'guest') throw new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guest accounts are not available on this server');
    if (kind !== 'user') throw new MatrixError(400, 'M_INVALID_PARAM', `Unknown kind '${kind}'`);
    if (deps.config.registration === 'closed') throw new MatrixError(403, 'M_FORBIDDEN', 'Registration is disabled on this server');
    // Only accounts made count against the address (below), but while it must wait, every step
    // of the dance is refused: a 429 at the end of UIA would waste the client's work.
    const address = clientAddress(ctx.ip);
    const wait = deps.registrationLimiter.wait(address);
    if (wait > 0) throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many accounts registered from this address', { retry_after_ms: wait });
    const username = stringField(body, 'username');
    const password = stringField(body, 'password');
    const deviceId = checkDeviceId(stringField(body, 'device_id'));
    const deviceName = initialDeviceDisplayName(stringField(body, 'initial_device_display_name'));
    const inhibitLogin = boolField(body, 'inhibit_login') ?? false;
    const refreshable = boolField(body, 'refresh_token') ?? false;
    // Check the username before UIA so that a taken name is reported at once.
    const localpart = username !== undefined ? deps.users.checkLocalpart(username) : `user${randomBytes(6).toString('hex')}`;
    if (!(await deps.users.isAvailable(localpart))) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken');
    if (password !== undefined) checkPasswordPolicy(deps, password);
    const stages = await deps.uia.require({
      auth: body.auth,
      flows: registrationFlows(deps),
      fingerprint: 'register',
      checkStage: stageChecker(deps, ctx),
    });
    const { userId, session } = await deps.users.register(localpart, password ?? null, deviceId, deviceName, inhibitLogin, refreshable, peerAddress(ctx.ip));
    deps.registrationLimiter.take(address);
    // A desktop sharing on the LAN announces its local users: peers list the new one now, as they
    // do one made by the desktop shell (index.ts loginTokenFor).
    await deps.lan?.refreshAnnouncement();
    if (stages.includes('m.login.registration_token')) {
      const token = (body.auth as Record<string, unknown>).token as string;
      await deps.rooms.db.write(async (tx) => {
        await tx.run('INSERT INTO registration_token_uses (token, completed) VALUES (?, 1) ON CONFLICT (token) DO UPDATE SET completed = completed + 1', token);
      });
    }
    ctx.body = session ? sessionJson(deps, session) : { user_id: userId, home_server: deps.config.serverName };
  });

  r.get('/register/available', async (ctx) => {
    const username = queryString(ctx, 'username');
    if (!username) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing username');
    const localpart = deps.users.checkLocalpart(username);
    if (!(await deps.users.isAvailable(localpart))) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken');
    ctx.body = { available: true };
  });

  r.get('/register/m.login.registration_token/validity', (ctx) => {
    const token = queryString(ctx, 'token');
    if (!token) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing token');
    if (deps.config.registration !== 'token') throw new MatrixError(403, 'M_FORBIDDEN', 'Registration tokens are not in use');
    // The spec marks this endpoint rate-limited: it would otherwise test guesses for free.
    ctx.body = { valid: deps.users.attemptRegistrationToken(deps.config.registrationTokens.includes(token), clientAddress(ctx.ip)) };
  });

  r.get('/login', (ctx) => {
    // login.yaml: `get_login_token` tells a signed-out client that a signed-in one can mint it a token.
    const token: Record<string, unknown> = { type: 'm.login.token' };
    if (deps.config.loginViaExistingSession !== false) token.get_login_token = true;
    ctx.body = { flows: [{ type: 'm.login.password' }, token] };
  });

  r.post('/login', async (ctx) => {
    const body = bodyObject(ctx);
    const type = stringField(body, 'type', true);
    const deviceId = checkDeviceId(stringField(body, 'device_id'));
    const deviceName = initialDeviceDisplayName(stringField(body, 'initial_device_display_name'));
    const refreshable = boolField(body, 'refresh_token') ?? false;
    let userId: string | undefined;
    if (type === 'm.login.password') {
      const password = stringField(body, 'password', true);
      userId = identifierUser(deps, body);
      if (!userId || !(await deps.users.attemptPassword(userId, password, clientAddress(ctx.ip))))
        throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');
    } else if (type === 'm.login.token') {
      const token = stringField(body, 'token', true);
      userId = await deps.users.takeLoginToken(token);
      if (!userId) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid or expired login token');
    } else {
      throw new MatrixError(400, 'M_UNKNOWN', `Unsupported login type ${type}`);
    }
    const user = await deps.users.getUser(userId);
    if (!user || user.deactivated) throw new MatrixError(403, 'M_USER_DEACTIVATED', 'This account has been deactivated');
    ctx.body = sessionJson(deps, await deps.users.login(userId, deviceId, deviceName, refreshable, peerAddress(ctx.ip)));
  });

  // An expired token may still log out: the client ends a session it cannot or will not refresh.
  r.post('/logout', requireAuth(deps.authenticate, { allowExpired: true }), async (ctx) => {
    await deps.users.logout(requester(ctx).accessToken);
    ctx.body = {};
  });
  r.post('/logout/all', deps.auth, async (ctx) => {
    await deps.users.logoutAll(requester(ctx).userId);
    ctx.body = {};
  });

  r.get('/account/whoami', deps.auth, (ctx) => {
    const { userId, deviceId } = requester(ctx);
    ctx.body = { user_id: userId, device_id: deviceId, is_guest: false };
  });

  r.post('/account/password', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const me = requester(ctx);
    const newPassword = stringField(body, 'new_password', true);
    const logoutDevices = boolField(body, 'logout_devices') ?? true;
    checkPasswordPolicy(deps, newPassword);
    await deps.uia.require({
      auth: body.auth,
      flows: [{ stages: ['m.login.password'] }],
      fingerprint: `password:${me.userId}`,
      checkStage: stageChecker(deps, ctx, me.userId),
    });
    await deps.users.setPassword(me.userId, newPassword, logoutDevices, me.deviceId);
    ctx.body = {};
  });

  r.post('/account/deactivate', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const me = requester(ctx);
    await deps.uia.require({
      auth: body.auth,
      flows: [{ stages: ['m.login.password'] }],
      fingerprint: `deactivate:${me.userId}`,
      checkStage: stageChecker(deps, ctx, me.userId),
    });
    await leaveAllRooms(deps, me.userId);
    await deps.users.deactivate(me.userId);
    ctx.body = { id_server_unbind_result: 'no-support' };
  });

  r.get('/devices', deps.auth, async (ctx) => {
    const devices = await deps.users.listDevices(requester(ctx).userId);
    ctx.body = { devices: devices.map(deviceJson) };
  });
  r.get('/devices/:deviceId', deps.auth, async (ctx) => {
    const d = await deps.users.getDevice(requester(ctx).userId, param(ctx, 'deviceId'));
    if (!d) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown device');
    ctx.body = deviceJson(d);
  });
  r.put('/devices/:deviceId', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const name = checkDeviceDisplayName(stringField(body, 'display_name'));
    const me = requester(ctx);
    const d = await deps.users.getDevice(me.userId, param(ctx, 'deviceId'));
    if (!d) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown device');
    if (name !== undefined)
      await deps.rooms.db.write((tx) => tx.run('UPDATE devices SET display_name = ? WHERE user_id = ? AND device_id = ?', name, me.userId, d.device_id));
    ctx.body = {};
  });
  const deleteDevices = async (ctx: Context, ids: string[]) => {
    const body = bodyObject(ctx);
    const me = requester(ctx);
    await deps.uia.require({
      auth: body.auth,
      flows: [{ stages: ['m.login.password'] }],
      fingerprint: `delete_devices:${me.userId}:${ids.join(',')}`,
      checkStage: stageChecker(deps, ctx, me.userId),
    });
    for (const id of ids) await deps.users.deleteDevice(me.userId, id);
    ctx.body = {};
  };
  r.delete('/devices/:deviceId', deps.auth, (ctx) => deleteDevices(ctx, [param(ctx, 'deviceId')]));
  r.post('/delete_devices', deps.auth, (ctx) => {
    const devices = bodyObject(ctx).devices;
    if (!Array.isArray(devices) || devices.some((d) => typeof d !== 'string'))
      throw new MatrixError(400, 'M_BAD_JSON', "'devices' must be an array of strings");
    return deleteDevices(ctx, devices as string[]);
  });
  void objectField;
};

function deviceJson(d: { device_id: string; display_name: string | null; last_seen_ts: number | null; last_seen_ip: string | null }) {
  const o: Record<string, unknown> = { device_id: d.device_id };
  if (d.display_name !== null) o.display_name = d.display_name;
  if (d.last_seen_ts !== null) o.last_seen_ts = d.last_seen_ts;
  if (d.last_seen_ip !== null) o.last_seen_ip = d.last_seen_ip;
  return o;
}

/** Deactivation leaves every room (client-server "Account deactivation" SHOULD). */
async function leaveAllRooms(deps: ClientApiDeps, userId: string): Promise<void> {
  const { setMembership } = await import('../rooms/membership.ts');
  const rows = await deps.rooms.db.reader.all<{ room_id: string }>(
    "SELECT room_id FROM memberships WHERE user_id = ? AND membership IN ('join','invite','knock')",
    userId,
  );
  for (const row of rows) {
    try {
      await setMembership(deps.rooms, row.room_id, userId, userId, 'leave');
    } catch {
      // A room we cannot leave (already gone) must not block deactivation.
    }
  }
}
