// Outbound federation requests: discovery, X-Matrix signing, keep-alive HTTPS, JSON both ways
// (server-server-api.md "API standards", "TLS", "Request Authentication"). Certificates are checked
// against the system's CAs, except for servers in trust_self_signed: their certificate is pinned on
// first contact (stored in SQLite) and any other certificate is refused afterwards.
// Every connection, .well-known fetches and certificate pinning included, goes through the address
// policy (address-policy.ts, guarded-connect.ts), and a destination that could not be reached is
// not tried again until its backoff ends (destination-backoff.ts).
// A key-bound LAN name (protocol/lan-identity.ts) is reached only where LAN discovery saw it
// announced, with the certificate it announced (lan-routes.ts).
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
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
import { maxAgeMs, parseWellKnownBody, ServerResolver, systemLookup, systemSrv, type ResolvedServer, type WellKnownResult } from './discovery.ts';
import { AddressPolicy } from './address-policy.ts';
import { connectGuard, type ConnectGuard } from './guarded-connect.ts';
import { DestinationBackoff } from './destination-backoff.ts';
import { isLanServerName } from '../protocol/lan-identity.ts';
import type { LanDirectory } from '../discovery/lan-directory.ts';
import { LanRouteError, LanRoutes } from './lan-routes.ts';
import { certificatePem, readCertificate } from './peer-certificate.ts';

export type FailureKind = 'response' | 'network' | 'tls' | 'timeout' | 'bad-response' | 'forbidden';

/**
 * A failed federation request. `kind: 'response'` carries the remote's status and errcode; the
 * others (no usable answer) are 502 M_UNKNOWN, except 'forbidden' (our ACL) which is 403.
 * Handlers that must not pass a remote's 401 to a client map it before rethrowing.
 * A server that could not be reached (refused by the address policy, unresolvable, no connection,
 * a TLS failure, no answer in time, backing off) always has the message `Cannot reach <name>`,
 * so that an answer does not tell a port scanner what it found; `detail` says why, for logs.
 */
export class FederationRequestError extends MatrixError {
  readonly destination: string;
  readonly kind: FailureKind;
  readonly body: unknown;
  readonly detail: string | undefined;

  constructor(destination: string, kind: FailureKind, status: number, errcode: string, message: string, body?: unknown, detail?: string) {
    super(status, errcode, message);
    this.name = 'FederationRequestError';
    this.destination = destination;
    this.kind = kind;
    this.body = body;
    this.detail = detail;
    // The stack is what logs print: it says why; the message, what a client may see, does not.
    if (detail !== undefined && this.stack !== undefined) this.stack = this.stack.replace(message, `${message} (${detail})`);
  }
}

/** The one error for a server that could not be reached, whatever the reason (`detail`). */
export function unreachable(destination: string, kind: 'network' | 'tls' | 'timeout', detail: string): FederationRequestError {
  return new FederationRequestError(destination, kind, 502, 'M_UNKNOWN', `Cannot reach ${destination}`, undefined, detail);
}

export interface RequestOptions {
  /** Sign with X-Matrix (default true); key requests need no signature. */
  signed?: boolean;
  timeoutMs?: number;
  /** A smaller cap than MAX_RESPONSE_BYTES for an answer that has no reason to be large. */
  maxResponseBytes?: number;
}

export interface FederationClientOptions {
  serverName: string;
  signingKey: SigningKey;
  db: Database;
  acl: ServerAcl;
  trustSelfSigned: readonly string[];
  /** Where connections may go; by default public addresses and the trust_self_signed names. */
  policy?: AddressPolicy;
  /** Discovery; by default the system's DNS and a real .well-known fetch. */
  resolver?: ServerResolver;
  timeoutMs?: number;
  /** The clock of the per-destination backoff (tests freeze it). */
  now?: () => number;
  /** Where LAN discovery says key-bound desktops are now; without it no LAN name is reachable. */
  lan?: LanDirectory;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Sees every answered request (status and parsed body): the tests validate them against the spec. */
export type ResponseObserver = (method: string, path: string, status: number, body: unknown) => void;

export class FederationClient {
  readonly resolver: ServerResolver;
  readonly policy: AddressPolicy;
  readonly backoff: DestinationBackoff;
  observer: ResponseObserver | undefined;
  private readonly opts: FederationClientOptions;
  private readonly trusted: Set<string>;
  /**
   * One keep-alive agent for CA-verified peers at public addresses, one per pinned peer (their
   * trust anchors differ) and one per other private peer: a pooled socket is reused for any request
   * to the same host and port, so sockets the policy let through for a private peer must never
   * serve a name held to the public-only rule.
   */
  private readonly agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly pinnedAgents = new Map<string, { fingerprint: string; agent: https.Agent }>();
  private readonly privatePeerAgents = new Map<string, https.Agent>();
  private readonly lanRoutes: LanRoutes;
  /** The attempt under way to each destination not known alive: the others wait for its outcome. */
  private readonly firstContacts = new Map<string, Promise<void>>();

