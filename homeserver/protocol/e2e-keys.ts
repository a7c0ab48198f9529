// The shapes and signatures of end-to-end encryption keys (client-server-api/modules/
// end_to_end_encryption.md "Key Distribution", "Cross-signing", "Server-side key backups";
// data/api/client-server/definitions/{device_keys,cross_signing_key,one_time_keys,key_backup_data}.yaml).
// Pure: a problem is returned, never thrown, and the caller picks the error code.

import { canonicalJson } from './canonical-json.ts';
import { decodeBase64 } from './base64.ts';
import { verifyJsonSignature } from './signing.ts';

/** What is wrong with an uploaded key: its shape (M_BAD_JSON), a value (M_INVALID_PARAM) or a signature. */
export interface KeyProblem {
  kind: 'bad_json' | 'invalid_param' | 'invalid_signature';
  message: string;
}

export type CrossSigningUsage = 'master' | 'self_signing' | 'user_signing';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const badJson = (message: string): KeyProblem => ({ kind: 'bad_json', message });
const invalidParam = (message: string): KeyProblem => ({ kind: 'invalid_param', message });
const invalidSignature = (message: string): KeyProblem => ({ kind: 'invalid_signature', message });

/** The 32 bytes of an unpadded-base64 Ed25519 public key, or undefined when it is not one. */
export function ed25519PublicKey(encoded: unknown): Uint8Array | undefined {
  if (typeof encoded !== 'string') return undefined;
  try {
    const bytes = decodeBase64(encoded);
    return bytes.byteLength === 32 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `obj` carries a valid signature by `signer` with the Ed25519 key `ed25519:<keyName>` = `publicKey`. */
export function isSignedBy(obj: object, signer: string, keyName: string, publicKey: string): boolean {
  const key = ed25519PublicKey(publicKey);
  return key !== undefined && verifyJsonSignature(obj, signer, `ed25519:${keyName}`, key);
}

/** Canonical JSON where the value allows it (integers only), else plain JSON: a stable form for comparing keys. */
export function stableJson(v: unknown): string {
  try {
    return canonicalJson(v);
  } catch {
    return JSON.stringify(v);
  }
}

/** Whether two signed objects say the same thing, whatever signatures and unsigned data they carry. */
export function sameSignedContent(a: object, b: object): boolean {
  const strip = (o: object) => {
    const { signatures: _s, unsigned: _u, ...rest } = o as Record<string, unknown>;
    return stableJson(rest);
  };
  return strip(a) === strip(b);
}

function signaturesProblem(v: unknown, required: boolean): KeyProblem | null {
  if (v === undefined && !required) return null;
  if (!isRecord(v)) return badJson("'signatures' must be an object");
  for (const [user, sigs] of Object.entries(v)) {
    if (!isRecord(sigs) || Object.values(sigs).some((s) => typeof s !== 'string')) {
      return badJson(`'signatures.${user}' must map key ids to strings`);
    }
  }
  return null;
}

/**
 * Checks a `device_keys` upload: the DeviceKeys shape, that it names the uploading user and
 * device, and that it is signed by the device's own Ed25519 key ("Uploading keys": "must include
 * the public part of the device's Ed25519 key, and must be signed by that key").
 */
export function deviceKeysProblem(keys: unknown, userId: string, deviceId: string): KeyProblem | null {
  if (!isRecord(keys)) return badJson("'device_keys' must be an object");
  if (typeof keys.user_id !== 'string') return badJson("'device_keys.user_id' must be a string");
  if (typeof keys.device_id !== 'string') return badJson("'device_keys.device_id' must be a string");
  if (!Array.isArray(keys.algorithms) || keys.algorithms.some((a) => typeof a !== 'string')) {
    return badJson("'device_keys.algorithms' must be an array of strings");
  }
  if (!isRecord(keys.keys) || Object.values(keys.keys).some((k) => typeof k !== 'string')) {
    return badJson("'device_keys.keys' must map key ids to strings");
  }
  const sigProblem = signaturesProblem(keys.signatures, true);
  if (sigProblem) return sigProblem;
  if (keys.user_id !== userId) return invalidParam(`'device_keys.user_id' must be your user id ${userId}`);
  if (keys.device_id !== deviceId) return invalidParam(`'device_keys.device_id' must be your device id ${deviceId}`);
  const ed25519 = keys.keys[`ed25519:${deviceId}`];
  if (ed25519PublicKey(ed25519) === undefined) return invalidParam(`'device_keys.keys' must hold an Ed25519 key 'ed25519:${deviceId}'`);
  if (!isSignedBy(keys, userId, deviceId, ed25519 as string)) {
    return invalidParam("device_keys is not signed by the device's Ed25519 key");
  }
  return null;
}

/** Checks a one_time_keys or fallback_keys map: `<algorithm>:<key_id>` to a string or a KeyObject. */
export function oneTimeKeysProblem(keys: unknown, field: string): KeyProblem | null {
  if (!isRecord(keys)) return badJson(`'${field}' must be an object`);
  for (const [name, value] of Object.entries(keys)) {
    const colon = name.indexOf(':');
    if (colon <= 0 || colon === name.length - 1) return badJson(`'${field}' key '${name}' must be '<algorithm>:<key_id>'`);
    if (typeof value === 'string') continue;
    if (!isRecord(value) || typeof value.key !== 'string') return badJson(`'${field}.${name}' must be a string or an object with a string 'key'`);
    const sigProblem = signaturesProblem(value.signatures, true);
    if (sigProblem) return badJson(`'${field}.${name}': ${sigProblem.message}`);
  }
  return null;
}

/** Splits `<algorithm>:<key_id>`. */
export function splitKeyName(name: string): { algorithm: string; keyId: string } {
  const colon = name.indexOf(':');
  return { algorithm: name.slice(0, colon), keyId: name.slice(colon + 1) };
}

/**
 * Checks a CrossSigningKey: its shape, owner and usage, and returns its public key. "The object
 * must have exactly one property, whose name is in the form `<algorithm>:<unpadded_base64_public_key>`,
 * and whose value is the unpadded base64 public key."
 */
export function crossSigningKeyProblem(key: unknown, userId: string, usage: CrossSigningUsage): KeyProblem | { publicKey: string } {
  if (!isRecord(key)) return badJson(`the ${usage} key must be an object`);
  if (typeof key.user_id !== 'string') return badJson(`the ${usage} key's 'user_id' must be a string`);
  if (!Array.isArray(key.usage) || key.usage.some((u) => typeof u !== 'string')) return badJson(`the ${usage} key's 'usage' must be an array of strings`);
  if (!isRecord(key.keys) || Object.values(key.keys).some((k) => typeof k !== 'string'))
    return badJson(`the ${usage} key's 'keys' must map key ids to strings`);
  const sigProblem = signaturesProblem(key.signatures, false);
  if (sigProblem) return sigProblem;
  if (key.user_id !== userId) return invalidParam(`the ${usage} key's 'user_id' must be ${userId}`);
  if (!key.usage.includes(usage)) return invalidParam(`the ${usage} key's 'usage' must include '${usage}'`);
  const entries = Object.entries(key.keys);
  if (entries.length !== 1) return invalidParam(`the ${usage} key must hold exactly one key`);
  const [name, value] = entries[0]!;
  if (name !== `ed25519:${value as string}` || ed25519PublicKey(value) === undefined) {
    return invalidParam(`the ${usage} key must be 'ed25519:<public key>' mapped to that Ed25519 public key`);
  }
  return { publicKey: value as string };
}

/** Whether a self-signing or user-signing key is signed by the user's master key. */
export function signedByMaster(key: object, userId: string, masterPublicKey: string): KeyProblem | null {
  return isSignedBy(key, userId, masterPublicKey, masterPublicKey) ? null : invalidSignature('The key is not signed by the master key');
}

/** KeyBackupData (definitions/key_backup_data.yaml). */
export interface BackupKeyData {
  first_message_index: number;
  forwarded_count: number;
  is_verified: boolean;
  session_data: Record<string, unknown>;
}

export function backupKeyDataProblem(v: unknown, where: string): KeyProblem | null {
  if (!isRecord(v)) return badJson(`${where} must be an object`);
  if (!Number.isSafeInteger(v.first_message_index) || (v.first_message_index as number) < 0)
    return badJson(`${where}.first_message_index must be a non-negative integer`);
  if (!Number.isSafeInteger(v.forwarded_count) || (v.forwarded_count as number) < 0) return badJson(`${where}.forwarded_count must be a non-negative integer`);
  if (typeof v.is_verified !== 'boolean') return badJson(`${where}.is_verified must be a boolean`);
  if (!isRecord(v.session_data)) return badJson(`${where}.session_data must be an object`);
  return null;
}

/**
 * Whether an uploaded backup key should replace the stored one ("Server-side key backups"): keep
 * the verified key; between equally verified keys the lower first_message_index; then the lower
 * forwarded_count. A key no better than the stored one leaves it in place.
 */
export function backupKeyReplaces(incoming: BackupKeyData, existing: BackupKeyData): boolean {
  if (incoming.is_verified !== existing.is_verified) return incoming.is_verified;
  if (incoming.first_message_index !== existing.first_message_index) return incoming.first_message_index < existing.first_message_index;
  return incoming.forwarded_count < existing.forwarded_count;
}
