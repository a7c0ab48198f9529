// The data folder holds the database (every message, hashed tokens), the signing key and media:
// only its owner may read it. SQLite creates its -wal and -shm files with the database file's own
// permissions (os_unix.c findCreateFileMode), so a database created 0600 keeps its log 0600 too.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/**
 * Creates the data folder 0700, or takes an existing one back to 0700 when others could enter it
 * (folders made by Hearth before this rule were 0755).
 */
export function preparePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  tighten(dir, PRIVATE_DIR);
}

/**
 * Makes sure the database file exists with mode 0600 before SQLite opens it, and takes an
 * existing database and its -wal and -shm files back to 0600.
 */
export function preparePrivateDbFile(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', PRIVATE_FILE));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) tighten(f, PRIVATE_FILE);
}

function tighten(path: string, mode: number): void {
  // Windows has no such bits; chmod there only toggles read-only.
  if (process.platform === 'win32') return;
  if ((statSync(path).mode & 0o777 & ~mode) !== 0) chmodSync(path, mode);
}
