// Server discovery (server-server-api.md "Resolving server names"): a server name becomes the
// address to connect to, the Host header to send and the name its certificate must prove, by
// exactly the spec's steps. DNS and the .well-known fetch are injected so tests can fake them.
import { promises as dnsPromises, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

export interface ResolvedServer {
  /** What to connect to: an IP literal or a host name for the OS resolver (CNAME, AAAA, A). */
  host: string;
  port: number;
  /** The Host header to send. */
  hostHeader: string;
  /** The name the certificate must be valid for (an IP literal gets no SNI). */
  tlsServerName: string;
}

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** The outcome of fetching `https://<hostname>/.well-known/matrix/server`. */
export type WellKnownResult = { ok: true; server: string; maxAgeMs?: number } | { ok: false };

export interface DiscoveryWorld {
  resolveSrv(name: string): Promise<SrvRecord[]>;
  fetchWellKnown(hostname: string): Promise<WellKnownResult>;
  now(): number;
  /**
   * A host name's addresses (A/AAAA, CNAMEs followed), asked at connect time so that the address
   * policy sees the address connected to; the system's resolver when absent.
   */
  lookup?(hostname: string): Promise<LookupAddress[]>;
}

export const DEFAULT_PORT = 8448;
/** "The recommended sensible default is 24 hours", capped at the recommended 48. */
export const WELL_KNOWN_DEFAULT_MS = 24 * 3600_000;
export const WELL_KNOWN_MAX_MS = 48 * 3600_000;
/** Errors are cached "for up to an hour", backing off exponentially from two minutes. */
const ERROR_FIRST_MS = 2 * 60_000;
const ERROR_MAX_MS = 3600_000;
/** SRV answers: node:dns gives no TTL, so an hour, like a typical record's. */
const SRV_CACHE_MS = 3600_000;

/** Splits `host[:port]` per the server name grammar; IPv6 keeps its brackets off in `host`. */
export function splitServerName(name: string): { host: string; port?: number; bracketed: boolean } {
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    const rest = name.slice(close + 1);
    return { host: name.slice(1, close), port: rest.startsWith(':') ? Number(rest.slice(1)) : undefined, bracketed: true };
  }
  const colon = name.lastIndexOf(':');
  if (colon < 0) return { host: name, bracketed: false };
  return { host: name.slice(0, colon), port: Number(name.slice(colon + 1)), bracketed: false };
}

function ipLiteral(host: string): boolean {
  return isIP(host) !== 0;
}

/** Orders SRV records by priority, then by weight (heaviest first: no randomness, for testability). */
function pickSrv(records: SrvRecord[]): SrvRecord | undefined {
  return [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight)[0];
}

export class ServerResolver {
  private readonly world: DiscoveryWorld;
  private readonly cache = new Map<string, { result: ResolvedServer; until: number }>();
  private readonly wellKnownCache = new Map<string, { result: WellKnownResult; until: number; failures: number }>();

  constructor(world: DiscoveryWorld) {
    this.world = world;
  }

  /** The addresses of `hostname` (a ResolvedServer's `host`), asked when connecting. */
  lookup(hostname: string): Promise<LookupAddress[]> {
    return this.world.lookup ? this.world.lookup(hostname) : systemLookup(hostname);
  }

  async resolveServer(name: string): Promise<ResolvedServer> {
    const now = this.world.now();
    const cached = this.cache.get(name);
    if (cached && cached.until > now) return cached.result;
    const { result, lifetimeMs } = await this.resolveUncached(name);
    this.cache.set(name, { result, until: now + lifetimeMs });
    return result;
  }

