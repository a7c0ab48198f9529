// The cache of remote users' device lists (server-server-api.md "Device Management"): "When a
// server wishes to determine a remote user's device list for the first time, it should populate a
// local cache from the result of a /user/keys/query API [in practice GET /user/devices, which
// carries the stream_id] on the remote server. However, subsequent updates to the cache should be
// applied by consuming m.device_list_update EDUs." A list is cached only while a local user shares
// a room with its owner (otherwise nobody sends us updates), and dropped whenever that may change.
import type { FederationServices } from './services.ts';
import { remoteDeviceListStore, type RemoteDeviceListRow, type RemoteDeviceRow } from '../storage/federation-edus-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { crossSigningKeyProblem, deviceKeysProblem, isRecord, signedByMaster, stableJson } from '../protocol/e2e-keys.ts';
import { parseUserId } from '../protocol/identifiers.ts';
import { usersSharingARoom } from '../edus/room-members.ts';
import { FederationRequestError } from './client.ts';
import { nullObject } from '../protocol/null-object.ts';

type Json = Record<string, unknown>;

export interface CachedDeviceList {
  row: RemoteDeviceListRow;
  devices: RemoteDeviceRow[];
}

/** Whether a local user shares a room with `userId`: only then does their server keep us informed. */
export async function isTracked(s: FederationServices, userId: string, q: Queryable = s.db.reader): Promise<boolean> {
  for (const u of await usersSharingARoom(q, userId)) if (parseUserId(u)?.serverName === s.serverName) return true;
  return false;
}

export async function cachedDeviceList(q: Queryable, userId: string): Promise<CachedDeviceList | undefined> {
  const row = await remoteDeviceListStore.get(q, userId);
  return row ? { row, devices: await remoteDeviceListStore.devices(q, userId) } : undefined;
}

/**
 * A remote user's device list: the cached one, or for a tracked user one fetched now (and
 * cached); undefined for an untracked user without a cache. Throws FederationRequestError.
 */
export async function deviceListOf(s: FederationServices, userId: string, timeoutMs: number): Promise<CachedDeviceList | undefined> {
  const cached = await cachedDeviceList(s.db.reader, userId);
  if (cached) return cached;
  if (!(await isTracked(s, userId))) return undefined;
  const fetched = await fetchDeviceList(s, userId, timeoutMs);
  return s.db.write(async (tx) => {
    // An EDU applied meanwhile may be newer than what was fetched.
    const current = await remoteDeviceListStore.get(tx, userId);
    if (current && current.stream_id >= fetched.row.stream_id) return { row: current, devices: await remoteDeviceListStore.devices(tx, userId) };
    await remoteDeviceListStore.replace(tx, fetched.row, fetched.devices);
    return fetched;
  });
}

/** GET /_matrix/federation/v1/user/devices/{userId} (user_devices.yaml), keeping only well-formed keys. */
export async function fetchDeviceList(s: FederationServices, userId: string, timeoutMs: number): Promise<CachedDeviceList> {
  const server = parseUserId(userId)!.serverName;
  const body = await s.client.request<unknown>(server, 'GET', `/_matrix/federation/v1/user/devices/${encodeURIComponent(userId)}`, undefined, { timeoutMs });
  if (!isRecord(body) || body.user_id !== userId || !Number.isInteger(body.stream_id) || !Array.isArray(body.devices)) {
    throw new FederationRequestError(server, 'bad-response', 502, 'M_UNKNOWN', `${server} answered /user/devices with a malformed body`);
  }
  const devices: RemoteDeviceRow[] = [];
  for (const d of body.devices) {
    if (!isRecord(d) || typeof d.device_id !== 'string') continue;
    devices.push({
      device_id: d.device_id,
      display_name: typeof d.device_display_name === 'string' ? d.device_display_name : null,
      keys_json: checkedDeviceKeys(d.keys, userId, d.device_id),
    });
  }
  const master = checkedCrossSigningKey(body.master_key, userId, 'master');
  const selfSigning = master ? checkedCrossSigningKey(body.self_signing_key, userId, 'self_signing', master.publicKey) : undefined;
  const row = {
    user_id: userId,
    stream_id: body.stream_id as number,
    master_key: master?.json ?? null,
    self_signing_key: selfSigning?.json ?? null,
    fetched_ts: Date.now(),
  };
  return { row, devices };
}

/** A device's keys as stored (canonical JSON without `unsigned`), or null when absent or not self-signed. */
export function checkedDeviceKeys(keys: unknown, userId: string, deviceId: string): string | null {
  if (keys === undefined || deviceKeysProblem(keys, userId, deviceId) !== null) return null;
  const { unsigned: _u, ...rest } = keys as Json;
  return stableJson(rest);
}

