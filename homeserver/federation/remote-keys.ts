// Other servers' signing keys (server-server-api.md "Retrieving server keys"): from SQLite while
// valid, else fetched from the server itself (`/_matrix/key/v2/server`), else from the configured
// notaries (`/_matrix/key/v2/query`), each document checked before any key in it is believed.
// A key-bound LAN name (protocol/lan-identity.ts) has exactly one key, the one its name is the hash
// of: any other key served for it, by itself or by a notary, is ignored, so that no server can
// sign as another desktop.
import type { Database } from '../storage/database.ts';
import { federationStore } from '../storage/federation-store.ts';
import { decodeBase64, encodeUnpaddedBase64 } from '../protocol/base64.ts';
import type { SigningKey } from '../protocol/signing-key.ts';
import { signJson, verifyJsonSignature } from '../protocol/signing.ts';
import { checkKeyDocument, isRecord, ourKeyDocument, type CheckedKeys } from './keys.ts';
import type { FederationClient } from './client.ts';
import { isLanServerName, nameMatchesKey } from '../protocol/lan-identity.ts';

export interface RemoteKeysOptions {
  db: Database;
  serverName: string;
  signingKey: SigningKey;
  client: FederationClient;
  notaries: readonly string[];
  now?: () => number;
  log?: (msg: string, err?: unknown) => void;
}

export class RemoteKeys {
  private readonly o: RemoteKeysOptions;
  private readonly now: () => number;
  /** One fetch per server at a time: a burst of requests from a new server fetches its keys once. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Keys as stored, by `server\u0000keyId`: every PDU of a send_join answer asks for the same few
   * keys, and a query each would cost more than the signature check. Dropped when a server's keys are stored.
   */
  private readonly memo = new Map<string, { key: Uint8Array; until: number }>();

