// The address a client is limited by. One IPv4 address is one client; IPv6 hands a whole /64 to
// one host or home (RFC 4291, 2.5.1: interface ids are 64 bits), so its owner could take a new
// address per request: the /64 is the client.
import { isIPv4, isIPv6 } from 'node:net';

export function clientAddress(ip: string): string {
  const bare = ip.replace(/%.*$/, '');
  // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (!isIPv6(bare)) return bare;
  return `${expandIPv6(bare).slice(0, 4).join(':')}::/64`;
}

/**
 * The address of the peer as a person reads it (GET /devices' last_seen_ip): an IPv4 client of a
 * dual-stack listener as plain a.b.c.d, an IPv6 address whole (not its /64) and without its zone.
 */
export function peerAddress(ip: string): string {
  const bare = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  return mapped && isIPv4(mapped[1]!) ? mapped[1]! : bare;
}

/** The eight 16-bit groups of an IPv6 address, lowercase without leading zeros. */
function expandIPv6(ip: string): string[] {
  const [head = '', tail] = ip.toLowerCase().split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  // A trailing dotted quad (::1.2.3.4) stands for two groups; only the first four groups matter here.
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail).flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const zeros = tail === undefined ? [] : Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...zeros, ...right].map((g) => (g.includes('.') ? '0' : g.replace(/^0+(?=.)/, '')));
}
