// Server key documents (server-server-api.md "Publishing Keys", keys_server.yaml): ours, signed by
// our key, and the checks a document from another server must pass before we believe its keys.
import { decodeBase64, encodeUnpaddedBase64 } from '../protocol/base64.ts';
import { signJson, verifyJsonSignature } from '../protocol/signing.ts';
import { isValidEd25519KeyId, type SigningKey } from '../protocol/signing-key.ts';

/**
 * How long others may cache our keys. One day, as Synapse's default `key_refresh_interval`: short
 * enough that a replaced key stops being trusted within a day, long enough that a peer fetches our
 * keys about once a day rather than on every request (Synapse allows 1 h to 7 d).
 */
export const KEY_VALIDITY_MS = 86_400_000;

export interface OldKey {
  keyId: string;
  publicKey: Uint8Array;
  expiredTs: number;
}

export interface ServerKeyDocument {
  server_name: string;
  verify_keys: Record<string, { key: string }>;
  old_verify_keys: Record<string, { key: string; expired_ts: number }>;
  valid_until_ts: number;
  signatures?: Record<string, Record<string, string>>;
}

/** Our `/_matrix/key/v2/server` body, signed by `key`. */
export function ourKeyDocument(serverName: string, key: SigningKey, now: number, oldKeys: OldKey[] = []): ServerKeyDocument {
  const doc: ServerKeyDocument = {
    server_name: serverName,
    verify_keys: { [key.keyId]: { key: encodeUnpaddedBase64(key.publicKey) } },
    old_verify_keys: Object.fromEntries(oldKeys.map((k) => [k.keyId, { key: encodeUnpaddedBase64(k.publicKey), expired_ts: k.expiredTs }])),
    valid_until_ts: now + KEY_VALIDITY_MS,
  };
  return signJson(doc, serverName, key);
}

export interface CheckedKeys {
  serverName: string;
  validUntilTs: number;
  verifyKeys: Map<string, Uint8Array>;
  oldKeys: Map<string, { publicKey: Uint8Array; expiredTs: number }>;
}

/**
 * Checks a key document said to be `expectedServer`'s: its shape, its server_name, and that it is
 * signed by its own verify_keys (every such signature present must verify, and at least one must
 * be there). Returns the keys, or a reason for refusing it.
 */
export function checkKeyDocument(doc: unknown, expectedServer: string): CheckedKeys | string {
  if (!isRecord(doc)) return 'not a JSON object';
  if (doc.server_name !== expectedServer) return `server_name is ${JSON.stringify(doc.server_name)}, expected ${expectedServer}`;
  if (typeof doc.valid_until_ts !== 'number' || !Number.isSafeInteger(doc.valid_until_ts)) return 'valid_until_ts is not an integer';
  if (!isRecord(doc.verify_keys)) return 'verify_keys is not an object';
  const verifyKeys = new Map<string, Uint8Array>();
  for (const [keyId, entry] of Object.entries(doc.verify_keys)) {
    const key = decodeKey(keyId, entry);
    if (key === undefined) continue; // Keys of unknown algorithms are not ours to judge.
    verifyKeys.set(keyId, key);
  }
  const oldKeys = new Map<string, { publicKey: Uint8Array; expiredTs: number }>();
  if (isRecord(doc.old_verify_keys)) {
    for (const [keyId, entry] of Object.entries(doc.old_verify_keys)) {
      const key = decodeKey(keyId, entry);
      const expiredTs = isRecord(entry) ? entry.expired_ts : undefined;
      if (key !== undefined && typeof expiredTs === 'number') oldKeys.set(keyId, { publicKey: key, expiredTs });
    }
  }
  const ours = isRecord(doc.signatures) ? doc.signatures[expectedServer] : undefined;
  let signed = 0;
  if (isRecord(ours)) {
    for (const keyId of Object.keys(ours)) {
      const key = verifyKeys.get(keyId);
      if (key === undefined) continue;
      if (!verifyJsonSignature(doc, expectedServer, keyId, key)) return `signature by ${keyId} does not verify`;
      signed++;
    }
  }
  if (signed === 0) return 'not signed by any of its verify_keys';
  return { serverName: expectedServer, validUntilTs: doc.valid_until_ts, verifyKeys, oldKeys };
}

function decodeKey(keyId: string, entry: unknown): Uint8Array | undefined {
  if (!isValidEd25519KeyId(keyId) || !isRecord(entry) || typeof entry.key !== 'string') return undefined;
  try {
    const key = decodeBase64(entry.key);
    return key.byteLength === 32 ? new Uint8Array(key) : undefined;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
