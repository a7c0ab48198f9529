// One POST to a push gateway (push_gateway.yaml /_matrix/push/v1/notify), under the address
// policy for gateways: a pusher's URL is chosen by a client, so without a rule any user could
// make Hearth post to loopback or the LAN (server-side request forgery, as for federation in
// federation/address-policy.ts). Gateways are public services, so only public addresses are
// allowed, except for the host names configured in `pusher_private_gateways`. The address is
// checked where the socket connects (the `lookup` option), so a name that resolves to a public
// address once and to 127.0.0.1 later is refused too; an IP literal is checked before connecting.
import https from 'node:https';
import { createRequire } from 'node:module';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { nonPublicReason } from '../protocol/ip-ranges.ts';

// node:http through require(), not import: an ESM import builds a facade that reads every export,
// and one of them loads undici, about 60 ms of every start (as in homeserver/index.ts).
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

/**
 * A gateway that has not answered in 15 s is counted as failed and tried again later: gateways
 * answer in well under a second, and a slow one must not hold a pusher's queue for long.
 */
export const GATEWAY_TIMEOUT_MS = 15_000;
/** A gateway's answer is `{"rejected": [pushkeys]}`; 64 KiB holds hundreds of pushkeys of 512 bytes. */
export const MAX_GATEWAY_ANSWER_BYTES = 64 * 1024;

export type GatewayResult =
  | { ok: true; rejected: string[] }
  /** `permanent`: trying again cannot help (the address is refused, or the URL is unusable). */
  | { ok: false; permanent: boolean; reason: string };

export class GatewayPolicy {
  private readonly privateHosts: Set<string>;

  constructor(privateHosts: Iterable<string> = []) {
    this.privateHosts = new Set([...privateHosts].map(bare));
  }

  /** Why connecting to `address` for the gateway host `host` is refused, or undefined. */
  refusal(host: string, address: string): string | undefined {
    const reason = nonPublicReason(address);
    if (reason === undefined || this.privateHosts.has(bare(host))) return undefined;
    return `${address} is not a public address (${reason}) and ${host} is not in pusher_private_gateways`;
  }

  /** A `lookup` for http(s).request that drops the addresses the policy refuses. */
  lookupFor(host: string): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { all: true }, (err, found: LookupAddress[]) => {
        if (err) return callback(err, '', 0);
        const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
        const allowed = wanted.filter((a) => this.refusal(host, a.address) === undefined);
        if (allowed.length === 0) {
          const refused = wanted.map((a) => this.refusal(host, a.address)).find((r) => r !== undefined);
          return callback(Object.assign(new Error(refused ?? `${hostname} has no address`), { code: refused ? 'EADDRREFUSED' : 'ENOTFOUND' }), '', 0);
        }
        if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, allowed);
        else callback(null, allowed[0]!.address, allowed[0]!.family);
      });
    };
  }
}

/** A host as compared: lower case, an IPv6 literal without its brackets. */
function bare(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, '');
}

/** Posts `body` to the gateway at `url`; never throws. */
export function postToGateway(policy: GatewayPolicy, url: URL, body: unknown): Promise<GatewayResult> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) {
    const refused = policy.refusal(host, host);
    if (refused) return Promise.resolve({ ok: false, permanent: true, reason: refused });
  }
  const payload = Buffer.from(JSON.stringify(body));
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: GatewayResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
        lookup: policy.lookupFor(host),
        timeout: GATEWAY_TIMEOUT_MS,
        // A pooled socket would skip `lookup` on reuse; each push connects afresh.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_GATEWAY_ANSWER_BYTES) {
            req.destroy();
            done({ ok: false, permanent: false, reason: `answer larger than ${MAX_GATEWAY_ANSWER_BYTES} bytes` });
          } else chunks.push(c);
        });
        res.on('error', (err) => done({ ok: false, permanent: false, reason: err.message }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) return done({ ok: false, permanent: false, reason: `HTTP ${status}` });
          done({ ok: true, rejected: rejectedOf(Buffer.concat(chunks).toString('utf8')) });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy();
      done({ ok: false, permanent: false, reason: `no answer in ${GATEWAY_TIMEOUT_MS} ms` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, permanent: false, reason: err.message }));
    req.end(payload);
  });
}

/** The `rejected` pushkeys of a gateway's 200 answer; an answer without them rejects nothing. */
function rejectedOf(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as { rejected?: unknown };
    return Array.isArray(parsed.rejected) ? parsed.rejected.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return [];
  }
}
