// Request authentication (server-server-api.md "Request Authentication"): outbound requests carry
// `Authorization: X-Matrix origin=...,destination=...,key=...,sig=...`, a signature over the
// canonical JSON of {method, uri, origin, destination, content}; inbound ones are checked here.
import type { Context, Next } from 'koa';
import { signJson, verifyJsonSignature } from '../protocol/signing.ts';
import { isValidEd25519KeyId, type SigningKey } from '../protocol/signing-key.ts';
import { isValidServerName } from '../protocol/identifiers.ts';
import { decodeBase64 } from '../protocol/base64.ts';
import { MatrixError } from '../http/matrix-error.ts';
import type { ServerAcl } from './server-acl.ts';

export interface RequestToSign {
  method: string;
  /** Path and query exactly as sent, starting at `/_matrix/`. */
  uri: string;
  origin: string;
  destination: string;
  /** The parsed JSON body; absent for requests without one. */
  content?: unknown;
}

/** The JSON object whose signature authenticates a request (step 1). */
export function requestJson(r: RequestToSign): Record<string, unknown> {
  const json: Record<string, unknown> = { method: r.method, uri: r.uri, origin: r.origin, destination: r.destination };
  if (r.content !== undefined) json.content = r.content;
  return json;
}

/** The Authorization header value for `r` (step 2), in the compatible form the spec recommends. */
export function signRequest(r: RequestToSign, key: SigningKey): string {
  const signed = signJson(requestJson(r), r.origin, key);
  const sig = signed.signatures[r.origin]![key.keyId]!;
  return `X-Matrix origin="${r.origin}",destination="${r.destination}",key="${key.keyId}",sig="${sig}"`;
}

export interface XMatrixParams {
  origin: string;
  destination?: string;
  key: string;
  sig: string;
}

/**
 * Parses an X-Matrix Authorization header (RFC 9110 11.4 auth-params): names case-insensitive,
 * values quoted (with backslash escapes) or bare tokens, which for old servers may hold colons.
 * Unknown parameters are ignored. Null if the scheme is not X-Matrix or a required one is missing.
 */
export function parseXMatrix(header: string): XMatrixParams | null {
  const m = /^X-Matrix[ ]+/i.exec(header);
  if (!m) return null;
  const params = new Map<string, string>();
  let i = m[0].length;
  const s = header;
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    const eq = s.indexOf('=', i);
    if (eq < 0) break;
    const name = s.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i++];
      }
      if (s[i] !== '"') return null; // Unterminated quoted value.
      i++;
    } else {
      const end = s.slice(i).search(/[ \t,]/);
      value = end < 0 ? s.slice(i) : s.slice(i, i + end);
      i += value.length;
    }
    if (name !== '' && !params.has(name)) params.set(name, value);
  }
  const origin = params.get('origin');
  const key = params.get('key');
  const sig = params.get('sig');
  if (!origin || !key || !sig) return null;
  const destination = params.get('destination');
  return destination === undefined ? { origin, key, sig } : { origin, destination, key, sig };
}

/** Finds a server's public key for `keyId`, or null when it has none we can trust. */
export type KeyLookup = (serverName: string, keyId: string) => Promise<Uint8Array | null>;

declare module 'koa' {
  interface DefaultState {
    /** The authenticated origin server of a federation request (set by requireServerAuth). */
    origin?: string;
  }
}

/**
 * Why an X-Matrix header cannot be a valid signature by its origin for us, or undefined. Checked
 * before any key of the origin is fetched (issue #13, class 5): a request that could never verify
 * must not make us contact the server it names.
 */
export function xMatrixProblem(auth: XMatrixParams, serverName: string): string | undefined {
  if (!isValidServerName(auth.origin)) return 'Invalid origin server name';
  if (auth.destination !== undefined && auth.destination !== serverName) return `Request is for ${auth.destination}, not this server`;
  // Only ed25519 keys exist (appendices.md "Signing Details"); another algorithm cannot be checked.
  if (!isValidEd25519KeyId(auth.key)) return `Unsupported key id ${auth.key}`;
  let sig: Buffer;
  try {
    sig = decodeBase64(auth.sig);
  } catch {
    return 'The signature is not base64';
  }
  // An ed25519 signature is 64 bytes.
  if (sig.byteLength !== 64) return 'The signature is not an ed25519 signature';
  return undefined;
}

/**
 * Koa middleware refusing federation requests that are not signed by their origin: 401
 * M_UNAUTHORIZED for a missing or bad signature, an unknown key or a wrong destination (the spec
 * says 401 for the latter); 403 M_FORBIDDEN for a server our ACL denies. Sets ctx.state.origin.
 * Runs after jsonBody, since the signature covers the parsed body: the whole request is parsed and
 * checked (header, origin, destination, ACL) before the origin's keys are looked up, and fetching
 * them goes through the address policy like every outbound connection.
 */
export function requireServerAuth(opts: { serverName: string; keys: KeyLookup; acl: ServerAcl }) {
  return async function serverAuth(ctx: Context, next: Next): Promise<void> {
    const header = ctx.get('authorization');
    if (!header) throw new MatrixError(401, 'M_UNAUTHORIZED', 'Missing X-Matrix Authorization header');
    const auth = parseXMatrix(header);
    if (auth === null) throw new MatrixError(401, 'M_UNAUTHORIZED', 'Malformed X-Matrix Authorization header');
    const problem = xMatrixProblem(auth, opts.serverName);
    if (problem !== undefined) throw new MatrixError(401, 'M_UNAUTHORIZED', problem);
    if (!opts.acl.allows(auth.origin)) throw new MatrixError(403, 'M_FORBIDDEN', 'Federation with your server is not allowed');
    const publicKey = await opts.keys(auth.origin, auth.key);
    if (publicKey === null) throw new MatrixError(401, 'M_UNAUTHORIZED', `Unknown key ${auth.key} for ${auth.origin}`);
    const json = {
      ...requestJson({
        method: ctx.method,
        // The target as sent, query included; Koa's originalUrl is the raw request line's target.
        uri: ctx.originalUrl,
        origin: auth.origin,
        destination: auth.destination ?? opts.serverName,
        content: ctx.request.json,
      }),
      signatures: { [auth.origin]: { [auth.key]: auth.sig } },
    };
    if (!verifyJsonSignature(json, auth.origin, auth.key, publicKey)) {
      throw new MatrixError(401, 'M_UNAUTHORIZED', 'Signature does not verify');
    }
    ctx.state.origin = auth.origin;
    await next();
  };
}
