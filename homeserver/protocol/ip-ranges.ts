// Which IP addresses are public, for outbound federation (issue #13, class 5: server-side request
// forgery). A server name from a request must not make us connect to loopback, the LAN or any
// other address that is not on the public internet. The list follows the IANA special-purpose
// registries (RFC 6890 and its updates) and Synapse's default `ip_range_blacklist`, and also looks
// inside the IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4), so that
// `::ffff:127.0.0.1` or `2002:7f00:1::` is as private as `127.0.0.1`.
import { isIPv4, isIPv6 } from 'node:net';

interface Range {
  /** The first address of the range, as a number (32 bits for IPv4, 128 for IPv6). */
  base: bigint;
  bits: number;
  why: string;
}

/** IPv4 ranges that are not public: RFC 6890 and Synapse's default list. */
const V4_RANGES: readonly Range[] = [
  range4('0.0.0.0/8', 'this network (RFC 1122)'),
  range4('10.0.0.0/8', 'private (RFC 1918)'),
  range4('100.64.0.0/10', 'carrier-grade NAT (RFC 6598)'),
  range4('127.0.0.0/8', 'loopback'),
  range4('169.254.0.0/16', 'link-local'),
  range4('172.16.0.0/12', 'private (RFC 1918)'),
  range4('192.0.0.0/24', 'IETF protocol assignments'),
  range4('192.0.2.0/24', 'documentation (TEST-NET-1)'),
  range4('192.88.99.0/24', '6to4 relay anycast (deprecated)'),
  range4('192.168.0.0/16', 'private (RFC 1918)'),
  range4('198.18.0.0/15', 'benchmarking (RFC 2544)'),
  range4('198.51.100.0/24', 'documentation (TEST-NET-2)'),
  range4('203.0.113.0/24', 'documentation (TEST-NET-3)'),
  range4('224.0.0.0/4', 'multicast'),
  range4('240.0.0.0/4', 'reserved, and broadcast'),
];

/** IPv6 ranges that are not public, whatever they might embed. */
const V6_RANGES: readonly Range[] = [
  // Unspecified, loopback and the deprecated IPv4-compatible form (::a.b.c.d) all live in ::/96.
  range6('::/96', 'unspecified, loopback or IPv4-compatible (deprecated)'),
  range6('64:ff9b:1::/48', 'local-use NAT64 (RFC 8215)'),
  range6('100::/64', 'discard-only (RFC 6666)'),
  // Teredo tunnels to a client behind NAT whose address is obfuscated; no federation server lives there.
  range6('2001::/32', 'Teredo'),
  range6('2001:2::/48', 'benchmarking (RFC 5180)'),
  range6('2001:10::/28', 'ORCHID'),
  range6('2001:20::/28', 'ORCHIDv2'),
  range6('2001:db8::/32', 'documentation'),
  range6('3fff::/20', 'documentation (RFC 9637)'),
  range6('5f00::/16', 'segment routing SIDs (RFC 9602)'),
  range6('fc00::/7', 'unique local'),
  range6('fe80::/10', 'link-local'),
  range6('fec0::/10', 'site-local (deprecated)'),
  range6('ff00::/8', 'multicast'),
];

/** IPv6 forms that carry an IPv4 address: the address is as public as the IPv4 one inside. */
const EMBEDDING: readonly { range: Range; v4At: number }[] = [
  // ::ffff:a.b.c.d, what a dual-stack socket shows for an IPv4 peer: the IPv4 address is the last 32 bits.
  { range: range6('::ffff:0:0/96', 'IPv4-mapped'), v4At: 0 },
  // NAT64 well-known prefix (RFC 6052): the last 32 bits.
  { range: range6('64:ff9b::/96', 'NAT64'), v4At: 0 },
  // 6to4 (RFC 3056): 2002:AABB:CCDD::/48 carries AA.BB.CC.DD in bits 16 to 48.
  { range: range6('2002::/16', '6to4'), v4At: 80 },
];

/**
 * Why `address` (an IPv4 or IPv6 literal, possibly with an IPv6 zone) is not a public address, or
 * undefined when it is public. Anything that is not an IP literal is "not an IP address".
 */
export function nonPublicReason(address: string): string | undefined {
  const zone = address.indexOf('%');
  // A zone index only makes sense on a link-local or multicast address; the range check says which.
  const ip = zone < 0 ? address : address.slice(0, zone);
  if (isIPv4(ip) && zone < 0) return reasonV4(parseV4(ip));
  if (isIPv6(ip)) return reasonV6(parseV6(ip));
  return 'not an IP address';
}

/** True when `address` is a public unicast address: not loopback, private, link-local, ... */
export function isPublicAddress(address: string): boolean {
  return nonPublicReason(address) === undefined;
}

function reasonV4(n: bigint): string | undefined {
  return V4_RANGES.find((r) => inRange(n, r, 32))?.why;
}

function reasonV6(n: bigint): string | undefined {
  for (const { range, v4At } of EMBEDDING) {
    if (!inRange(n, range, 128)) continue;
    const inner = reasonV4((n >> BigInt(v4At)) & 0xffff_ffffn);
    return inner === undefined ? undefined : `${range.why} of ${inner}`;
  }
  return V6_RANGES.find((r) => inRange(n, r, 128))?.why;
}

function inRange(n: bigint, r: Range, width: number): boolean {
  const shift = BigInt(width - r.bits);
  return n >> shift === r.base >> shift;
}

function range4(cidr: string, why: string): Range {
  const [ip, bits] = cidr.split('/') as [string, string];
  return { base: parseV4(ip), bits: Number(bits), why };
}

function range6(cidr: string, why: string): Range {
  const [ip, bits] = cidr.split('/') as [string, string];
  return { base: parseV6(ip), bits: Number(bits), why };
}

/** A dotted quad (already checked by isIPv4) as a 32-bit number. */
function parseV4(ip: string): bigint {
  return ip.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

/** An IPv6 literal (already checked by isIPv6), with `::` and a trailing dotted quad, as a 128-bit number. */
function parseV6(ip: string): bigint {
  let text = ip.toLowerCase();
  let tail: bigint[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = parseV4(text.slice(lastColon + 1));
    tail = [v4 >> 16n, v4 & 0xffffn];
    const prefix = text.slice(0, lastColon + 1);
    text = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const [head, rest] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => BigInt(parseInt(g, 16))));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const missing = 8 - left.length - right.length - tail.length;
  const all = [...left, ...Array<bigint>(rest === undefined ? 0 : missing).fill(0n), ...right, ...tail];
  return all.reduce((n, g) => (n << 16n) | g, 0n);
}