  constructor(opts: FederationClientOptions) {
    this.opts = opts;
    this.trusted = new Set(opts.trustSelfSigned.map((n) => n.toLowerCase()));
    this.policy = opts.policy ?? new AddressPolicy(opts.trustSelfSigned);
    this.backoff = new DestinationBackoff(opts.now);
    this.lanRoutes = new LanRoutes(opts.lan);
    this.resolver =
      opts.resolver ??
      new ServerResolver({
        resolveSrv: systemSrv,
        // The .well-known of a name is fetched on behalf of that name: its policy applies.
        fetchWellKnown: (h) => fetchWellKnown(h, connectGuard(this.policy, h, systemLookup)),
        now: Date.now,
      });
  }

  /** `destination` is alive (it sent us a signed request): forget its failures. */
  markAlive(destination: string): void {
    this.backoff.succeeded(destination);
  }

  /** Sends a (signed) JSON request to `destination` and resolves with its JSON answer. */
  async request<T = unknown>(destination: string, method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    if (!this.opts.acl.allows(destination)) {
      throw new FederationRequestError(destination, 'forbidden', 403, 'M_FORBIDDEN', `Federation with ${destination} is not allowed`);
    }
    // Until a server has answered, one request at a time tries it: a flood of concurrent requests
    // naming a new or failing server waits for the first one's outcome (then fails at once if it
    // failed) rather than each opening a connection.
    const name = destination.toLowerCase();
    for (let first = this.firstContacts.get(name); first !== undefined; first = this.firstContacts.get(name)) await first;
    if (this.backoff.isBackingOff(destination)) throw unreachable(destination, 'network', 'backing off after a failure');
    const run = this.tracked<T>(destination, method, path, body, options);
    if (!this.backoff.isKnownAlive(destination)) {
      const settled = run.then(
        () => undefined,
        () => undefined,
      );
      this.firstContacts.set(name, settled);
      void settled.then(() => {
        if (this.firstContacts.get(name) === settled) this.firstContacts.delete(name);
      });
    }
    return run;
  }

  /** One attempt, its outcome recorded in the backoff. */
  private async tracked<T>(destination: string, method: string, path: string, body: unknown, options: RequestOptions): Promise<T> {
    try {
      const result = await this.attempt<T>(destination, method, path, body, options);
      this.backoff.succeeded(destination);
      return result;
    } catch (err) {
      this.recordFailure(destination, err);
      throw err;
    }
  }

  /** No answer: back off, and let a LAN peer be looked for at its other addresses. An answer: it is alive. */
  private recordFailure(destination: string, err: unknown): void {
    if (!(err instanceof FederationRequestError)) return;
    if (err.kind === 'network' || err.kind === 'tls' || err.kind === 'timeout') {
      this.backoff.failed(destination);
      this.lanRoutes.failed(destination);
    } else {
      this.backoff.succeeded(destination);
    }
  }

  private async attempt<T>(destination: string, method: string, path: string, body: unknown, options: RequestOptions): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const send = await this.prepare(destination, method, path, body, options);
    if (payload !== undefined) send.headers['content-type'] = 'application/json';
    const observe = this.observer;
    return sendJson<T>(
      destination,
      send,
      payload,
      options.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      observe && ((status, body) => observe(method, path, status, body)),
      Math.min(options.maxResponseBytes ?? MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES),
    );
  }

