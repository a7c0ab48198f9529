// The remote users' part of a client's POST /keys/query and /keys/claim (keys.yaml), asked of
// their servers over federation (server-server-api.md "End-to-End Encryption": "designed to be
// able to proxy much of the client's request through to federation"). Device lists of users a
// local user shares a room with come from the cache (remote-device-lists.ts); others are asked
// each time. A server that cannot be reached is reported in `failures`, the rest still answered.
import type { FederationServices } from './services.ts';
import { crossSigningStore } from '../storage/e2ee-store.ts';
import { isRecord } from '../protocol/e2e-keys.ts';
import { parseUserId } from '../protocol/identifiers.ts';
import { mergeSignatures } from '../e2ee/device-keys.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { checkedCrossSigningKey, checkedDeviceKeys, deviceListOf, queryView } from './remote-device-lists.ts';
import { nullObject } from '../protocol/null-object.ts';

type Json = Record<string, unknown>;

/** "10 seconds is the recommended default." */
export const DEFAULT_KEYS_TIMEOUT_MS = 10_000;

export interface RemoteKeysAnswer {
  failures: Record<string, Json>;
  device_keys: Record<string, Json>;
  master_keys: Record<string, Json>;
  self_signing_keys: Record<string, Json>;
}

/** Splits a map keyed by user id into this server's entries and each other server's. */
export function splitByServer<T>(wanted: Record<string, T>, serverName: string): { local: Record<string, T>; remote: Map<string, Record<string, T>> } {
  const local: Record<string, T> = nullObject();
  const remote = new Map<string, Record<string, T>>();
  for (const [user, v] of Object.entries(wanted)) {
    const server = parseUserId(user)?.serverName;
    if (server === undefined || server === serverName) local[user] = v;
    else {
      let part = remote.get(server);
      if (!part) remote.set(server, (part = {}));
      part[user] = v;
    }
  }
  return { local, remote };
}

/** How a server that could not be reached (or answered nonsense) is reported to the client. */
function failure(err: unknown): Json {
  if (err instanceof MatrixError) return { status: err.status, errcode: err.errcode, message: err.message };
  return { status: 503, message: (err as Error)?.message ?? String(err) };
}

/** The keys/query answer for remote users, grouped by server and asked concurrently. */
export async function queryRemoteKeys(
  s: FederationServices,
  requester: string,
  remote: Map<string, Record<string, string[]>>,
  timeoutMs: number,
): Promise<RemoteKeysAnswer> {
  const out: RemoteKeysAnswer = { failures: {}, device_keys: {}, master_keys: {}, self_signing_keys: {} };
  await Promise.all(
    [...remote].map(async ([server, users]) => {
      try {
        await queryServer(s, server, users, timeoutMs, out);
      } catch (err) {
        out.failures[server] = failure(err);
      }
    }),
  );
  // The requester's own signatures on remote master keys (their user-signing key's) are kept here.
  for (const [user, master] of Object.entries(out.master_keys)) {
    const publicKey = Object.values(isRecord(master.keys) ? master.keys : {})[0];
    const mine = (await crossSigningStore.signaturesOn(s.db.reader, user)).filter((r) => r.signer_user_id === requester && r.target_key_id === publicKey);
    out.master_keys[user] = mergeSignatures(master, mine);
  }
  return out;
}

async function queryServer(s: FederationServices, server: string, users: Record<string, string[]>, timeoutMs: number, out: RemoteKeysAnswer): Promise<void> {
  const ask: Record<string, string[]> = nullObject();
  for (const [user, devices] of Object.entries(users)) {
    const list = await deviceListOf(s, user, timeoutMs);
    if (!list) {
      ask[user] = devices;
      continue;
    }
    const view = queryView(list, devices);
    out.device_keys[user] = view.deviceKeys;
    if (view.master) out.master_keys[user] = view.master;
    if (view.selfSigning) out.self_signing_keys[user] = view.selfSigning;
  }
  if (Object.keys(ask).length === 0) return;
  const body = await s.client.request<unknown>(server, 'POST', '/_matrix/federation/v1/user/keys/query', { device_keys: ask }, { timeoutMs });
  if (!isRecord(body) || !isRecord(body.device_keys)) throw new MatrixError(502, 'M_UNKNOWN', `${server} answered /user/keys/query with a malformed body`);
  const masters = isRecord(body.master_keys) ? body.master_keys : {};
  const selfSigning = isRecord(body.self_signing_keys) ? body.self_signing_keys : {};
  // Only what was asked, about that server's own users, and well formed.
  for (const [user, devices] of Object.entries(ask)) {
    const got = body.device_keys[user];
    if (!isRecord(got)) continue;
    const only = devices.length > 0 ? new Set(devices) : undefined;
    const byDevice: Json = nullObject();
    for (const [deviceId, keys] of Object.entries(got)) {
      if ((only && !only.has(deviceId)) || checkedDeviceKeys(keys, user, deviceId) === null) continue;
      byDevice[deviceId] = keys;
    }
    out.device_keys[user] = byDevice;
    const master = checkedCrossSigningKey(masters[user], user, 'master');
    if (!master) continue;
    out.master_keys[user] = masters[user] as Json;
    if (checkedCrossSigningKey(selfSigning[user], user, 'self_signing', master.publicKey)) out.self_signing_keys[user] = selfSigning[user] as Json;
  }
}

/** The keys/claim answer for remote users: one POST /user/keys/claim per server, concurrently. */
export async function claimRemoteKeys(
  s: FederationServices,
  remote: Map<string, Record<string, Record<string, string>>>,
  timeoutMs: number,
): Promise<{ failures: Record<string, Json>; one_time_keys: Record<string, Json> }> {
  const out = { failures: {} as Record<string, Json>, one_time_keys: {} as Record<string, Json> };
  await Promise.all(
    [...remote].map(async ([server, users]) => {
      try {
        const body = await s.client.request<unknown>(server, 'POST', '/_matrix/federation/v1/user/keys/claim', { one_time_keys: users }, { timeoutMs });
        if (!isRecord(body) || !isRecord(body.one_time_keys))
          throw new MatrixError(502, 'M_UNKNOWN', `${server} answered /user/keys/claim with a malformed body`);
        for (const [user, devices] of Object.entries(users)) {
          const got = body.one_time_keys[user];
          if (!isRecord(got)) continue;
          const byDevice: Json = nullObject();
          for (const [deviceId, keys] of Object.entries(got)) if (deviceId in devices && isRecord(keys)) byDevice[deviceId] = keys;
          out.one_time_keys[user] = byDevice;
        }
      } catch (err) {
        out.failures[server] = failure(err);
      }
    }),
  );
  return out;
}
