// Accounts, devices and sessions: registration, login, tokens, passwords, deactivation.
import { parseUserId, isValidLocalpart } from '../protocol/identifiers.ts';
import { MatrixError } from '../http/matrix-error.ts';
import type { Database } from '../storage/database.ts';
import { accountsStore, type UserRow } from '../storage/accounts-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { AccountModeration } from './account-moderation.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.ts';
import { hashToken, newDeviceId, newToken } from './tokens.ts';
import { LoginThrottle } from './login-throttle.ts';
import { DeviceActivity } from './device-activity.ts';

export interface Session {
  userId: string;
  deviceId: string;
  accessToken: string;
  /** Only for clients that asked for one (`refresh_token: true`); their access token then expires. */
  refreshToken?: string;
  expiresInMs?: number;
}

/** Who a valid access token speaks for; `expired` when it was refreshable and its time is up. */
export interface TokenIdentity {
  userId: string;
  deviceId: string;
  expired?: boolean;
}

/** login.yaml recommends 2 minutes for the tokens of /login/get_token ("`120000` is recommended"). */
export const LOGIN_TOKEN_LIFETIME_MS = 2 * 60 * 1000;

/**
 * Lifetime of an access token that came with a refresh token (config key
 * `refreshable_access_token_lifetime`). Synapse's default for the same key is 5 minutes: a leaked
 * token is useful for minutes rather than for ever, and a client refreshes once per 5 minutes,
 * one small write, which a household server does not notice.
 */
export const DEFAULT_REFRESHABLE_ACCESS_TOKEN_LIFETIME_MS = 5 * 60 * 1000;

export interface TokenOptions {
  refreshableLifetimeMs?: number;
  /** The clock tokens expire by; tests pass their own. */
  now?: () => number;
}

/** What else goes when devices are deleted: their encryption keys and pending to-device messages. */
export interface DeviceRemovalHooks {
  /** Runs inside the deleting transaction; its result is handed to afterCommit. */
  inTransaction(tx: Queryable, userId: string, deviceIds: string[]): Promise<number | undefined>;
  afterCommit(userId: string, token: number | undefined): Promise<void>;
}

export class UserService {
  private readonly db: Database;
  readonly serverName: string;
  /** Access token hash -> identity and expiry (null: never); tokens are checked on every request. */
  private readonly tokenCache = new Map<string, { userId: string; deviceId: string; expiresTs: number | null }>();
  private readonly refreshableLifetimeMs: number;
  private readonly now: () => number;
  /** Set by the homeserver once end-to-end encryption support is up. */
  deviceRemoval: DeviceRemovalHooks | undefined;

  private readonly loginThrottle: LoginThrottle;
  /** When and where each device last used its token (GET /devices' last_seen_*). */
  readonly activity: DeviceActivity;

  constructor(
    db: Database,
    serverName: string,
    loginThrottle: LoginThrottle = new LoginThrottle(),
    tokens: TokenOptions = {},
    onActivityError?: (err: unknown) => void,
  ) {
    this.db = db;
    this.serverName = serverName;
    this.loginThrottle = loginThrottle;
    this.refreshableLifetimeMs = tokens.refreshableLifetimeMs ?? DEFAULT_REFRESHABLE_ACCESS_TOKEN_LIFETIME_MS;
    this.now = tokens.now ?? Date.now;
    this.activity = new DeviceActivity(db, { onError: onActivityError });
  }