  /** Resolves `destination`, checks the address policy, signs, and picks the agent: everything but the sending. */
  private async prepare(
    destination: string,
    method: string,
    path: string,
    body: unknown,
    options: RequestOptions,
    accept = 'application/json',
  ): Promise<SendOptions> {
    const guard = this.guardFor(destination);
    const { target, agent } = isLanServerName(destination) ? await this.lanRoute(destination, guard) : await this.dnsRoute(destination, guard);
    const headers: Record<string, string> = { host: target.hostHeader, accept };
    if (options.signed !== false) {
      headers.authorization = signRequest({ method, uri: path, origin: this.opts.serverName, destination, content: body }, this.opts.signingKey);
    }
    return {
      agent,
      host: target.host,
      port: target.port,
      method,
      path,
      headers,
      // No SNI for an IP literal (the spec's "TLS" section).
      servername: isIP(target.tlsServerName) ? undefined : target.tlsServerName,
      lookup: guard.lookup,
    };
  }

  /** A name found by the spec's server discovery: its address, checked by the policy, and its agent. */
  private async dnsRoute(destination: string, guard: ConnectGuard): Promise<{ target: ResolvedServer; agent: https.Agent }> {
    let target: ResolvedServer;
    try {
      target = await this.resolver.resolveServer(destination);
    } catch (err) {
      throw unreachable(destination, 'network', `cannot resolve: ${(err as Error).message}`);
    }
    const refused = guard.refusal(target.host);
    if (refused !== undefined) throw unreachable(destination, 'network', refused);
    const agent = this.trusted.has(destination.toLowerCase()) ? await this.pinnedAgent(destination, target, guard) : this.agentFor(destination);
    return { target, agent };
  }

  /** A key-bound LAN name: only where and as it announced itself (lan-routes.ts). */
  private async lanRoute(destination: string, guard: ConnectGuard): Promise<{ target: ResolvedServer; agent: https.Agent }> {
    try {
      return await this.lanRoutes.route(destination, guard);
    } catch (err) {
      if (err instanceof LanRouteError) throw unreachable(destination, err.kind, err.message);
      throw err;
    }
  }

  /** The address policy of connections made on behalf of `destination` (redirects it sends included). */
  guardFor(destination: string): ConnectGuard {
    return connectGuard(this.policy, destination, (h) => this.resolver.lookup(h));
  }

