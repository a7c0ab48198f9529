// Outbound federation requests: discovery, X-Matrix signing, keep-alive HTTPS, JSON both ways
// (server-server-api.md "API standards", "TLS", "Request Authentication"). Certificates are checked
// against the system's CAs, except for servers in trust_self_signed: their certificate is pinned on
// first contact (stored in SQLite) and any other certificate is refused afterwards.
import https from 'node:https';
import tls, { type PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Database } from '../storage/database.ts';
import { federationStore, type PinnedCertRow } from '../storage/federation-store.ts';
import type { SigningKey } from '../protocol/signing-key.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { parseBoundedJson } from '../protocol/bounded-json.ts';
import { signRequest } from './request-auth.ts';
import type { ServerAcl } from './server-acl.ts';
import { certCovers } from './tls.ts';
import { maxAgeMs, parseWellKnownBody, ServerResolver, systemSrv, type ResolvedServer, type WellKnownResult } from './discovery.ts';

export type FailureKind = 'response' | 'network' | 'tls' | 'timeout' | 'bad-response' | 'forbidden';

/**
 * A failed federation request. `kind: 'response'` carries the remote's status and errcode; the
 * others (no usable answer) are 502 M_UNKNOWN, except 'forbidden' (our ACL) which is 403.
 * Handlers that must not pass a remote's 401 to a client map it before rethrowing.
 */
export class FederationRequestError extends MatrixError {
  readonly destination: string;
  readonly kind: FailureKind;
  readonly body: unknown;

  constructor(destination: string, kind: FailureKind, status: number, errcode: string, message: string, body?: unknown) {
    super(status, errcode, message);
    this.name = 'FederationRequestError';
    this.destination = destination;
    this.kind = kind;
    this.body = body;
  }
}

export interface RequestOptions {
  /** Sign with X-Matrix (default true); key requests need no signature. */
  signed?: boolean;
  timeoutMs?: number;
}

export interface FederationClientOptions {
  serverName: string;
  signingKey: SigningKey;
  db: Database;
  acl: ServerAcl;
  trustSelfSigned: readonly string[];
  /** Discovery; by default the system's DNS and a real .well-known fetch. */
  resolver?: ServerResolver;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Sees every answered request (status and parsed body): the tests validate them against the spec. */
export type ResponseObserver = (method: string, path: string, status: number, body: unknown) => void;

export class FederationClient {
  readonly resolver: ServerResolver;
  observer: ResponseObserver | undefined;
  private readonly opts: FederationClientOptions;
  private readonly trusted: Set<string>;
  /** One keep-alive agent for CA-verified peers, one per pinned peer (their trust anchors differ). */
  private readonly agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly pinnedAgents = new Map<string, { fingerprint: string; agent: https.Agent }>();

  constructor(opts: FederationClientOptions) {
    this.opts = opts;
    this.trusted = new Set(opts.trustSelfSigned.map((n) => n.toLowerCase()));
    this.resolver = opts.resolver ?? new ServerResolver({ resolveSrv: systemSrv, fetchWellKnown: (h) => fetchWellKnown(h), now: Date.now });
  }

  /** Sends a (signed) JSON request to `destination` and resolves with its JSON answer. */
  async request<T = unknown>(destination: string, method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    if (!this.opts.acl.allows(destination)) {
      throw new FederationRequestError(destination, 'forbidden', 403, 'M_FORBIDDEN', `Federation with ${destination} is not allowed`);
    }
    let target: ResolvedServer;
    try {
      target = await this.resolver.resolveServer(destination);
    } catch (err) {
      throw new FederationRequestError(destination, 'network', 502, 'M_UNKNOWN', `Cannot resolve ${destination}: ${(err as Error).message}`);
    }
    const headers: Record<string, string> = { host: target.hostHeader, accept: 'application/json' };
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (options.signed !== false) {
      headers.authorization = signRequest({ method, uri: path, origin: this.opts.serverName, destination, content: body }, this.opts.signingKey);
    }
    const agent = this.trusted.has(destination.toLowerCase()) ? await this.pinnedAgent(destination, target) : this.agent;
    const observe = this.observer;
    return sendJson<T>(
      destination,
      {
        agent,
        host: target.host,
        port: target.port,
        method,
        path,
        headers,
        // No SNI for an IP literal (the spec's "TLS" section).
        servername: isIP(target.tlsServerName) ? undefined : target.tlsServerName,
      },
      payload,
      options.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      observe && ((status, body) => observe(method, path, status, body)),
    );
  }

  close(): void {
    this.agent.destroy();
    for (const { agent } of this.pinnedAgents.values()) agent.destroy();
    this.pinnedAgents.clear();
  }