  private async resolveUncached(name: string): Promise<{ result: ResolvedServer; lifetimeMs: number }> {
    const { host, port } = splitServerName(name);
    // Step 1: an IP literal, with its port or 8448; Host is the server name as given.
    if (ipLiteral(host)) {
      return { result: { host, port: port ?? DEFAULT_PORT, hostHeader: name, tlsServerName: host }, lifetimeMs: Infinity };
    }
    // Step 2: a host name with an explicit port.
    if (port !== undefined) {
      return { result: { host, port, hostHeader: name, tlsServerName: host }, lifetimeMs: Infinity };
    }
    // Step 3: .well-known.
    const wellKnown = await this.wellKnown(host);
    if (wellKnown.result.ok) {
      const delegated = splitServerName(wellKnown.result.server);
      const lifetimeMs = wellKnown.lifetimeMs;
      const dHost = delegated.host;
      const dName = delegated.bracketed ? `[${dHost}]` : dHost;
      // 3.1: an IP literal, with its port or 8448; Host is the IP (with the port if given).
      if (ipLiteral(dHost)) {
        const hostHeader = delegated.port !== undefined ? `${dName}:${delegated.port}` : dName;
        return { result: { host: dHost, port: delegated.port ?? DEFAULT_PORT, hostHeader, tlsServerName: dHost }, lifetimeMs };
      }
      // 3.2: a host name with a port.
      if (delegated.port !== undefined) {
        return { result: { host: dHost, port: delegated.port, hostHeader: `${dHost}:${delegated.port}`, tlsServerName: dHost }, lifetimeMs };
      }
      // 3.3 and 3.4: SRV for the delegated name; 3.5: port 8448.
      const srv = await this.srv(dHost);
      const srvLifetime = Math.min(lifetimeMs, SRV_CACHE_MS);
      if (srv) return { result: { host: srv.name, port: srv.port, hostHeader: dHost, tlsServerName: dHost }, lifetimeMs: srvLifetime };
      return { result: { host: dHost, port: DEFAULT_PORT, hostHeader: dHost, tlsServerName: dHost }, lifetimeMs: srvLifetime };
    }
    // Steps 4 and 5: SRV for the name itself; step 6: port 8448. Re-resolved when the failed
    // .well-known may be tried again.
    const lifetimeMs = Math.min(wellKnown.lifetimeMs, SRV_CACHE_MS);
    const srv = await this.srv(host);
    if (srv) return { result: { host: srv.name, port: srv.port, hostHeader: host, tlsServerName: host }, lifetimeMs };
    return { result: { host, port: DEFAULT_PORT, hostHeader: host, tlsServerName: host }, lifetimeMs };
  }

  /** `_matrix-fed._tcp` first, then the deprecated `_matrix._tcp`. */
  private async srv(host: string): Promise<SrvRecord | undefined> {
    for (const service of ['_matrix-fed._tcp', '_matrix._tcp']) {
      let records: SrvRecord[];
      try {
        records = await this.world.resolveSrv(`${service}.${host}`);
      } catch {
        records = []; // NXDOMAIN, no records or a DNS failure: try the next step.
      }
      // A target of "." means the service is decidedly not available there (RFC 2782).
      const usable = records.filter((r) => r.name !== '' && r.name !== '.');
      const pick = pickSrv(usable);
      if (pick) return pick;
    }
    return undefined;
  }

  private async wellKnown(host: string): Promise<{ result: WellKnownResult; lifetimeMs: number }> {
    const now = this.world.now();
    const cached = this.wellKnownCache.get(host);
    if (cached && cached.until > now) return { result: cached.result, lifetimeMs: cached.until - now };
    let result: WellKnownResult;
    try {
      result = await this.world.fetchWellKnown(host);
    } catch {
      result = { ok: false };
    }
    let lifetimeMs: number;
    let failures = 0;
    if (result.ok) {
      lifetimeMs = Math.min(result.maxAgeMs ?? WELL_KNOWN_DEFAULT_MS, WELL_KNOWN_MAX_MS);
    } else {
      failures = (cached?.failures ?? 0) + 1;
      lifetimeMs = Math.min(ERROR_FIRST_MS * 2 ** (failures - 1), ERROR_MAX_MS);
    }
    this.wellKnownCache.set(host, { result, until: now + lifetimeMs, failures });
    return { result, lifetimeMs };
  }
}

/** Parses a .well-known/matrix/server body; an invalid one counts as an error (step 3: "skip to step 4"). */
export function parseWellKnownBody(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const server = (body as Record<string, unknown>)['m.server'];
  if (typeof server !== 'string' || server === '') return undefined;
  // The delegated name follows the server name grammar.
  const { host, port } = splitServerName(server);
  if (host === '' || (port !== undefined && !(Number.isInteger(port) && port > 0 && port <= 65535))) return undefined;
  return server;
}

/** Cache-Control max-age in ms; no-store/no-cache count as zero. Undefined when absent. */
export function maxAgeMs(cacheControl: string | undefined): number | undefined {
  if (!cacheControl) return undefined;
  if (/(^|,)\s*no-(store|cache)\b/i.test(cacheControl)) return 0;
  const m = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl);
  return m ? Number(m[1]) * 1000 : undefined;
}

export const systemSrv = (name: string): Promise<SrvRecord[]> => dnsPromises.resolveSrv(name);

export const systemLookup = (hostname: string): Promise<LookupAddress[]> => dnsPromises.lookup(hostname, { all: true });
