// Fetches media of another server for the content repository (server-server-api.md "Content
// Repository"): first the authenticated federation endpoint (a signed GET answered with
// multipart/mixed, whose second part is the bytes or a Location to fetch them from), then, for a
// server that answers 404 or 400 M_UNRECOGNIZED (older servers), the deprecated unauthenticated
// /_matrix/media/v3/download with allow_remote=false, as the spec requires when falling back.
// Every connection, a Location redirect included, goes through the address policy of the server
// named in the mxc:// URI.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { MatrixError } from '../http/matrix-error.ts';
import type { RemoteMediaResponse, RemoteMediaSource } from '../media/remote-media.ts';
import { boundaryOf, readMultipart } from '../media/multipart.ts';
import { filenameOf } from '../media/content-type.ts';
import { FederationRequestError, type FederationClient } from './client.ts';

/**
 * The longest silence from a remote server while fetching media, headers and bytes alike. Long
 * enough for a slow uplink to send its next chunk, short enough that a stalled peer frees its
 * fetch slot (media/remote-media.ts) and its waiting clients within a minute.
 */
export const REMOTE_MEDIA_IDLE_TIMEOUT_MS = 20_000;
/** How long the remote may wait for a not yet uploaded media: the spec's default timeout_ms. */
const REMOTE_WAIT_MS = 20_000;

export function remoteMediaSource(client: FederationClient): RemoteMediaSource {
  return {
    async fetch(serverName, mediaId, timeoutMs) {
      const wait = Math.min(timeoutMs, REMOTE_WAIT_MS);
      const options = { timeoutMs: REMOTE_MEDIA_IDLE_TIMEOUT_MS + wait };
      let res: IncomingMessage;
      try {
        res = await client.requestStream(serverName, `/_matrix/federation/v1/media/download/${encodeURIComponent(mediaId)}?timeout_ms=${wait}`, options);
      } catch (err) {
        if (!isUnrecognized(err)) throw asClientError(err, serverName);
        // The server name is sent as is: its grammar (a host and port) is all path-safe characters.
        const legacy = `/_matrix/media/v3/download/${serverName}/${encodeURIComponent(mediaId)}?allow_remote=false&timeout_ms=${wait}`;
        try {
          res = await client.requestStream(serverName, legacy, { ...options, signed: false });
        } catch (err2) {
          throw asClientError(err2, serverName);
        }
        return plainAnswer(res);
      }
      return multipartAnswer(client, serverName, res);
    },
  };
}

/** The spec's signal to fall back: the endpoint is unknown there. */
function isUnrecognized(err: unknown): boolean {
  return err instanceof FederationRequestError && err.kind === 'response' && (err.status === 404 || err.status === 400) && err.errcode === 'M_UNRECOGNIZED';
}

/** What a local client is told: the remote's 404 stays 404; anything else about the remote is a 502. */
function asClientError(err: unknown, serverName: string): unknown {
  if (!(err instanceof FederationRequestError)) return err;
  if (err.kind === 'response' && err.status === 404) return new MatrixError(404, 'M_NOT_FOUND', 'Unknown media');
  if (err.kind === 'response' && err.status === 504 && err.errcode === 'M_NOT_YET_UPLOADED') {
    return new MatrixError(504, 'M_NOT_YET_UPLOADED', 'Content has not yet been uploaded');
  }
  if (err.kind === 'response' && err.status === 429) return new MatrixError(502, 'M_UNKNOWN', `${serverName} is rate-limiting media requests`);
  return new MatrixError(502, 'M_UNKNOWN', err.kind === 'response' ? `${serverName} could not serve the media` : `Cannot reach ${serverName}`);
}

/** A legacy answer: the body is the bytes. Redirects are not followed (we never send allow_redirect). */
function plainAnswer(res: IncomingMessage): RemoteMediaResponse {
  if ((res.statusCode ?? 0) !== 200) {
    res.destroy();
    throw new MatrixError(502, 'M_UNKNOWN', 'The remote server answered the media request without the media');
  }
  const length = Number(res.headers['content-length']);
  return {
    contentType: res.headers['content-type'],
    filename: filenameOf(res.headers['content-disposition']),
    length: Number.isSafeInteger(length) && res.headers['content-length'] !== undefined ? length : undefined,
    body: res,
    abort: () => res.destroy(),
  };
}

async function multipartAnswer(client: FederationClient, serverName: string, res: IncomingMessage): Promise<RemoteMediaResponse> {
  const boundary = boundaryOf(res.headers['content-type']);
  if ((res.statusCode ?? 0) !== 200 || boundary === undefined) {
    res.destroy();
    throw new MatrixError(502, 'M_UNKNOWN', `${serverName} answered the media request without a multipart/mixed body`);
  }
  let part;
  try {
    part = await readMultipart(res, boundary);
  } catch (err) {
    res.destroy();
    throw err instanceof MatrixError ? err : new MatrixError(502, 'M_UNKNOWN', `Could not fetch the media from ${serverName}`);
  }
  const location = part.headers.location;
  if (location !== undefined) {
    res.destroy();
    return plainAnswer(await followLocation(client, serverName, location));
  }
  const bytes = part.body;
  async function* thenDrain() {
    yield* bytes;
    // The close delimiter and epilogue are left: read them, so that the socket returns to its pool.
    res.resume();
  }
  return {
    contentType: part.headers['content-type'],
    filename: filenameOf(part.headers['content-disposition']),
    length: undefined,
    body: Readable.from(thenDrain(), { objectMode: false }),
    abort: () => res.destroy(),
  };
}

/** One GET of the URL a multipart answer pointed to, connecting only where `serverName` may be reached. */
function followLocation(client: FederationClient, serverName: string, location: string): Promise<IncomingMessage> {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return Promise.reject(new MatrixError(502, 'M_UNKNOWN', `${serverName} redirected the media request to an invalid URL`));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return Promise.reject(new MatrixError(502, 'M_UNKNOWN', `${serverName} redirected the media request to a ${url.protocol} URL`));
  }
  const guard = client.guardFor(serverName);
  const refused = guard.refusal(url.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (refused !== undefined) return Promise.reject(new MatrixError(502, 'M_UNKNOWN', `Cannot reach ${serverName}`));
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    // agent: false: a pooled socket of another name must not be reused past the guard.
    const req = get(url, { lookup: guard.lookup, agent: false, timeout: REMOTE_MEDIA_IDLE_TIMEOUT_MS }, resolve);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => reject(new MatrixError(502, 'M_UNKNOWN', `Cannot reach ${serverName}`)));
  });
}
