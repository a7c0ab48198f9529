// Test devices with real Ed25519 keys: device_keys signed by the device, signed one-time and
// fallback keys, and cross-signing keys signed by their master key, as a real client builds them.
import { randomBytes } from 'node:crypto';
import { encodeUnpaddedBase64 } from '../../../homeserver/protocol/base64.ts';
import { generateSigningKey, sign } from '../../../homeserver/protocol/signing-key.ts';
import { signedBytes } from '../../../homeserver/protocol/signing.ts';
import type { TestUser } from '../../helpers/server.ts';

export interface Ed25519 {
  seed: Uint8Array;
  /** Unpadded base64 public key. */
  publicKey: string;
}

export function ed25519(): Ed25519 {
  const k = generateSigningKey();
  return { seed: k.seed, publicKey: encodeUnpaddedBase64(k.publicKey) };
}

/** Adds `signer`'s signature under `ed25519:<keyName>` to a copy of `obj`. */
export function signAs<T extends Record<string, unknown>>(obj: T, signer: string, keyName: string, key: Ed25519): T {
  const sig = encodeUnpaddedBase64(sign(key.seed, signedBytes(obj)));
  const existing = (obj.signatures ?? {}) as Record<string, Record<string, string>>;
  return { ...obj, signatures: { ...existing, [signer]: { ...existing[signer], [`ed25519:${keyName}`]: sig } } };
}

export const randomKey = () => encodeUnpaddedBase64(randomBytes(32));

export interface TestDevice {
  user: TestUser;
  key: Ed25519;
  deviceKeys: Record<string, unknown>;
}

/** A device identity for a registered user's device: device_keys signed by its own Ed25519 key. */
export function testDevice(user: TestUser): TestDevice {
  const key = ed25519();
  const unsignedKeys = {
    user_id: user.userId,
    device_id: user.deviceId,
    algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
    keys: { [`curve25519:${user.deviceId}`]: randomKey(), [`ed25519:${user.deviceId}`]: key.publicKey },
  };
  return { user, key, deviceKeys: signAs(unsignedKeys, user.userId, user.deviceId, key) };
}

/** `n` signed_curve25519 one-time keys signed by the device, named AAAA0, AAAA1, ... from `start`. */
export function oneTimeKeys(d: TestDevice, n: number, start = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = start; i < start + n; i++) out[`signed_curve25519:AAAA${i}`] = signAs({ key: randomKey() }, d.user.userId, d.user.deviceId, d.key);
  return out;
}

export function fallbackKey(d: TestDevice, id: string): Record<string, unknown> {
  return { [`signed_curve25519:${id}`]: signAs({ key: randomKey(), fallback: true }, d.user.userId, d.user.deviceId, d.key) };
}

export interface CrossSigningSet {
  master: Ed25519;
  selfSigning: Ed25519;
  userSigning: Ed25519;
  body: { master_key: Record<string, unknown>; self_signing_key: Record<string, unknown>; user_signing_key: Record<string, unknown> };
}

export function crossSigningKey(userId: string, usage: string, key: Ed25519): Record<string, unknown> {
  return { user_id: userId, usage: [usage], keys: { [`ed25519:${key.publicKey}`]: key.publicKey } };
}

/** Master, self-signing and user-signing keys; the latter two signed by the master key. */
export function crossSigningSet(userId: string): CrossSigningSet {
  const master = ed25519();
  const selfSigning = ed25519();
  const userSigning = ed25519();
  return {
    master,
    selfSigning,
    userSigning,
    body: {
      master_key: crossSigningKey(userId, 'master', master),
      self_signing_key: signAs(crossSigningKey(userId, 'self_signing', selfSigning), userId, master.publicKey, master),
      user_signing_key: signAs(crossSigningKey(userId, 'user_signing', userSigning), userId, master.publicKey, master),
    },
  };
}
