// Key backup with a recovery key, as Element sets it up: the room keys go to the server's key
// backup (client-server-api "Server-side key backups"), and the backup's own key to secret
// storage ("Secret storage"), encrypted with a recovery key that only the user holds. A new
// session that is given the recovery key reads the backup key back, then the room keys.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import type { CryptoCallbacks } from 'matrix-js-sdk/lib/crypto-api/index.js';
import { decodeRecoveryKey } from 'matrix-js-sdk/lib/crypto-api/recovery-key.js';
import { crossSignFromSecretStorage, setUpCrossSigning } from './cross-signing.ts';

/**
 * The secret storage key known to this window: the one just created, or the one the user typed.
 * Kept in memory only, for the few secret storage reads that follow; never written anywhere.
 */
export class SecretStorageKeys {
  private known: { keyId: string; key: Uint8Array<ArrayBuffer> } | null = null;

  readonly callbacks: CryptoCallbacks = {
    getSecretStorageKey: async ({ keys }) => {
      const known = this.known;
      return known && known.keyId in keys ? [known.keyId, known.key] : null;
    },
    cacheSecretStorageKey: (keyId, _info, key) => {
      this.known = { keyId, key };
    },
  };

  remember(keyId: string, key: Uint8Array<ArrayBuffer>): void {
    this.known = { keyId, key };
  }

  forget(): void {
    this.known = null;
  }
}

function cryptoOf(client: MatrixClient) {
  const crypto = client.getCrypto();
  if (!crypto) throw new Error('Encryption is still loading. Try again in a moment.');
  return crypto;
}

/** Whether this account already has a key backup on the server. */
export async function hasKeyBackup(client: MatrixClient): Promise<boolean> {
  return (await cryptoOf(client).getKeyBackupInfo()) !== null;
}

/**
 * Makes a new recovery key, secret storage under it and a new key backup, and returns the
 * recovery key for the user to keep (shown once: it is not kept here). With the password, first
 * sets up cross-signing (lib/cross-signing.ts), whose private keys then go to secret storage too,
 * as Element's "Set up secure backup" does; without it (this session already holds them), they
 * are copied there as they are.
 */
export async function setUpKeyBackup(client: MatrixClient, password: string | null = null): Promise<string> {
  const crypto = cryptoOf(client);
  if (password !== null) await setUpCrossSigning(client, password);
  let recoveryKey = '';
  await crypto.bootstrapSecretStorage({
    createSecretStorageKey: async () => {
      const generated = await crypto.createRecoveryKeyFromPassphrase();
      recoveryKey = generated.encodedPrivateKey ?? '';
      return generated;
    },
    setupNewSecretStorage: true,
    setupNewKeyBackup: true,
  });
  if (!recoveryKey) throw new Error('No recovery key was made.');
  return recoveryKey;
}

export class WrongRecoveryKeyError extends Error {}

/**
 * Checks the typed recovery key against the account's secret storage key, then reads the backup
 * key from secret storage and restores every room key from the backup. Returns how many keys
 * were imported.
 */
export async function restoreKeyBackup(client: MatrixClient, keys: SecretStorageKeys, typed: string): Promise<number> {
  const crypto = cryptoOf(client);
  let key: Uint8Array<ArrayBuffer>;
  try {
    key = decodeRecoveryKey(typed.trim()) as Uint8Array<ArrayBuffer>;
  } catch {
    throw new WrongRecoveryKeyError('That is not a recovery key: check it for typing errors (it has 48 letters and digits in groups of four).');
  }
  const keyId = await client.secretStorage.getDefaultKeyId();
  const found = keyId ? await client.secretStorage.getKey(keyId) : null;
  if (!keyId || !found) throw new WrongRecoveryKeyError('This account has no secure backup to restore.');
  if (!(await client.secretStorage.checkKey(key, found[1]))) throw new WrongRecoveryKeyError('That recovery key does not open this account’s backup.');
  keys.remember(keyId, key);
  await crypto.loadSessionBackupPrivateKeyFromSecretStorage();
  await crypto.checkKeyBackupAndEnable();
  const result = await crypto.restoreKeyBackup();
  // The recovery key also opens the cross-signing keys: this session signs itself with them and
  // is then trusted by the user's other sessions (Element's "Verify with recovery key").
  await crossSignFromSecretStorage(client).catch((err: unknown) => console.warn('[crypto] cross-signing from secret storage', err));
  return result.imported;
}

/**
 * Whether signing out now would lose encrypted messages for good: this session is in encrypted
 * rooms and its keys go to no backup (none set up, or this session does not have its key). Its
 * keys are deleted with it at sign-out, and no other place holds them (Element asks first too).
 * While the crypto is loading nothing is known of the backup: it counts as not backed up.
 */
export async function keysAtRisk(client: MatrixClient): Promise<boolean> {
  const inEncryptedRoom = client.getRooms().some((room) => room.getMyMembership() === 'join' && room.hasEncryptionStateEvent());
  if (!inEncryptedRoom) return false;
  const crypto = client.getCrypto();
  return !crypto || (await crypto.getActiveSessionBackupVersion()) === null;
}

/**
 * Whether a new recovery key would lose keys: a backup exists that this session cannot read (it
 * has not restored it), so the keys that only the old backup holds go with it when it is replaced.
 */
export async function backupUnreadHere(client: MatrixClient): Promise<boolean> {
  const crypto = cryptoOf(client);
  return (await crypto.getKeyBackupInfo()) !== null && (await crypto.getActiveSessionBackupVersion()) === null;
}
