// What a failure of the disk looks like from here, in one place: SQLite's result codes (the sqlite3
// driver puts the primary code's name in `code`) and Node's fs errno names. The HTTP layer turns
// a `full` disk into M_RESOURCE_LIMIT_EXCEEDED and an `io` failure into a 503 (http/errors.ts);
// work done on the side of a read (presence on /sync, deleting delivered to-device messages)
// is skipped on either, so that reads keep working while the disk is full.

/** `full`: no space left (or quota); `io`: the disk failed to read or write. */
export type DiskFailure = 'full' | 'io';

const CODES: Record<string, DiskFailure> = {
  // sqlite3.h: "Insertion failed because database is full", which SQLite also returns for ENOSPC.
  SQLITE_FULL: 'full',
  ENOSPC: 'full',
  EDQUOT: 'full',
  // SQLite reports an OS-level read or write error, including a WAL index it cannot grow, as IOERR.
  SQLITE_IOERR: 'io',
  EIO: 'io',
};

/** Whether `err` (or the error it wraps, as `cause`) is a failure of the disk, and which. */
export function diskFailure(err: unknown): DiskFailure | undefined {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && Object.hasOwn(CODES, code)) return CODES[code];
  }
  return undefined;
}
