// What a local client sees when a request Hearth made to another server on its behalf failed.
import { FederationRequestError } from './client.ts';
import { MatrixError } from '../http/matrix-error.ts';

/**
 * A failure to ask `server`, as a client should see it: the remote's 400 (a bad `since`) and 404
 * pass; anything else it answered, and no answer at all, is 502 (as Synapse answers), never the
 * remote's 401 or 403 about our own request, which a client would take as its own.
 */
export function asClientError(err: unknown, server: string): unknown {
  if (!(err instanceof FederationRequestError)) return err;
  if (err.kind === 'forbidden') return err;
  if (err.kind === 'response' && (err.status === 400 || err.status === 404)) return new MatrixError(err.status, err.errcode, err.message);
  if (err.kind === 'response' || err.kind === 'bad-response') return new MatrixError(502, 'M_UNKNOWN', `${server} could not answer`);
  return err;
}
