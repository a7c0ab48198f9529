// Device keys, one-time keys and fallback keys (end_to_end_encryption.md "Key Distribution";
// keys.yaml: POST /keys/upload, /keys/query, /keys/claim). The server checks shapes and the device's
// self-signature, hands out each one-time key at most once, and falls back to the fallback key.
import { MatrixError } from '../http/matrix-error.ts';
import type { Database } from '../storage/database.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import { nextStreamId } from '../storage/edus-store.ts';
import { crossSigningStore, deviceKeysStore, type SignatureRow } from '../storage/e2ee-store.ts';
import { deviceKeysProblem, isRecord, oneTimeKeysProblem, splitKeyName, stableJson } from '../protocol/e2e-keys.ts';
import { check } from './errors.ts';
import type { DeviceLists } from './device-lists.ts';
import { nullObject } from '../protocol/null-object.ts';

type Json = Record<string, unknown>;

/**
 * Unclaimed one-time keys one device may keep. An Olm account holds at most 100 (libolm; vodozemac
 * 50) and uploads to keep half of them on the server, so 1,000 is ten times what a client needs;
 * without a bound, repeated uploads of new key ids grew the table forever.
 */
export const MAX_ONE_TIME_KEYS_PER_DEVICE = 1_000;

/** The one-time key algorithm every Olm device uses; always reported, even at zero (as Synapse does). */
const SIGNED_CURVE25519 = 'signed_curve25519';

function withoutUnsigned(o: Json): Json {
  const { unsigned: _u, ...rest } = o;
  return rest;
}

/** Adds signatures uploaded later (keys/signatures/upload) to a key object, as keys/query returns it. */
export function mergeSignatures(key: Json, rows: SignatureRow[], allowedSigners?: Set<string>): Json {
  if (rows.length === 0) return key;
  const signatures: Record<string, Record<string, string>> = nullObject();
  for (const [user, sigs] of Object.entries(isRecord(key.signatures) ? key.signatures : {})) signatures[user] = { ...(sigs as Record<string, string>) };
  for (const r of rows) {
    if (allowedSigners && !allowedSigners.has(r.signer_user_id)) continue;
    (signatures[r.signer_user_id] ??= nullObject())[r.signer_key_id] = r.signature;
  }
  return { ...key, signatures };
}

/** What /sync reports of a device's keys. */
export interface DeviceKeyFigures {
  oneTimeKeyCounts: Record<string, number>;
  unusedFallbackKeyTypes: string[];
}

export class DeviceKeys {
  private readonly db: Database;
  private readonly deviceLists: DeviceLists;
  /** Moves after every committed change of one-time or fallback keys, making older figures stale. */
  private generation = 0;
  /** Per device, its figures and the generation current when they were read. */
  private readonly figures = new Map<string, { generation: number; value: DeviceKeyFigures }>();

  constructor(db: Database, deviceLists: DeviceLists) {
    this.db = db;
    this.deviceLists = deviceLists;
  }

