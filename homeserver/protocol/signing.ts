// Signing JSON and checking a signature (appendices.md "Signing Details", "Checking for a
// Signature"): the signature covers the canonical JSON of the object without `signatures` and
// `unsigned`, so other parties can add their own signatures and unsigned data afterwards.

import { canonicalJson } from './canonical-json.ts';
import { decodeBase64, encodeUnpaddedBase64 } from './base64.ts';
import { sign, verify } from './signing-key.ts';
import type { SigningKey } from './signing-key.ts';
import type { Signatures } from './types.ts';

/** The bytes a signature covers: canonical JSON of `obj` minus `signatures` and `unsigned`. */
export function signedBytes(obj: object): Uint8Array {
  const { signatures: _signatures, unsigned: _unsigned, ...rest } = obj as Record<string, unknown>;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

/**
 * Returns a copy of `obj` signed by `serverName` with `key`. Existing signatures (from other
 * servers or other keys) are kept and `unsigned` is carried over untouched; a previous signature
 * by the same server and key id is replaced.
 */
export function signJson<T extends object>(obj: T, serverName: string, key: SigningKey): T & { signatures: Signatures } {
  const signature = encodeUnpaddedBase64(sign(key.seed, signedBytes(obj)));
  const existing = (obj as { signatures?: Signatures }).signatures ?? {};
  const signatures: Signatures = {};
  for (const [server, keys] of Object.entries(existing)) signatures[server] = { ...keys };
  signatures[serverName] = { ...signatures[serverName], [key.keyId]: signature };
  return { ...obj, signatures };
}

/**
 * Checks that `obj` carries a valid signature by `serverName` under `keyId`, made with the key
 * whose public half is `publicKey`. False if the signature is missing, is not base64, or does not
 * verify (steps 1, 4-7 of "Checking for a Signature"; finding the key is the caller's job).
 */
export function verifyJsonSignature(obj: object, serverName: string, keyId: string, publicKey: Uint8Array): boolean {
  const signatures = (obj as { signatures?: unknown }).signatures;
  if (!isRecord(signatures)) return false;
  const byServer = signatures[serverName];
  if (!isRecord(byServer)) return false;
  const encoded = byServer[keyId];
  if (typeof encoded !== 'string') return false;
  let signature: Uint8Array;
  let message: Uint8Array;
  try {
    signature = decodeBase64(encoded);
    message = signedBytes(obj);
  } catch (err) {
    // Bad base64, or JSON canonical JSON cannot encode: no valid signature can exist.
    if (err instanceof TypeError) return false;
    throw err;
  }
  return verify(publicKey, message, signature);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