  /**
   * A GET whose answer is not JSON (media): resolves once the status and headers are in, with the
   * body left to the caller to stream (and to destroy when it stops early). Same ACL, address
   * policy, pinning and backoff as `request`. `timeoutMs` is the longest silence, headers and body
   * alike. Error answers (not 2xx, not 3xx) are read (bounded) and thrown as FederationRequestError.
   */
  async requestStream(destination: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    if (!this.opts.acl.allows(destination)) {
      throw new FederationRequestError(destination, 'forbidden', 403, 'M_FORBIDDEN', `Federation with ${destination} is not allowed`);
    }
    if (this.backoff.isBackingOff(destination)) throw unreachable(destination, 'network', 'backing off after a failure');
    try {
      const send = await this.prepare(destination, 'GET', path, undefined, options, '*/*');
      // The observer knows the federation API: the legacy client media path it must not judge.
      const observe = path.startsWith('/_matrix/federation/') ? this.observer : undefined;
      const res = await openStream(
        destination,
        send,
        options.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        observe && ((status, body) => observe('GET', path, status, body)),
      );
      this.backoff.succeeded(destination);
      return res;
    } catch (err) {
      this.recordFailure(destination, err);
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
    for (const { agent } of this.pinnedAgents.values()) agent.destroy();
    this.pinnedAgents.clear();
    for (const agent of this.privatePeerAgents.values()) agent.destroy();
    this.privatePeerAgents.clear();
    this.lanRoutes.close();
  }

  /** The shared agent for names held to public addresses; a peer's own agent for a private peer. */
  private agentFor(destination: string): https.Agent {
    if (!this.policy.isPrivatePeer(destination)) return this.agent;
    const name = destination.toLowerCase();
    let agent = this.privatePeerAgents.get(name);
    if (agent === undefined) {
      agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
      this.privatePeerAgents.set(name, agent);
    }
    return agent;
  }

  /** The agent that accepts exactly the pinned certificate, pinning on first contact. */
  private async pinnedAgent(destination: string, target: ResolvedServer, guard: ConnectGuard): Promise<https.Agent> {
    let pin = await federationStore.getPinnedCert(this.opts.db.reader, destination);
    if (pin === undefined) pin = await this.pinOnFirstContact(destination, target, guard);
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

  private async pinOnFirstContact(destination: string, target: ResolvedServer, guard: ConnectGuard): Promise<PinnedCertRow> {
    const cert = await readCertificate(target, guard).catch((err: Error) => {
      throw unreachable(destination, 'tls', `cannot pin its certificate: ${err.message}`);
    });
    const pem = certificatePem(cert.raw);
    if (!certCovers(new X509Certificate(cert.raw), target.tlsServerName)) {
      throw unreachable(destination, 'tls', `its certificate is not valid for ${target.tlsServerName}`);
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
  lookup: ConnectGuard['lookup'];
}

function sendJson<T>(
  destination: string,
  o: SendOptions,
  payload: Buffer | undefined,
  timeoutMs: number,
  observe?: (status: number, body: unknown) => void,
  maxBytes = MAX_RESPONSE_BYTES,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (kind: 'network' | 'tls' | 'timeout' | 'bad-response', detail: string) =>
      reject(kind === 'bad-response' ? new FederationRequestError(destination, kind, 502, 'M_UNKNOWN', detail) : unreachable(destination, kind, detail));
    const req = https.request({ ...o, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= maxBytes) return void chunks.push(c);
        // The server answered, too much: a bad answer, not an unreachable server.
        fail('bad-response', `${destination} answered more than ${maxBytes} bytes`);
        req.destroy();
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
        reject(errorAnswer(destination, status, json));
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      fail(failureKind(err), `${destination}: ${err.message}`);
    });
    if (payload !== undefined) req.end(payload);
    else req.end();
  });
}

/** A non-2xx answer as the error it carries: its errcode and error when the body has them. */
function errorAnswer(destination: string, status: number, json: unknown): FederationRequestError {
  const body = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const errcode = typeof body.errcode === 'string' ? body.errcode : 'M_UNKNOWN';
  const error = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
  return new FederationRequestError(destination, 'response', status, errcode, `${destination}: ${error}`, json);
}

/** What kind of failure a request's socket error is: a timeout, a TLS failure, or the network. */
function failureKind(err: NodeJS.ErrnoException): 'timeout' | 'tls' | 'network' {
  const code = err.code ?? '';
  if (code === 'ETIMEDOUT') return 'timeout';
  return /CERT|SELF_SIGNED|TLS|SSL|ERR_TLS/.test(code) || /certificate/i.test(err.message) ? 'tls' : 'network';
}

/** Error bodies of streamed requests are read up to this much: a JSON error is small. */
const MAX_STREAM_ERROR_BYTES = 64 * 1024;

/** Sends a GET and resolves with the response once its headers are in; error answers become FederationRequestError. */
function openStream(destination: string, o: SendOptions, timeoutMs: number, observe?: (status: number, body: unknown) => void): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = https.request({ ...o, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 400) {
        // The body's own failures (a peer that dies half way, silence past the timeout) reach the caller through the stream.
        if (status < 300 && /json/i.test(res.headers['content-type'] ?? '') === false) observe?.(status, undefined);
        return resolve(res);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_STREAM_ERROR_BYTES) req.destroy(new Error('error body too large'));
        else chunks.push(c);
      });
      res.on('error', (err) => reject(unreachable(destination, 'network', `${destination}: ${err.message}`)));
      res.on('end', () => {
        let json: unknown;
        try {
          json = parseBoundedJson(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        observe?.(status, json);
        reject(errorAnswer(destination, status, json));
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(unreachable(destination, failureKind(err), `${destination}: ${err.message}`));
    });
    req.end();
  });
}

/**
 * GET https://<hostname>/.well-known/matrix/server with system CAs, following up to five
 * redirects and refusing loops; any failure or invalid body is `{ ok: false }`. Every hop connects
 * through `guard` (the policy of the name being resolved), redirects to an IP literal included.
 */
export async function fetchWellKnown(hostname: string, guard: ConnectGuard, timeoutMs = 10_000): Promise<WellKnownResult> {
  let url = new URL(`https://${hostname}/.well-known/matrix/server`);
  const seen = new Set<string>();
  for (let hop = 0; hop < 6; hop++) {
    if (seen.has(url.href) || url.protocol !== 'https:') return { ok: false };
    seen.add(url.href);
    // URL keeps an IPv6 literal's brackets in hostname.
    if (guard.refusal(url.hostname.replace(/^\[(.*)\]$/, '$1')) !== undefined) return { ok: false };
    const res = await new Promise<{ status: number; location?: string; cacheControl?: string; text: string }>((resolve, reject) => {
      // agent: false: a pooled socket from another name's fetch must not be reused past the guard.
      const req = https.get(url, { timeout: timeoutMs, lookup: guard.lookup, agent: false }, (r) => {
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