  constructor(o: RemoteKeysOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  /**
   * The public key `keyId` of `serverName`, valid until at least `minValidUntil` (default: now),
   * or null when neither the server nor a notary can vouch for it. Keys that are past their
   * valid_until_ts are refetched; an old (expired) key is returned only if it expired after
   * `minValidUntil` (events signed before then).
   */
  async getKey(serverName: string, keyId: string, minValidUntil = this.now()): Promise<Uint8Array | null> {
    if (serverName === this.o.serverName) return keyId === this.o.signingKey.keyId ? this.o.signingKey.publicKey : null;
    const cached = await this.cachedKey(serverName, keyId, minValidUntil);
    if (cached) return cached;
    await this.refresh(serverName, keyId, minValidUntil);
    return this.cachedKey(serverName, keyId, minValidUntil);
  }

  /** Fetches `serverName`'s keys now (directly, then via notaries); failures are logged, not thrown. */
  refresh(serverName: string, keyId?: string, minValidUntil = this.now()): Promise<void> {
    let running = this.inFlight.get(serverName);
    if (!running) {
      running = this.fetch(serverName, keyId, minValidUntil).finally(() => this.inFlight.delete(serverName));
      this.inFlight.set(serverName, running);
    }
    return running;
  }

  /**
   * The key document we hold for `serverName` (ours freshly signed; a cached remote one with our
   * signature added) for serving as a notary, or undefined when we have none. With `fetch: false`
   * only what is stored is served: nothing is fetched.
   */
  async notaryDocument(serverName: string, minValidUntil = this.now(), fetch = true): Promise<object | undefined> {
    const { serverName: us, signingKey } = this.o;
    if (serverName === us) return ourKeyDocument(us, signingKey, this.now());
    let row = await federationStore.getKeyDocument(this.o.db.reader, serverName);
    if (fetch && (row === undefined || row.valid_until_ts < minValidUntil)) {
      await this.refresh(serverName, undefined, minValidUntil);
      row = (await federationStore.getKeyDocument(this.o.db.reader, serverName)) ?? row;
    }
    if (row === undefined) return undefined;
    // Stale copies are still served: "Notary servers can return keys for servers that are offline".
    return signJson(JSON.parse(row.document) as Record<string, unknown>, us, signingKey);
  }

  private async cachedKey(serverName: string, keyId: string, minValidUntil: number): Promise<Uint8Array | null> {
    const memoKey = `${serverName}\u0000${keyId}`;
    let hit = this.memo.get(memoKey);
    if (!hit) {
      const row = await federationStore.getServerKey(this.o.db.reader, serverName, keyId);
      if (!row) return null;
      hit = { key: new Uint8Array(decodeBase64(row.public_key)), until: row.expired_ts ?? row.valid_until_ts };
      if (this.memo.size > 10_000) this.memo.clear();
      this.memo.set(memoKey, hit);
    }
    return hit.until >= minValidUntil ? hit.key : null;
  }

  private async fetch(serverName: string, keyId: string | undefined, minValidUntil: number): Promise<void> {
    try {
      const doc = await this.o.client.request(serverName, 'GET', '/_matrix/key/v2/server', undefined, { signed: false, timeoutMs: 10_000 });
      const checked = this.boundToName(checkKeyDocument(doc, serverName), doc);
      if (typeof checked === 'string') throw new Error(`bad key document from ${serverName}: ${checked}`);
      await this.store(checked, doc);
      if (keyId === undefined || checked.verifyKeys.has(keyId) || checked.oldKeys.has(keyId)) {
        if (checked.validUntilTs >= minValidUntil) return;
      }
    } catch (err) {
      this.o.log?.(`fetching keys of ${serverName} directly failed`, err);
    }
    for (const notary of this.o.notaries) {
      if (notary === serverName) continue;
      try {
        if (await this.fetchFromNotary(notary, serverName, keyId, minValidUntil)) return;
      } catch (err) {
        this.o.log?.(`fetching keys of ${serverName} from notary ${notary} failed`, err);
      }
    }
  }

  /** POST /_matrix/key/v2/query to `notary`; each document must carry both its server's and the notary's signature. */
  private async fetchFromNotary(notary: string, serverName: string, keyId: string | undefined, minValidUntil: number): Promise<boolean> {
    const criteria = keyId === undefined ? {} : { [keyId]: { minimum_valid_until_ts: minValidUntil } };
    const res = await this.o.client.request<{ server_keys?: unknown }>(notary, 'POST', '/_matrix/key/v2/query', { server_keys: { [serverName]: criteria } });
    if (!Array.isArray(res.server_keys)) throw new Error('server_keys is not a list');
    let found = false;
    for (const doc of res.server_keys) {
      if (!isRecord(doc) || doc.server_name !== serverName) continue;
      const checked = this.boundToName(checkKeyDocument(doc, serverName), doc);
      if (typeof checked === 'string') {
        this.o.log?.(`notary ${notary} served a key document of ${serverName} that is refused: ${checked}`);
        continue;
      }
      const notarySigs = isRecord(doc.signatures) ? doc.signatures[notary] : undefined;
      let vouched = false;
      if (isRecord(notarySigs)) {
        for (const notaryKeyId of Object.keys(notarySigs)) {
          const key = await this.getKey(notary, notaryKeyId);
          if (key && verifyJsonSignature(doc, notary, notaryKeyId, key)) vouched = true;
        }
      }
      if (!vouched) continue;
      // Keep only the origin's own signature in what we store and later serve.
      const { signatures, ...rest } = doc as Record<string, unknown> & { signatures: Record<string, unknown> };
      await this.store(checked, { ...rest, signatures: { [serverName]: signatures[serverName] } });
      found = true;
    }
    return found;
  }

  /**
   * For a LAN name: only the key the name is bound to, and the document must be signed by it
   * (checkKeyDocument has verified every signature present). Other names: as checked.
   */
  private boundToName(checked: CheckedKeys | string, doc: unknown): CheckedKeys | string {
    if (typeof checked === 'string' || !isLanServerName(checked.serverName)) return checked;
    const name = checked.serverName;
    const bound = (key: Uint8Array) => nameMatchesKey(name, key);
    const verifyKeys = new Map([...checked.verifyKeys].filter(([, key]) => bound(key)));
    const oldKeys = new Map([...checked.oldKeys].filter(([, old]) => bound(old.publicKey)));
    const ignored = [...checked.verifyKeys.keys(), ...checked.oldKeys.keys()].filter((id) => !verifyKeys.has(id) && !oldKeys.has(id));
    if (ignored.length > 0) this.o.log?.(`ignoring keys of ${name} not bound to its name: ${ignored.join(', ')}`);
    const sigs = isRecord(doc) && isRecord(doc.signatures) ? doc.signatures[name] : undefined;
    const signedByBound = isRecord(sigs) && Object.keys(sigs).some((id) => verifyKeys.has(id));
    if (!signedByBound) return `not signed by the key ${name} is bound to`;
    return { ...checked, verifyKeys, oldKeys };
  }

  private async store(keys: CheckedKeys, doc: unknown): Promise<void> {
    const now = this.now();
    for (const k of [...this.memo.keys()]) if (k.startsWith(`${keys.serverName}\u0000`)) this.memo.delete(k);
    await this.o.db.write(async (tx) => {
      for (const [keyId, key] of keys.verifyKeys) {
        await federationStore.upsertServerKey(tx, {
          server_name: keys.serverName,
          key_id: keyId,
          public_key: encodeUnpaddedBase64(key),
          valid_until_ts: keys.validUntilTs,
          expired_ts: null,
          fetched_ts: now,
        });
      }
      for (const [keyId, old] of keys.oldKeys) {
        await federationStore.upsertServerKey(tx, {
          server_name: keys.serverName,
          key_id: keyId,
          public_key: encodeUnpaddedBase64(old.publicKey),
          valid_until_ts: old.expiredTs,
          expired_ts: old.expiredTs,
          fetched_ts: now,
        });
      }
      await federationStore.putKeyDocument(tx, keys.serverName, JSON.stringify(doc), keys.validUntilTs, now);
    });
  }
}
