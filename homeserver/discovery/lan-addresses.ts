// Which announced addresses a LAN peer may be reached at: only those in a subnet of one of our own
// interfaces (a desktop on the office LAN has no business pointing us at the internet or at our
// own loopback), never loopback, unspecified, multicast or IPv6 link-local (which needs a scope).
import { BlockList, isIP } from 'node:net';
import os from 'node:os';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** Our own non-internal interface addresses, sorted: when this changes we announce again. */
export function ownAddresses(ifaces: Interfaces = os.networkInterfaces()): string[] {
  const out: string[] = [];
  for (const list of Object.values(ifaces)) {
    for (const a of list ?? []) if (!a.internal) out.push(a.cidr ?? a.address);
  }
  return out.sort();
}

/** The subnets of our own non-internal interfaces (IPv4 by netmask, IPv6 non-link-local by prefix). */
export function ownSubnets(ifaces: Interfaces = os.networkInterfaces()): BlockList {
  const subnets = new BlockList();
  for (const list of Object.values(ifaces)) {
    for (const a of list ?? []) {
      if (a.internal || a.cidr === null || isUnusable(a.address)) continue;
      const [network, prefix] = a.cidr.split('/');
      try {
        subnets.addSubnet(network!, Number(prefix), a.family === 'IPv4' ? 'ipv4' : 'ipv6');
      } catch {
        // An interface the platform describes oddly is simply not a subnet of ours.
      }
    }
  }
  return subnets;
}

/** The addresses of `announced` a peer may be reached at, IPv4 first, without duplicates. */
export function lanAddresses(announced: readonly string[], subnets: BlockList): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const raw of announced) {
    const address = raw.toLowerCase();
    const family = isIP(address);
    if (family === 0 || isUnusable(address)) continue;
    if (!subnets.check(address, family === 4 ? 'ipv4' : 'ipv6')) continue;
    const list = family === 4 ? v4 : v6;
    if (!list.includes(address)) list.push(address);
  }
  return [...v4, ...v6];
}

const UNUSABLE = new BlockList();
UNUSABLE.addSubnet('127.0.0.0', 8, 'ipv4');
UNUSABLE.addSubnet('0.0.0.0', 8, 'ipv4');
UNUSABLE.addSubnet('224.0.0.0', 4, 'ipv4');
UNUSABLE.addSubnet('255.255.255.255', 32, 'ipv4');
UNUSABLE.addAddress('::1', 'ipv6');
UNUSABLE.addAddress('::', 'ipv6');
UNUSABLE.addSubnet('ff00::', 8, 'ipv6');
UNUSABLE.addSubnet('fe80::', 10, 'ipv6');

function isUnusable(address: string): boolean {
  const family = isIP(address);
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) would smuggle an IPv4 address past the IPv4 checks. (Not a
  // BlockList rule: BlockList matches plain IPv4 addresses against ::ffff:0:0/96 too.)
  if (family === 6 && address.toLowerCase().startsWith('::ffff:')) return true;
  return family === 0 || UNUSABLE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
