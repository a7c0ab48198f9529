// The answer to a request that failed because the disk did (storage/disk-errors.ts says which
// failures those are). Nothing was changed: the write's transaction was rolled back, or its file
// never moved into place. So the client is told to try again later, not that the server broke.
import { diskFailure } from '../storage/disk-errors.ts';
import { MatrixError } from './matrix-error.ts';

/**
 * Retry-After on these answers, in seconds: a hint, since nobody knows when space will be freed.
 * A minute keeps retrying clients from hammering a server that cannot write, and is short next to
 * how long freeing space takes a person.
 */
export const DISK_RETRY_AFTER_S = 60;

/**
 * A full disk is the spec's M_RESOURCE_LIMIT_EXCEEDED, whose own text names disk space and says it
 * appears on routes that modify state, not on those that only read (client-server-api/_index.md,
 * "Common error codes"). It MUST carry `admin_contact`: the config's `admin_contact`, else null,
 * as Synapse sends it unconfigured. 507 Insufficient Storage (RFC 4918 11.5) is the status for exactly this case;
 * Synapse uses 403 for its resource limits, which clients would read as "not allowed".
 * A disk that failed otherwise (EIO) is 503 M_UNKNOWN: clients go by the status for M_UNKNOWN.
 */
export function diskError(err: unknown, adminContact?: string): MatrixError | undefined {
  const failure = diskFailure(err);
  if (failure === 'full') {
    return new MatrixError(507, 'M_RESOURCE_LIMIT_EXCEEDED', "The server's disk is full; nothing was changed. Try again once space has been freed.", {
      admin_contact: adminContact ?? null,
    });
  }
  if (failure === 'io') {
    return new MatrixError(503, 'M_UNKNOWN', 'The server could not read or write its disk; nothing was changed. Try again later.');
  }
  return undefined;
}