  /** POST /keys/upload. Returns one_time_key_counts for the device. */
  async upload(userId: string, deviceId: string, body: Json): Promise<Record<string, number>> {
    const deviceKeys = body.device_keys;
    if (deviceKeys !== undefined && deviceKeys !== null) check(deviceKeysProblem(deviceKeys, userId, deviceId));
    const oneTimeKeys = body.one_time_keys ?? undefined;
    if (oneTimeKeys !== undefined && oneTimeKeys !== null) check(oneTimeKeysProblem(oneTimeKeys, 'one_time_keys'));
    const fallbackKeys = body.fallback_keys ?? undefined;
    if (fallbackKeys !== undefined && fallbackKeys !== null) {
      check(oneTimeKeysProblem(fallbackKeys, 'fallback_keys'));
      const algorithms = Object.keys(fallbackKeys as Json).map((n) => splitKeyName(n).algorithm);
      if (new Set(algorithms).size !== algorithms.length)
        throw new MatrixError(400, 'M_INVALID_PARAM', 'At most one fallback key per algorithm may be uploaded');
    }

    const { changeId, counts } = await this.afterKeysChange(() =>
      this.db.write(async (tx) => {
        let changeId: number | undefined;
        if (isRecord(deviceKeys)) {
          const json = stableJson(withoutUnsigned(deviceKeys));
          const existing = await deviceKeysStore.get(tx, userId, deviceId);
          if (existing?.key_json !== json) {
            await deviceKeysStore.put(tx, userId, deviceId, json);
            changeId = await this.deviceLists.recordChange(tx, userId);
          }
        }
        if (isRecord(oneTimeKeys) && Object.keys(oneTimeKeys).length > 0) {
          // All keys of one upload share a sequence number: the spec orders claims by upload call only.
          const seq = await nextStreamId(tx, 'one_time_keys');
          for (const [name, key] of Object.entries(oneTimeKeys)) {
            const { algorithm, keyId } = splitKeyName(name);
            const json = stableJson(key);
            const existing = await deviceKeysStore.getOneTimeKey(tx, userId, deviceId, algorithm, keyId);
            if (existing) {
              // A retried upload repeats its keys; a different key under a used id is a client bug.
              if (existing.key_json !== json) throw new MatrixError(400, 'M_INVALID_PARAM', `One-time key ${name} already exists with a different value`);
              continue;
            }
            await deviceKeysStore.addOneTimeKey(tx, userId, deviceId, algorithm, keyId, json, seq);
          }
        }
        if (isRecord(fallbackKeys)) {
          for (const [name, key] of Object.entries(fallbackKeys)) {
            const { algorithm, keyId } = splitKeyName(name);
            const json = stableJson(key);
            const existing = await deviceKeysStore.getFallbackKey(tx, userId, deviceId, algorithm);
            // The same key uploaded again keeps its used flag; a new key replaces it unused.
            if (existing && existing.key_id === keyId && existing.key_json === json) continue;
            await deviceKeysStore.putFallbackKey(tx, userId, deviceId, algorithm, keyId, json);
          }
        }
        const counts = await this.oneTimeKeyCounts(tx, userId, deviceId);
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        // Thrown inside the write job: the whole upload rolls back, device keys included.
        if (total > MAX_ONE_TIME_KEYS_PER_DEVICE) {
          throw new MatrixError(413, 'M_TOO_LARGE', `A device may keep at most ${MAX_ONE_TIME_KEYS_PER_DEVICE} unclaimed one-time keys`);
        }
        return { changeId, counts };
      }),
    );
    if (changeId !== undefined) await this.deviceLists.committed(changeId, userId, { deviceIds: [deviceId] });
    return counts;
  }

  /** Unclaimed one-time keys per algorithm (keys/upload `one_time_key_counts`, /sync `device_one_time_keys_count`). */
  async oneTimeKeyCounts(q: Queryable, userId: string, deviceId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = { [SIGNED_CURVE25519]: 0 };
    for (const r of await deviceKeysStore.oneTimeKeyCounts(q, userId, deviceId)) counts[r.algorithm] = r.n;
    return counts;
  }

  /** /sync `device_unused_fallback_key_types`. */
  unusedFallbackKeyTypes(q: Queryable, userId: string, deviceId: string): Promise<string[]> {
    return deviceKeysStore.unusedFallbackAlgorithms(q, userId, deviceId);
  }

  /**
   * Both figures /sync reports, kept in memory between changes: a client syncs far more often
   * than anyone uploads or claims its keys.
   */
  async syncFigures(q: Queryable, userId: string, deviceId: string): Promise<DeviceKeyFigures> {
    const key = `${userId}\u0000${deviceId}`;
    const known = this.figures.get(key);
    if (known && known.generation === this.generation) return known.value;
    // A change committing while these are read moves the generation past the one noted here.
    const generation = this.generation;
    const value = {
      oneTimeKeyCounts: await this.oneTimeKeyCounts(q, userId, deviceId),
      unusedFallbackKeyTypes: await this.unusedFallbackKeyTypes(q, userId, deviceId),
    };
    if (this.figures.size > 10_000) this.figures.clear();
    this.figures.set(key, { generation, value });
    return value;
  }

  /** Some device's one-time or fallback keys changed (or the device is gone): figures read before are stale. */
  keysChanged(): void {
    this.generation++;
  }

