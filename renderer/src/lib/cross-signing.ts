// Cross-signing (client-server-api "Cross-signing"): the account's master key signs a
// self-signing key, which signs each of the user's sessions, and a user-signing key, which signs
// the master keys of the people the user has verified. One emoji comparison with a person then
// vouches for every session they verify, and a session the user verifies is trusted by all the
// others. Set up with the secure backup, as Element does; the private keys go to secret storage.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import type { MatrixEvent } from 'matrix-js-sdk/lib/models/event.js';
import { withPassword } from './devices.ts';

// matrix-js-sdk's EventShieldColour / EventShieldReason values (crypto-api/index.ts): importing the
// enums would pull the whole crypto API module into the first chunk.
const SHIELD_NONE = 0;
const SHIELD_RED = 2;
const REASON_UNSIGNED_DEVICE = 2;

function cryptoOf(client: MatrixClient) {
  const crypto = client.getCrypto();
  if (!crypto) throw new Error('Encryption is still loading. Try again in a moment.');
  return crypto;
}

/** Whether this session holds the three private cross-signing keys (it can sign sessions and people). */
export async function canCrossSign(client: MatrixClient): Promise<boolean> {
  const status = await cryptoOf(client).getCrossSigningStatus();
  const keys = status.privateKeysCachedLocally;
  return status.publicKeysOnDevice && keys.masterKey && keys.selfSigningKey && keys.userSigningKey;
}

/**
 * Whether the account already has a cross-signing identity on the server (made in another
 * session, by Hearth or Element). Setting up backup here must not silently replace it: everyone
 * who verified the user would see their identity change, and their sessions would lose trust.
 */
export function accountHasCrossSigning(client: MatrixClient): Promise<boolean> {
  return cryptoOf(client).userHasCrossSigningKeys(client.getSafeUserId(), true);
}

/**
 * Makes new cross-signing keys and uploads their public halves; the server asks for the password
 * (UIA, /keys/device_signing/upload). This session is signed with them at once. The private keys
 * stay in this session's store until secret storage takes a copy (setUpKeyBackup).
 */
export async function setUpCrossSigning(client: MatrixClient, password: string): Promise<void> {
  await cryptoOf(client).bootstrapCrossSigning({
    setupNewCrossSigning: true,
    authUploadDeviceSigningKeys: async (makeRequest) => {
      await withPassword(client.getSafeUserId(), password, (auth) => makeRequest(auth ?? null));
    },
  });
}

/**
 * After the recovery key opened secret storage: reads the cross-signing keys from it (when it
 * holds them), and this session, signed with them, is then trusted by the user's others.
 */
export async function crossSignFromSecretStorage(client: MatrixClient): Promise<void> {
  if (!(await client.secretStorage.isStored('m.cross_signing.master'))) return;
  await cryptoOf(client).bootstrapCrossSigning({});
}

/** What the user knows of a person's identity: verified by cross-signing, and whether each of their sessions is signed. */
export type Trust =
  /** No verification, or no crypto: nothing to show. */
  | 'unknown'
  /** Verified, and every session of theirs is signed by them. */
  | 'verified'
  /** Verified, but a session of theirs is not signed by them: flagged, it may not be them. */
  | 'unsigned-session';

/** The user's trust in a person (for the member list). */
export async function userTrust(client: MatrixClient, userId: string): Promise<Trust> {
  const crypto = client.getCrypto();
  if (!crypto) return 'unknown';
  const status = await crypto.getUserVerificationStatus(userId);
  if (!status.isCrossSigningVerified()) return 'unknown';
  const devices = (await crypto.getUserDeviceInfo([userId])).get(userId) ?? new Map();
  for (const device of devices.values()) {
    const deviceStatus = await crypto.getDeviceVerificationStatus(userId, device.deviceId);
    if (!deviceStatus?.crossSigningVerified) return 'unsigned-session';
  }
  return 'verified';
}

/**
 * The shield of one encrypted message: its sender verified and the message from a session they
 * signed ('verified'), or from a session its owner has not signed ('unsigned-session', Element's
 * red shield "Encrypted by a device not verified by its owner").
 */
export async function messageTrust(client: MatrixClient, ev: MatrixEvent): Promise<Trust> {
  const crypto = client.getCrypto();
  const sender = ev.getSender();
  if (!crypto || !sender || !ev.isEncrypted() || ev.isDecryptionFailure()) return 'unknown';
  const info = await crypto.getEncryptionInfoForEvent(ev);
  if (!info) return 'unknown';
  // Flagged only when the sender has a cross-signing identity, so that a session they did not
  // sign stands out. Without one (no secure backup set up: most Hearth users), every session is
  // "unsigned" and a red mark on each of their messages would say nothing but alarm.
  if (info.shieldColour === SHIELD_RED && info.shieldReason === REASON_UNSIGNED_DEVICE) {
    return (await crypto.userHasCrossSigningKeys(sender)) ? 'unsigned-session' : 'unknown';
  }
  if (info.shieldColour !== SHIELD_NONE) return 'unknown';
  return (await crypto.getUserVerificationStatus(sender)).isCrossSigningVerified() ? 'verified' : 'unknown';
}
