import type { Context, Next } from 'koa';
import { MatrixError } from './matrix-error.ts';
import { guardBody } from './unread-body.ts';
import { JsonParseError, parseBoundedJson } from '../protocol/bounded-json.ts';

/** Bigger than the largest PDU (65,536 bytes) plus room for request wrappers. */
const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** One decoder for every request: each decode() without `stream` starts afresh, and making one costs more than a small body's decoding. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

declare module 'koa' {
  interface Request {
    /** The parsed JSON body; undefined when the request had none. */
    json?: unknown;
  }
}

/**
 * Reads and parses a JSON request body. The spec: a body that is not JSON is M_NOT_JSON; a body
 * that parses but has the wrong shape is M_BAD_JSON (decided by each handler).
 * Media uploads stream their body themselves and are skipped here.
 */
export async function jsonBody(ctx: Context, next: Next): Promise<void> {
  const method = ctx.method;
  // Media uploads stream their own body; the fallback pages post HTML forms.
  const ownBody = ctx.path.includes('/media/') || ctx.path.startsWith('/_matrix/media/') || ctx.path.endsWith('/fallback/web');
  // DELETE carries a body too: DELETE /devices/{deviceId} sends its UIA auth dict in one.
  if ((method === 'POST' || method === 'PUT' || method === 'DELETE') && !ownBody) {
    const raw = await readBody(ctx);
    if (raw.length > 0) ctx.request.json = parseJsonBytes(raw);
  }
  await next();
}

/** Parses a body's bytes: UTF-8, then JSON as parseJsonText(); throws only MatrixError 400. */
export function parseJsonBytes(raw: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new MatrixError(400, 'M_NOT_JSON', 'Request body is not valid UTF-8');
  }
  return parseJsonText(text);
}

/**
 * Parses a body's (or a JSON query parameter's) text: not JSON is M_NOT_JSON; JSON nested deeper
 * than MAX_JSON_DEPTH is M_BAD_JSON (it parses, but no handler can take it). Objects come back
 * with null prototypes (protocol/bounded-json.ts).
 */
export function parseJsonText(text: string, what = 'Request body'): unknown {
  try {
    return parseBoundedJson(text);
  } catch (err) {
    if (err instanceof JsonParseError && err.reason === 'depth') throw new MatrixError(400, 'M_BAD_JSON', `${what} is ${err.message}`);
    throw new MatrixError(400, 'M_NOT_JSON', `${what} is not valid JSON`);
  }
}

/**
 * The whole request body. Read with stream events: `for await` over the request costs an async
 * iterator and a promise per chunk, on every request that writes anything. A body over the limit
 * is refused through guardBody, which answers with Connection: close and discards the rest for a
 * while before hanging up: cutting at once resets the connection and loses the 413 with it.
 */
function readBody(ctx: Context): Promise<Buffer> {
  const req = ctx.req;
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return guardBody(ctx, () => {
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > MAX_JSON_BODY_BYTES) throw new MatrixError(413, 'M_TOO_LARGE', 'Request body too large');
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_JSON_BODY_BYTES) {
          chunks.push(chunk);
          return;
        }
        done();
        // Stop reading until guardBody takes the rest over, so that no chunk slips by uncounted.
        req.pause();
        reject(new MatrixError(413, 'M_TOO_LARGE', 'Request body too large'));
      };
      const onEnd = () => {
        done();
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      };
      const onError = (err: Error) => {
        done();
        reject(err);
      };
      const onClose = () => {
        done();
        reject(new Error('the client closed the connection before sending the whole body'));
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('close', onClose);
    });
  });
}

/**
 * The body as a JSON object. An absent body counts as {}. Valid JSON that is not an object (an
 * array, a string) is M_BAD_JSON: M_NOT_JSON is only for bodies that do not parse at all
 * (client-server-api/_index.md "Common error codes").
 */
export function bodyObject(ctx: Context): Record<string, unknown> {
  const body = ctx.request.json;
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new MatrixError(400, 'M_BAD_JSON', 'Request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