/** A cross-signing key as stored, if well formed (and, but for the master key, signed by the master key). */
export function checkedCrossSigningKey(
  key: unknown,
  userId: string,
  usage: 'master' | 'self_signing',
  masterPublicKey?: string,
): { json: string; publicKey: string } | undefined {
  if (key === undefined) return undefined;
  const r = crossSigningKeyProblem(key, userId, usage);
  if ('kind' in r) return undefined;
  if (masterPublicKey !== undefined && signedByMaster(key as object, userId, masterPublicKey) !== null) return undefined;
  return { json: stableJson(key), publicKey: r.publicKey };
}

/** The keys/query view of a cached list: device keys (only `wanted` ones unless empty) and cross-signing keys. */
export function queryView(list: CachedDeviceList, wanted: string[]): { deviceKeys: Record<string, Json>; master?: Json; selfSigning?: Json } {
  const only = wanted.length > 0 ? new Set(wanted) : undefined;
  const deviceKeys: Record<string, Json> = nullObject();
  for (const d of list.devices) {
    if (d.keys_json === null || (only && !only.has(d.device_id))) continue;
    const k = JSON.parse(d.keys_json) as Json;
    if (d.display_name !== null) k.unsigned = { device_display_name: d.display_name };
    deviceKeys[d.device_id] = k;
  }
  const out: { deviceKeys: Record<string, Json>; master?: Json; selfSigning?: Json } = { deviceKeys };
  if (list.row.master_key !== null) out.master = JSON.parse(list.row.master_key) as Json;
  if (list.row.self_signing_key !== null) out.selfSigning = JSON.parse(list.row.self_signing_key) as Json;
  return out;
}

/**
 * An m.device_list_update for a remote user: applied to the cache when its prev_id continues the
 * cached stream; otherwise "it means an EDU has been lost" and the cache is dropped, to be fetched
 * again on the next query. Returns false for a repeated or stale update (nothing changed).
 */
export async function applyDeviceListUpdate(
  s: FederationServices,
  u: { userId: string; deviceId: string; streamId: number; prevIds: number[]; deleted: boolean; displayName: string | null; keys: unknown },
): Promise<boolean> {
  const tracked = await isTracked(s, u.userId);
  return s.db.write(async (tx) => {
    const cached = await remoteDeviceListStore.get(tx, u.userId);
    if (!cached) return tracked;
    if (!tracked) {
      await remoteDeviceListStore.forget(tx, u.userId);
      return false;
    }
    if (u.streamId <= cached.stream_id) return false;
    const continues = u.prevIds.includes(cached.stream_id) && u.prevIds.every((p) => p <= cached.stream_id);
    const keys = u.keys === undefined ? null : checkedDeviceKeys(u.keys, u.userId, u.deviceId);
    if (!continues || (u.keys !== undefined && keys === null)) {
      await remoteDeviceListStore.forget(tx, u.userId);
      return true;
    }
    if (u.deleted) await remoteDeviceListStore.deleteDevice(tx, u.userId, u.deviceId);
    else await remoteDeviceListStore.putDevice(tx, u.userId, { device_id: u.deviceId, display_name: u.displayName, keys_json: keys });
    await remoteDeviceListStore.setStreamId(tx, u.userId, u.streamId);
    return true;
  });
}

/** An m.signing_key_update: new master and/or self-signing keys replace the cached ones; a bad key drops the cache. */
export async function applySigningKeyUpdate(s: FederationServices, userId: string, masterKey: unknown, selfSigningKey: unknown): Promise<boolean> {
  const tracked = await isTracked(s, userId);
  return s.db.write(async (tx) => {
    const cached = await remoteDeviceListStore.get(tx, userId);
    if (!cached) return tracked;
    if (!tracked) {
      await remoteDeviceListStore.forget(tx, userId);
      return false;
    }
    const master = masterKey === undefined ? undefined : checkedCrossSigningKey(masterKey, userId, 'master');
    const masterPublic =
      master?.publicKey ?? (cached.master_key !== null ? checkedCrossSigningKey(JSON.parse(cached.master_key), userId, 'master')?.publicKey : undefined);
    const selfSigning =
      selfSigningKey === undefined || masterPublic === undefined ? undefined : checkedCrossSigningKey(selfSigningKey, userId, 'self_signing', masterPublic);
    if ((masterKey !== undefined && !master) || (selfSigningKey !== undefined && !selfSigning)) {
      await remoteDeviceListStore.forget(tx, userId);
      return true;
    }
    if (master) await remoteDeviceListStore.setCrossSigning(tx, userId, 'master_key', master.json);
    if (selfSigning) await remoteDeviceListStore.setCrossSigning(tx, userId, 'self_signing_key', selfSigning.json);
    return true;
  });
}

/** Drops cached lists whose owners' room sharing with local users may have changed. */
export async function forgetDeviceLists(s: FederationServices, userIds: Iterable<string>): Promise<void> {
  const ids = [...userIds];
  if (ids.length === 0) return;
  await s.db.write((tx) => remoteDeviceListStore.forgetMany(tx, ids));
}
