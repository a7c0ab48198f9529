// The server's Ed25519 signing key, kept in the data dir. Config loading reads it too: a desktop
// sharing on the LAN is named after its key (protocol/lan-identity.ts), so the name is known only
// once the key is.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSigningKeyFile, encodeSigningKeyFile, generateSigningKey, type SigningKey } from '../protocol/signing-key.ts';

export const SIGNING_KEY_FILE = 'signing.key';

/** The data dir's key, created on first use (folder 0700, file 0600: whoever holds it is the server). */
export function loadOrCreateSigningKey(dataDir: string): SigningKey {
  const file = join(dataDir, SIGNING_KEY_FILE);
  if (existsSync(file)) return decodeSigningKeyFile(readFileSync(file, 'utf8'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = generateSigningKey();
  // 'wx': two starts racing on a fresh data dir must not each write their own key.
  try {
    writeFileSync(file, encodeSigningKeyFile(key) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return decodeSigningKeyFile(readFileSync(file, 'utf8'));
    throw error;
  }
  return key;
}