  userIdFor(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  /** Accepts a localpart or a full user id of this server; returns the localpart, lowercased as the spec asks of new ids. */
  checkLocalpart(input: string): string {
    let localpart = input.startsWith('@') ? (parseUserId(input)?.localpart ?? '') : input;
    if (input.startsWith('@') && parseUserId(input)?.serverName !== this.serverName) {
      throw new MatrixError(400, 'M_INVALID_USERNAME', 'User id is not on this server');
    }
    localpart = localpart.toLowerCase();
    if (!isValidLocalpart(localpart)) {
      throw new MatrixError(400, 'M_INVALID_USERNAME', 'User id may only contain a-z, 0-9, and . _ = - / +');
    }
    if (Buffer.byteLength(this.userIdFor(localpart)) > 255) {
      throw new MatrixError(400, 'M_INVALID_USERNAME', 'User id is longer than 255 bytes');
    }
    return localpart;
  }

  async isAvailable(localpart: string): Promise<boolean> {
    return !(await accountsStore.getUserByLocalpart(this.db.reader, localpart));
  }

  async register(
    localpart: string,
    password: string | null,
    deviceId?: string,
    deviceName?: string,
    inhibitLogin = false,
    refreshable = false,
    ip?: string,
  ): Promise<{ userId: string; session?: Session }> {
    const userId = this.userIdFor(localpart);
    const passwordHash = password === null ? null : await hashPassword(password);
    return this.db.write(async (tx) => {
      if (await accountsStore.getUserByLocalpart(tx, localpart)) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken');
      await accountsStore.insertUser(tx, { userId, localpart, passwordHash, displayname: localpart });
      const session = inhibitLogin ? undefined : await this.newSessionIn(tx, userId, deviceId, deviceName, refreshable, ip);
      return { userId, session };
    });
  }

  async getUser(userId: string, q: Queryable = this.db.reader): Promise<UserRow | undefined> {
    return accountsStore.getUser(q, userId);
  }

  /**
   * A password offered by a client at `address` (see http/client-address.ts): refused with 429
   * while the account or the address must wait after failures, counted when wrong.
   */
  async attemptPassword(userId: string, password: string, address: string): Promise<boolean> {
    this.loginThrottle.check(userId, address);
    const ok = await this.checkPassword(userId, password);
    if (ok) this.loginThrottle.succeeded(userId);
    else this.loginThrottle.failed(userId, address);
    return ok;
  }

  /**
   * A registration token offered from `address`, already found `valid` or not: wrong ones count
   * against the address as wrong passwords do, so an admin's short token cannot be guessed either.
   */
  attemptRegistrationToken(valid: boolean, address: string): boolean {
    this.loginThrottle.checkAddress(address);
    if (!valid) this.loginThrottle.failedAddress(address);
    return valid;
  }

  private async checkPassword(userId: string, password: string): Promise<boolean> {
    const u = await accountsStore.getUser(this.db.reader, userId);
    const usable = u !== undefined && !u.deactivated && u.password_hash !== null;
    // No account, or none that can log in with a password: hash anyway, so time does not tell.
    const ok = await verifyPassword(password, usable ? u.password_hash! : DUMMY_HASH);
    return usable && ok;
  }

  /** `ip`: where the client logs in from, the new device's first last_seen_ip. */
  async login(userId: string, deviceId?: string, deviceName?: string, refreshable = false, ip?: string): Promise<Session> {
    const session = await this.db.write((tx) => this.newSessionIn(tx, userId, deviceId, deviceName, refreshable, ip));
    // The device's old tokens are gone from the database; the cache must not keep them alive.
    if (deviceId !== undefined) this.forgetCachedTokens(userId, deviceId, session.accessToken);
    return session;
  }

  private forgetCachedTokens(userId: string, deviceId: string, keep: string): void {
    const kept = hashToken(keep);
    for (const [h, id] of this.tokenCache) {
      if (id.userId === userId && id.deviceId === deviceId && h !== kept) this.tokenCache.delete(h);
    }
  }

  private async newSessionIn(tx: Queryable, userId: string, deviceId?: string, deviceName?: string, refreshable = false, ip?: string): Promise<Session> {
    const device = deviceId ?? newDeviceId();
    // Logging in again with an existing device id replaces that device's old tokens (spec: login "device_id").
    await accountsStore.deleteDeviceTokens(tx, userId, device);
    await accountsStore.upsertDevice(tx, userId, device, deviceName ?? null, ip ?? null);
    if (refreshable) return this.newTokenPairIn(tx, userId, device, null);
    const accessToken = newToken('hat');
    await accountsStore.insertAccessToken(tx, hashToken(accessToken), userId, device);
    return { userId, deviceId: device, accessToken };
  }

  /** An expiring access token and the refresh token that makes the next pair; `replaces` is the refresh token used for it. */
  private async newTokenPairIn(tx: Queryable, userId: string, deviceId: string, replaces: string | null): Promise<Session> {
    const accessToken = newToken('hat');
    const refreshToken = newToken('hrt');
    await accountsStore.insertRefreshToken(tx, hashToken(refreshToken), userId, deviceId, replaces);
    await accountsStore.insertAccessToken(tx, hashToken(accessToken), userId, deviceId, this.now() + this.refreshableLifetimeMs, hashToken(refreshToken));
    return { userId, deviceId, accessToken, refreshToken, expiresInMs: this.refreshableLifetimeMs };
  }

  /**
   * POST /refresh (client-server-api "Refreshing access tokens"): a new access token and refresh
   * token for the refresh token's device. The old access token ends now; the old refresh token
   * stays usable until the new pair is first used, so a client that lost this answer can ask
   * again (which replaces the unused pair it lost). Undefined for an unknown or revoked token.
   */
  async refresh(refreshToken: string): Promise<Session | undefined> {
    const h = hashToken(refreshToken);
    const result = await this.db.write(async (tx) => {
      const row = await accountsStore.getRefreshToken(tx, h);
      if (!row) return undefined;
      const user = await accountsStore.getUser(tx, row.user_id);
      if (!user || user.deactivated) return undefined;
      // Using this refresh token is the first use of the pair it belongs to: the one it replaced is revoked.
      await accountsStore.settleRefreshToken(tx, h);
      // A pair made by an earlier use of this token and never used: its answer was lost, this replaces it.
      const dropped = await accountsStore.deleteRefreshTokens(tx, 'replaces_hash', h);
      dropped.push(...(await accountsStore.deleteAccessTokensIssuedWith(tx, h)));
      return { session: await this.newTokenPairIn(tx, row.user_id, row.device_id, h), dropped };
    });
    if (!result) return undefined;
    for (const d of result.dropped) this.tokenCache.delete(d);
    return result.session;
  }

  /** The identity of a token already known valid, without touching the database; undefined when not cached. */
  cachedIdentity(accessToken: string): TokenIdentity | undefined {
    const hit = this.tokenCache.get(hashToken(accessToken));
    return hit && this.identity(hit);
  }

  private identity(t: { userId: string; deviceId: string; expiresTs: number | null }): TokenIdentity {
    const id: TokenIdentity = { userId: t.userId, deviceId: t.deviceId };
    if (t.expiresTs !== null && t.expiresTs <= this.now()) id.expired = true;
    return id;
  }

  /** Who an access token speaks for; `expired` set when it must be refreshed (soft logout), undefined when unknown. */
  async authenticate(accessToken: string): Promise<TokenIdentity | undefined> {
    const h = hashToken(accessToken);
    const hit = this.tokenCache.get(h);
    if (hit) return this.identity(hit);
    const row = await accountsStore.getAccessToken(this.db.reader, h);
    if (!row) return undefined;
    const entry = { userId: row.user_id, deviceId: row.device_id, expiresTs: row.expires_ts };
    const id = this.identity(entry);
    // The first use of a refreshed pair revokes the refresh token it replaced (spec: "Refreshing access tokens").
    if (row.replaces_hash !== null && row.refresh_token_hash !== null && !id.expired) {
      const refreshHash = row.refresh_token_hash;
      await this.db.write((tx) => accountsStore.settleRefreshToken(tx, refreshHash));
    }
    if (this.tokenCache.size > 10_000) this.tokenCache.clear();
    this.tokenCache.set(h, entry);
    return id;
  }

  private moderationState: AccountModeration | undefined;
  /** Server admins, and the accounts they suspended or locked. */
  get moderation(): AccountModeration {
    this.moderationState ??= new AccountModeration(this.db);
    return this.moderationState;
  }

  async logout(accessToken: string): Promise<void> {
    const h = hashToken(accessToken);
    const id = await this.authenticate(accessToken);
    this.tokenCache.delete(h);
    if (!id) return;
    await this.removeDevices(id.userId, async (tx) => {
      await accountsStore.deleteDevice(tx, id.userId, id.deviceId);
      return [id.deviceId];
    });
  }

  async logoutAll(userId: string, exceptDeviceId?: string): Promise<void> {
    this.tokenCache.clear();
    await this.removeDevices(userId, (tx) => this.deleteAllDevicesIn(tx, userId, exceptDeviceId));
  }

  async deleteDevice(userId: string, deviceId: string): Promise<void> {
    this.tokenCache.clear();
    await this.removeDevices(userId, async (tx) =>
      // A device the user does not have (never had, or already deleted) is no device-list change:
      // announcing one would tell room-mates and remote servers of a device that never existed.
      (await accountsStore.deleteDevice(tx, userId, deviceId)) ? [deviceId] : [],
    );
  }

  /** Runs a job that deletes devices (returning their ids), with the removal hooks in the same transaction. */
  private async removeDevices(userId: string, job: (tx: Queryable) => Promise<string[]>): Promise<void> {
    const hooks = this.deviceRemoval;
    const token = await this.db.write(async (tx) => {
      const ids = await job(tx);
      return hooks ? hooks.inTransaction(tx, userId, ids) : undefined;
    });
    if (hooks) await hooks.afterCommit(userId, token);
  }

  private async deleteAllDevicesIn(tx: Queryable, userId: string, exceptDeviceId?: string): Promise<string[]> {
    const ids = (await accountsStore.listDevices(tx, userId)).map((d) => d.device_id).filter((d) => d !== exceptDeviceId);
    await accountsStore.deleteAllDevices(tx, userId, exceptDeviceId);
    return ids;
  }

  async setPassword(userId: string, password: string, logoutDevices: boolean, keepDeviceId?: string): Promise<void> {
    const hash = await hashPassword(password);
    await this.removeDevices(userId, async (tx) => {
      await accountsStore.setPasswordHash(tx, userId, hash);
      return logoutDevices ? this.deleteAllDevicesIn(tx, userId, keepDeviceId) : [];
    });
    if (logoutDevices) this.tokenCache.clear();
  }

  async deactivate(userId: string): Promise<void> {
    this.tokenCache.clear();
    await this.removeDevices(userId, async (tx) => {
      await accountsStore.setDeactivated(tx, userId);
      return this.deleteAllDevicesIn(tx, userId);
    });
  }

  /** A one-time m.login.token, as the desktop shell uses to sign its window in without a password. */
  async createLoginToken(userId: string): Promise<{ token: string; expiresInMs: number }> {
    const token = newToken('hlt');
    await this.db.write((tx) => accountsStore.insertLoginToken(tx, hashToken(token), userId, this.now() + LOGIN_TOKEN_LIFETIME_MS, this.now()));
    return { token, expiresInMs: LOGIN_TOKEN_LIFETIME_MS };
  }

  async takeLoginToken(token: string): Promise<string | undefined> {
    const row = await this.db.write((tx) => accountsStore.takeLoginToken(tx, hashToken(token)));
    if (!row || row.expires_ts <= this.now()) return undefined;
    return row.user_id;
  }

  async listDevices(userId: string) {
    return (await accountsStore.listDevices(this.db.reader, userId)).map((d) => this.activity.overlay(d));
  }

  async getDevice(userId: string, deviceId: string) {
    const d = await accountsStore.getDevice(this.db.reader, userId, deviceId);
    return d && this.activity.overlay(d);
  }
}