  /** The agent that accepts exactly the pinned certificate, pinning on first contact. */
  private async pinnedAgent(destination: string, target: ResolvedServer): Promise<https.Agent> {
    let pin = await federationStore.getPinnedCert(this.opts.db.reader, destination);
    if (pin === undefined) pin = await this.pinOnFirstContact(destination, target);
    const existing = this.pinnedAgents.get(destination);
    if (existing && existing.fingerprint === pin.fingerprint256) return existing.agent;
    const fingerprint = pin.fingerprint256;
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: 16,
      // The pinned self-signed certificate is the only trust anchor; the name check still applies.
      ca: [pin.certificate_pem],
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        if (cert.fingerprint256 !== fingerprint) return new Error(`certificate of ${destination} is not the pinned one`);
        return tls.checkServerIdentity(host, cert);
      },
    });
    existing?.agent.destroy();
    this.pinnedAgents.set(destination, { fingerprint, agent });
    return agent;
  }

  private async pinOnFirstContact(destination: string, target: ResolvedServer): Promise<PinnedCertRow> {
    const cert = await new Promise<PeerCertificate>((resolve, reject) => {
      const socket = tls.connect({
        host: target.host,
        port: target.port,
        servername: isIP(target.tlsServerName) ? undefined : target.tlsServerName,
        // Only to read the certificate: nothing is sent over this connection.
        rejectUnauthorized: false,
        timeout: 10_000,
      });
      socket.once('secureConnect', () => {
        resolve(socket.getPeerCertificate());
        socket.destroy();
      });
      socket.once('timeout', () => socket.destroy(new Error('timed out')));
      socket.once('error', reject);
    }).catch((err: Error) => {
      throw new FederationRequestError(destination, 'tls', 502, 'M_UNKNOWN', `Cannot reach ${destination} to pin its certificate: ${err.message}`);
    });
    const pem = `-----BEGIN CERTIFICATE-----\n${cert.raw.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
    if (!certCovers(new X509Certificate(cert.raw), target.tlsServerName)) {
      throw new FederationRequestError(destination, 'tls', 502, 'M_UNKNOWN', `Certificate of ${destination} is not valid for ${target.tlsServerName}`);
    }
    return this.opts.db.write((tx) =>
      federationStore.pinCert(tx, { server_name: destination, fingerprint256: cert.fingerprint256, certificate_pem: pem, pinned_ts: Date.now() }),
    );
  }
}

interface SendOptions {
  agent: https.Agent;
  host: string;
  port: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  servername: string | undefined;
}

function sendJson<T>(
  destination: string,
  o: SendOptions,
  payload: Buffer | undefined,
  timeoutMs: number,
  observe?: (status: number, body: unknown) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (kind: FailureKind, message: string) => reject(new FederationRequestError(destination, kind, 502, 'M_UNKNOWN', message));
    const req = https.request({ ...o, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new Error('response too large'));
        else chunks.push(c);
      });
      res.on('error', (err) => fail('network', `${destination}: ${err.message}`));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let json: unknown;
        try {
          // Bounded like request bodies: null prototypes, at most MAX_JSON_DEPTH levels.
          json = parseBoundedJson(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        observe?.(status, json);
        if (status >= 200 && status < 300) {
          if (typeof json !== 'object' || json === null) return fail('bad-response', `${destination} answered ${status} without a JSON object`);
          return resolve(json as T);
        }
        const body = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
        const errcode = typeof body.errcode === 'string' ? body.errcode : 'M_UNKNOWN';
        const error = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
        reject(new FederationRequestError(destination, 'response', status, errcode, `${destination}: ${error}`, json));
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      const kind: FailureKind =
        code === 'ETIMEDOUT' ? 'timeout' : /CERT|SELF_SIGNED|TLS|SSL|ERR_TLS/.test(code) || /certificate/i.test(err.message) ? 'tls' : 'network';
      fail(kind, `${destination}: ${err.message}`);
    });
    if (payload !== undefined) req.end(payload);
    else req.end();
  });
}

/**
 * GET https://<hostname>/.well-known/matrix/server with system CAs, following up to five
 * redirects and refusing loops; any failure or invalid body is `{ ok: false }`.
 */
export async function fetchWellKnown(hostname: string, timeoutMs = 10_000): Promise<WellKnownResult> {
  let url = new URL(`https://${hostname}/.well-known/matrix/server`);
  const seen = new Set<string>();
  for (let hop = 0; hop < 6; hop++) {
    if (seen.has(url.href) || url.protocol !== 'https:') return { ok: false };
    seen.add(url.href);
    const res = await new Promise<{ status: number; location?: string; cacheControl?: string; text: string }>((resolve, reject) => {
      const req = https.get(url, { timeout: timeoutMs }, (r) => {
        const chunks: Buffer[] = [];
        let size = 0;
        r.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 64 * 1024) req.destroy(new Error('too large'));
          else chunks.push(c);
        });
        r.on('end', () =>
          resolve({
            status: r.statusCode ?? 0,
            location: r.headers.location,
            cacheControl: r.headers['cache-control'],
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        r.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
    }).catch(() => undefined);
    if (res === undefined) return { ok: false };
    if (res.status >= 300 && res.status < 400 && res.location) {
      url = new URL(res.location, url);
      continue;
    }
    if (res.status !== 200) return { ok: false };
    let body: unknown;
    try {
      body = parseBoundedJson(res.text);
    } catch {
      return { ok: false };
    }
    const server = parseWellKnownBody(body);
    if (server === undefined) return { ok: false };
    const age = maxAgeMs(res.cacheControl);
    return age === undefined ? { ok: true, server } : { ok: true, server, maxAgeMs: age };
  }
  return { ok: false };
}
