// The address policy applied where a socket is opened (issue #13, class 5). Node calls the
// `lookup` option of net/tls/https at connect time, so the check sees the address actually
// connected to: a name that resolved to a public address for discovery and to 127.0.0.1 a second
// later (DNS rebinding) is still refused. Node skips `lookup` for an IP literal host, so those are
// checked before connecting (`refusal`).
import { isIP, type LookupFunction } from 'node:net';
import type { LookupAddress } from 'node:dns';
import type { AddressPolicy } from './address-policy.ts';

/** Resolves a host name to all its addresses (the system's resolver, or a fake world's in tests). */
export type ResolveAddresses = (hostname: string) => Promise<LookupAddress[]>;

/** The error a refused connection fails with; callers report it exactly as an unreachable server. */
export class AddressRefusedError extends Error {
  readonly code = 'EADDRREFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

export interface ConnectGuard {
  /** Why connecting to `host` is refused when it is an IP literal (names are checked by `lookup`). */
  refusal(host: string): string | undefined;
  /** A `lookup` for net/tls/https options that drops the addresses the policy refuses. */
  lookup: LookupFunction;
}

/** The guard for connections made on behalf of `serverName` (the name the request was for). */
export function connectGuard(policy: AddressPolicy, serverName: string, resolve: ResolveAddresses): ConnectGuard {
  return {
    refusal: (host) => (isIP(host) === 0 ? undefined : policy.refusal(serverName, host)),
    lookup: (hostname, options, callback) => {
      resolve(hostname).then(
        (found) => {
          const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
          // Refused addresses are dropped; only when none is left does the connection fail.
          const allowed = wanted.filter((a) => policy.refusal(serverName, a.address) === undefined);
          if (allowed.length === 0) {
            const refused = wanted.map((a) => policy.refusal(serverName, a.address)).find((r) => r !== undefined);
            const err =
              refused === undefined ? Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }) : new AddressRefusedError(refused);
            callback(err, '', 0);
          } else if (options.all) {
            (callback as (err: null, addresses: LookupAddress[]) => void)(null, allowed);
          } else {
            callback(null, allowed[0]!.address, allowed[0]!.family);
          }
        },
        (err: NodeJS.ErrnoException) => callback(err, '', 0),
      );
    },
  };
}
