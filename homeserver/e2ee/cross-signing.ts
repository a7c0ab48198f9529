// Cross-signing (end_to_end_encryption.md "Cross-signing"; cross_signing.yaml): a user's master,
// self-signing and user-signing keys, and the signatures they make on devices and other users.
import { MatrixError } from '../http/matrix-error.ts';
import type { Database } from '../storage/database.ts';
import { accountsStore } from '../storage/accounts-store.ts';
import { crossSigningStore, deviceKeysStore } from '../storage/e2ee-store.ts';
import { crossSigningKeyProblem, isRecord, isSignedBy, sameSignedContent, signedByMaster, stableJson, type CrossSigningUsage } from '../protocol/e2e-keys.ts';
import { check, keyError } from './errors.ts';
import type { DeviceLists } from './device-lists.ts';
import { remoteDeviceListStore } from '../storage/federation-edus-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { nullObject } from '../protocol/null-object.ts';

type Json = Record<string, unknown>;

const FIELDS: Array<[string, CrossSigningUsage]> = [
  ['master_key', 'master'],
  ['self_signing_key', 'self_signing'],
  ['user_signing_key', 'user_signing'],
];

/** A remote user's master key as cached from their server, in the shape of a local one. */
async function remoteMasterKey(q: Queryable, userId: string): Promise<{ public_key: string; key_json: string } | undefined> {
  const json = (await remoteDeviceListStore.get(q, userId))?.master_key;
  if (!json) return undefined;
  const r = crossSigningKeyProblem(JSON.parse(json), userId, 'master');
  return 'kind' in r ? undefined : { public_key: r.publicKey, key_json: json };
}

interface CheckedKey {
  usage: CrossSigningUsage;
  key: Json;
  publicKey: string;
}

export class CrossSigning {
  private readonly db: Database;
  private readonly deviceLists: DeviceLists;

  constructor(db: Database, deviceLists: DeviceLists) {
    this.db = db;
    this.deviceLists = deviceLists;
  }

  /**
   * POST /keys/device_signing/upload. `authorize` runs user-interactive auth; the spec requires it
   * unless the user has no master key yet, or the request repeats exactly the keys already stored
   * (so a retried first upload stays idempotent).
   */
  async upload(userId: string, body: Json, authorize: () => Promise<void>): Promise<void> {
    const keys: CheckedKey[] = [];
    for (const [field, usage] of FIELDS) {
      const key = body[field];
      if (key === undefined || key === null) continue;
      const r = crossSigningKeyProblem(key, userId, usage);
      if ('kind' in r) throw keyError(r);
      keys.push({ usage, key: key as Json, publicKey: r.publicKey });
    }
    const q = this.db.reader;
    const stored = new Map<CrossSigningUsage, { public_key: string; key_json: string }>();
    for (const [, usage] of FIELDS) {
      const row = await crossSigningStore.get(q, userId, usage);
      if (row) stored.set(usage, row);
    }
    const unchanged = keys.every((k) => stored.get(k.usage)?.key_json === stableJson(k.key));
    if (stored.has('master') && !unchanged) await authorize();
    if (keys.length === 0 || unchanged) return;

    const master = keys.find((k) => k.usage === 'master')?.publicKey ?? stored.get('master')?.public_key;
    if (master === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'No master key is available');
    for (const k of keys) if (k.usage !== 'master') check(signedByMaster(k.key, userId, master));
    // A cross-signing public key doubles as a key id in signatures; it must not clash with a device id.
    for (const k of keys) {
      if (await accountsStore.getDevice(q, userId, k.publicKey)) throw new MatrixError(403, 'M_FORBIDDEN', 'Key ID in use');
    }
    const changeId = await this.db.write(async (tx) => {
      for (const k of keys) await crossSigningStore.put(tx, userId, k.usage, k.publicKey, stableJson(k.key));
      return this.deviceLists.recordChange(tx, userId);
    });
    await this.deviceLists.committed(changeId, userId, { crossSigning: true });
  }