  private async afterKeysChange<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.keysChanged();
    }
  }

  /** POST /keys/query: device keys and cross-signing keys, with signatures the requester may see. */
  async query(requester: string, body: Json): Promise<Json> {
    const wanted = body.device_keys;
    if (!isRecord(wanted)) throw new MatrixError(400, 'M_BAD_JSON', "'device_keys' must be an object");
    for (const [user, devices] of Object.entries(wanted)) {
      if (!Array.isArray(devices) || devices.some((d) => typeof d !== 'string')) {
        throw new MatrixError(400, 'M_BAD_JSON', `'device_keys.${user}' must be an array of device ids`);
      }
    }
    const q = this.db.reader;
    const deviceKeys: Json = nullObject();
    const masterKeys: Json = nullObject();
    const selfSigningKeys: Json = nullObject();
    const userSigningKeys: Json = nullObject();
    for (const [user, devices] of Object.entries(wanted) as Array<[string, string[]]>) {
      // Unknown users are left out, not reported as failures (failures are for unreachable servers).
      if (!(await accountsStore.getUser(q, user))) continue;
      const signatures = await crossSigningStore.signaturesOn(q, user);
      const only = devices.length > 0 ? new Set(devices) : undefined;
      const byDevice: Json = nullObject();
      for (const row of await deviceKeysStore.ofUser(q, user)) {
        if (only && !only.has(row.device_id)) continue;
        const key = mergeSignatures(
          JSON.parse(row.key_json) as Json,
          signatures.filter((s) => s.target_key_id === row.device_id),
        );
        if (row.display_name !== null) key.unsigned = { device_display_name: row.display_name };
        byDevice[row.device_id] = key;
      }
      deviceKeys[user] = byDevice;
      // Signatures on another user's master key: only the owner's and the requester's own are shown.
      const master = await crossSigningStore.get(q, user, 'master');
      if (master) {
        masterKeys[user] = mergeSignatures(
          JSON.parse(master.key_json) as Json,
          signatures.filter((s) => s.target_key_id === master.public_key),
          new Set([user, requester]),
        );
      }
      const selfSigning = await crossSigningStore.get(q, user, 'self_signing');
      if (selfSigning) selfSigningKeys[user] = JSON.parse(selfSigning.key_json);
      if (user === requester) {
        const userSigning = await crossSigningStore.get(q, user, 'user_signing');
        if (userSigning) userSigningKeys[user] = JSON.parse(userSigning.key_json);
      }
    }
    return { failures: {}, device_keys: deviceKeys, master_keys: masterKeys, self_signing_keys: selfSigningKeys, user_signing_keys: userSigningKeys };
  }

  /** POST /keys/claim: one key per requested device and algorithm, taken atomically. */
  async claim(body: Json): Promise<Json> {
    const wanted = body.one_time_keys;
    if (!isRecord(wanted)) throw new MatrixError(400, 'M_BAD_JSON', "'one_time_keys' must be an object");
    for (const [user, devices] of Object.entries(wanted)) {
      if (!isRecord(devices) || Object.values(devices).some((a) => typeof a !== 'string')) {
        throw new MatrixError(400, 'M_BAD_JSON', `'one_time_keys.${user}' must map device ids to algorithms`);
      }
    }
    const claimed = await this.afterKeysChange(() =>
      this.db.write(async (tx) => {
        const out: Record<string, Record<string, Json>> = nullObject();
        for (const [user, devices] of Object.entries(wanted) as Array<[string, Record<string, string>]>) {
          for (const [device, algorithm] of Object.entries(devices)) {
            let row = await deviceKeysStore.takeOneTimeKey(tx, user, device, algorithm);
            if (!row) {
              // One-time keys exhausted: the fallback key, reused until the device replaces it.
              const fallback = await deviceKeysStore.getFallbackKey(tx, user, device, algorithm);
              if (fallback) {
                if (!fallback.used) await deviceKeysStore.markFallbackKeyUsed(tx, user, device, algorithm);
                row = fallback;
              }
            }
            if (row) ((out[user] ??= nullObject())[device] ??= nullObject())[`${row.algorithm}:${row.key_id}`] = JSON.parse(row.key_json);
          }
        }
        return out;
      }),
    );
    return { failures: {}, one_time_keys: claimed };
  }
}
