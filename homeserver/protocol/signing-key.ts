// A server's Ed25519 signing key (appendices.md "Signing Details": the only algorithm is ed25519
// "as implemented by NACL"; a 32-byte seed is the private key). node:crypto only.

import { createPrivateKey, createPublicKey, randomBytes, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeBase64, encodeUnpaddedBase64 } from './base64.ts';

export interface SigningKey {
  /** `ed25519:<version>`, the *signing key identifier*. */
  keyId: string;
  /** The 32-byte Ed25519 seed (the private key). */
  seed: Uint8Array;
  /** The 32-byte Ed25519 public key derived from the seed. */
  publicKey: Uint8Array;
}

// DER prefixes that wrap a raw 32-byte Ed25519 key (RFC 8410): PKCS#8 for the seed, SPKI for the
// public key. Appending the raw bytes gives a document node:crypto can import.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

// server-server-api.md "Retrieving server keys" (definitions/keys.yaml): a key version "must have
// characters matching the regular expression [a-zA-Z0-9_]".
const KEY_VERSION = /^[a-zA-Z0-9_]+$/;
const VERSION_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';

/** True if `keyId` is `ed25519:` followed by a valid key version. */
export function isValidEd25519KeyId(keyId: string): boolean {
  return keyId.startsWith('ed25519:') && KEY_VERSION.test(keyId.slice('ed25519:'.length));
}

/** A fresh key with id `ed25519:` + 6 random characters of [a-zA-Z0-9_]. */
export function generateSigningKey(): SigningKey {
  let version = '';
  while (version.length < 6) {
    // Rejection sampling keeps the choice uniform: 252 is the largest multiple of 63 below 256.
    for (const byte of randomBytes(12)) {
      if (byte < 252 && version.length < 6) version += VERSION_CHARS[byte % 63];
    }
  }
  return signingKeyFromSeed(`ed25519:${version}`, randomBytes(32));
}

/** Rebuilds a key from its id and 32-byte seed, deriving the public key. */
export function signingKeyFromSeed(keyId: string, seed: Uint8Array): SigningKey {
  if (!isValidEd25519KeyId(keyId)) throw new TypeError(`invalid ed25519 key id: ${keyId}`);
  if (seed.byteLength !== 32) throw new TypeError('an ed25519 seed is 32 bytes');
  const spki = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return {
    keyId,
    seed: Uint8Array.from(seed),
    publicKey: new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.length)),
  };
}

/**
 * Synapse's signing key file: one line `ed25519 <version> <unpadded base64 seed>`, so a key
 * file can move between Synapse and Hearth.
 */
export function encodeSigningKeyFile(key: SigningKey): string {
  const [algorithm, version] = splitKeyId(key.keyId);
  return `${algorithm} ${version} ${encodeUnpaddedBase64(key.seed)}\n`;
}

/** Reads the first key of a Synapse-format key file. Throws a `TypeError` if it is malformed. */
export function decodeSigningKeyFile(text: string): SigningKey {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  const parts = line?.split(/\s+/) ?? [];
  if (parts.length !== 3 || parts[0] !== 'ed25519') {
    throw new TypeError('signing key file: expected "ed25519 <version> <base64 seed>"');
  }
  return signingKeyFromSeed(`ed25519:${parts[1]}`, decodeBase64(parts[2]));
}

/** Ed25519 signature (64 bytes) of `message` with the key derived from `seed`. */
export function sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(cryptoSign(null, message, privateKeyObject(seed)));
}

/** True if `signature` is a valid Ed25519 signature of `message` by `publicKey`. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== 32 || signature.byteLength !== 64) return false;
  try {
    return cryptoVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    // A 32-byte string that is not a curve point cannot verify anything.
    return false;
  }
}

function splitKeyId(keyId: string): [string, string] {
  const colon = keyId.indexOf(':');
  return [keyId.slice(0, colon), keyId.slice(colon + 1)];
}

/** Parsed key objects by seed: a server signs every event with the same one or two keys. */
const privateKeys = new Map<string, KeyObject>();

function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.byteLength !== 32) throw new TypeError('an ed25519 seed is 32 bytes');
  const cacheKey = Buffer.from(seed).toString('base64');
  let key = privateKeys.get(cacheKey);
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    if (privateKeys.size > 16) privateKeys.clear();
    privateKeys.set(cacheKey, key);
  }
  return key;
}

/** Key objects of recently used public keys: a server verifies the same few keys over and over. */
const keyObjects = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('base64');
  let key = keyObjects.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (keyObjects.size >= 256) keyObjects.clear();
    keyObjects.set(id, key);
  }
  return key;
}