  /**
   * POST /keys/signatures/upload: a device signed by its owner's self-signing key, the owner's
   * master key signed by one of their devices, or another user's master key signed by the
   * uploader's user-signing key. Each failure is reported per key, not as an error.
   */
  async uploadSignatures(userId: string, body: Json): Promise<Json> {
    const failures: Record<string, Record<string, Json>> = nullObject();
    const changedUsers = new Set<string>();
    // What federation passes on: new signatures on the uploader's own devices and master key.
    const ownChange = { deviceIds: [] as string[], crossSigning: false };
    const q = this.db.reader;
    const accepted: Array<{ target: string; keyId: string; signer: string; signerKeyId: string; signature: string }> = [];
    for (const [target, byKey] of Object.entries(body)) {
      if (!isRecord(byKey)) throw new MatrixError(400, 'M_BAD_JSON', `'${target}' must map key ids to signed objects`);
      for (const [keyId, signed] of Object.entries(byKey)) {
        const fail = (errcode: string, error: string) => ((failures[target] ??= nullObject())[keyId] = { errcode, error });
        if (!isRecord(signed)) {
          fail('M_BAD_JSON', 'The signed object must be an object');
          continue;
        }
        const mine = isRecord(signed.signatures) && isRecord(signed.signatures[userId]) ? (signed.signatures[userId] as Record<string, unknown>) : {};
        // The key being signed, as stored, and which of the uploader's keys may sign it.
        let stored: Json | undefined;
        let signers: Array<{ keyName: string; publicKey: string }> = [];
        let isDevice = false;
        if (target === userId) {
          const device = await deviceKeysStore.get(q, userId, keyId);
          const master = await crossSigningStore.get(q, userId, 'master');
          if (device) {
            isDevice = true;
            stored = JSON.parse(device.key_json) as Json;
            const ssk = await crossSigningStore.get(q, userId, 'self_signing');
            if (ssk) signers = [{ keyName: ssk.public_key, publicKey: ssk.public_key }];
          } else if (master && master.public_key === keyId) {
            stored = JSON.parse(master.key_json) as Json;
            for (const name of Object.keys(mine)) {
              const deviceId = name.startsWith('ed25519:') ? name.slice('ed25519:'.length) : '';
              const row = deviceId ? await deviceKeysStore.get(q, userId, deviceId) : undefined;
              const ed = row ? (JSON.parse(row.key_json) as { keys?: Record<string, string> }).keys?.[`ed25519:${deviceId}`] : undefined;
              if (ed) signers.push({ keyName: deviceId, publicKey: ed });
            }
          }
        } else {
          // A remote user's master key is the one cached from their server (federation's cache).
          const master = (await crossSigningStore.get(q, target, 'master')) ?? (await remoteMasterKey(q, target));
          if (master && master.public_key === keyId) {
            stored = JSON.parse(master.key_json) as Json;
            const usk = await crossSigningStore.get(q, userId, 'user_signing');
            if (usk) signers = [{ keyName: usk.public_key, publicKey: usk.public_key }];
          }
        }
        if (!stored) {
          fail('M_NOT_FOUND', `No key ${keyId} of ${target} to sign`);
          continue;
        }
        if (!sameSignedContent(signed, stored)) {
          fail('M_INVALID_PARAM', 'The signed object does not match the stored key');
          continue;
        }
        const valid = signers.filter((s) => isSignedBy(signed, userId, s.keyName, s.publicKey));
        if (valid.length === 0) {
          fail('M_INVALID_SIGNATURE', 'Invalid signature');
          continue;
        }
        for (const s of valid) {
          accepted.push({ target, keyId, signer: userId, signerKeyId: `ed25519:${s.keyName}`, signature: mine[`ed25519:${s.keyName}`] as string });
        }
        changedUsers.add(target);
        if (target === userId && isDevice) ownChange.deviceIds.push(keyId);
        else if (target === userId) ownChange.crossSigning = true;
      }
    }
    if (accepted.length > 0) {
      const changes = await this.db.write(async (tx) => {
        for (const a of accepted) {
          await crossSigningStore.addSignature(tx, {
            target_user_id: a.target,
            target_key_id: a.keyId,
            signer_user_id: a.signer,
            signer_key_id: a.signerKeyId,
            signature: a.signature,
          });
        }
        const ids: Array<[number, string]> = [];
        for (const u of changedUsers) ids.push([await this.deviceLists.recordChange(tx, u), u]);
        return ids;
      });
      for (const [id, u] of changes) await this.deviceLists.committed(id, u, u === userId ? ownChange : undefined);
    }
    return { failures };
  }
}
