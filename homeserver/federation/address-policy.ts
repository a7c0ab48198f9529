// Where outbound federation may connect (issue #13, class 5: server-side request forgery). Server
// names come from requests (an X-Matrix origin, a user id, an alias, a key query), so without a
// rule anyone could make Hearth connect to loopback or the LAN and learn from the answer time
// which ports are open. The rule: public addresses only, except for
//  - names the user configured (federation.trust_self_signed, federation.allow and
//    federation.private_peers): any address, the user vouched for them;
//  - key-bound LAN names (protocol/lan-identity.ts): ONLY the addresses the peer announces now
//    (LanDirectory.present), public or not, and never loopback unless the name is configured.
// It is checked on the address actually connected to (see guarded-connect.ts), so a public name
// that resolves to 127.0.0.1 (DNS rebinding) is refused too.
import { nonPublicReason } from '../protocol/ip-ranges.ts';
import { isLanServerName } from '../protocol/lan-identity.ts';
import type { LanDirectory } from '../discovery/lan-directory.ts';

export class AddressPolicy {
  private readonly configured: Set<string>;
  private readonly lan: LanDirectory | undefined;

  /** `lan`: where LAN discovery says key-bound desktops are now; without it no LAN name is reachable. */
  constructor(configuredPeers: Iterable<string> = [], lan?: LanDirectory) {
    this.configured = new Set([...configuredPeers].map(normalize));
    this.lan = lan;
  }

  /** True when `serverName` may be reached at some non-public address (configured or announced). */
  isPrivatePeer(serverName: string): boolean {
    const name = normalize(serverName);
    return this.configured.has(name) || (isLanServerName(name) && this.lan?.present(name) !== undefined);
  }

  /** Why connecting to `address` on behalf of `serverName` is refused, or undefined when allowed. */
  refusal(serverName: string, address: string): string | undefined {
    if (isLanServerName(serverName)) return this.lanRefusal(serverName, address);
    const reason = nonPublicReason(address);
    if (reason === undefined) return undefined;
    const name = normalize(serverName);
    if (this.configured.has(name)) return undefined;
    return `${address} is not a public address (${reason}) and ${serverName} is not a configured or discovered peer`;
  }

  /**
   * A desktop's name says nothing about where it is: only the addresses it announces now are its
   * own. Discovery never accepts a loopback announcement; a configured name may still be on
   * loopback (several servers on one machine, the tests).
   */
  private lanRefusal(serverName: string, address: string): string | undefined {
    const name = normalize(serverName);
    const addr = normalizeAddress(address);
    const announced = this.lan?.present(name)?.addresses.map(normalizeAddress) ?? [];
    if (!announced.includes(addr)) return `${address} is not an address ${serverName} announces on the LAN now`;
    if (isLoopback(addr) && !this.configured.has(name)) return `${address} is loopback and ${serverName} is not a configured peer`;
    return undefined;
  }
}

function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}

/** Server names compare case-insensitively, as DNS does (the same rule as ServerAcl). */
function normalize(name: string): string {
  return name.toLowerCase();
}

/** `::FFFF:10.0.0.1` and `::ffff:10.0.0.1` are one address; a dual-stack socket reports the latter. */
function normalizeAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}
