// Reads what DNS-SD (RFC 6763) over mDNS (RFC 6762) says about `_hearth._tcp` services in one
// response packet. Each packet is read on its own: a service is only taken from a packet that holds
// its PTR, SRV, TXT and the SRV target's addresses together (as every announcement and every answer
// to our PTR query does), so nothing one sender says can be merged with what another said.

export const SERVICE_TYPE = 'hearth';
export const SERVICE = `_${SERVICE_TYPE}._tcp.local`;

/** A resource record as multicast-dns (dns-packet) decodes it; only what we read. */
export interface MdnsRecord {
  name: string;
  type: string;
  ttl?: number;
  data?: unknown;
}

export interface MdnsPacket {
  answers?: MdnsRecord[];
  additionals?: MdnsRecord[];
}

/** One service instance as a packet describes it. */
export interface AnnouncedService {
  /** `<instance>._hearth._tcp.local` */
  fqdn: string;
  target: string;
  port: number;
  txt: Record<string, string>;
  /** The A/AAAA records of `target` in the same packet. */
  addresses: string[];
}

const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function recordsOf(packet: MdnsPacket): MdnsRecord[] {
  const all = [...(Array.isArray(packet.answers) ? packet.answers : []), ...(Array.isArray(packet.additionals) ? packet.additionals : [])];
  return all.filter((rr) => rr !== null && typeof rr === 'object' && typeof rr.name === 'string' && typeof rr.type === 'string');
}

/** Instances that said goodbye (RFC 6762 10.1: a PTR record with TTL 0). */
export function goodbyes(packet: MdnsPacket): string[] {
  return recordsOf(packet)
    .filter((rr) => rr.type === 'PTR' && rr.ttl === 0 && eq(rr.name, SERVICE) && typeof rr.data === 'string')
    .map((rr) => (rr.data as string).toLowerCase());
}

/** Services announced (TTL > 0) with their SRV and TXT records present in the packet. */
export function announcedServices(packet: MdnsPacket): AnnouncedService[] {
  const live = recordsOf(packet).filter((rr) => typeof rr.ttl === 'number' && rr.ttl > 0);
  const out: AnnouncedService[] = [];
  for (const ptr of live) {
    if (ptr.type !== 'PTR' || !eq(ptr.name, SERVICE) || typeof ptr.data !== 'string') continue;
    const fqdn = ptr.data;
    const srv = live.find((rr) => rr.type === 'SRV' && eq(rr.name, fqdn));
    const txt = live.find((rr) => rr.type === 'TXT' && eq(rr.name, fqdn));
    const srvData = srv?.data as { target?: unknown; port?: unknown } | undefined;
    if (!srvData || typeof srvData.target !== 'string' || typeof srvData.port !== 'number' || !txt) continue;
    const target = srvData.target;
    out.push({ fqdn: fqdn.toLowerCase(), target: target.toLowerCase(), port: srvData.port, txt: decodeTxt(txt.data), addresses: hostAddresses(live, target) });
    if (out.length >= MAX_SERVICES_PER_PACKET) break;
  }
  return out;
}

/** A/AAAA records per host name in the packet (lower case), for peers that announce only a new address. */
export function addressRecords(packet: MdnsPacket): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const rr of recordsOf(packet)) {
    if ((rr.type !== 'A' && rr.type !== 'AAAA') || typeof rr.data !== 'string' || !(typeof rr.ttl === 'number' && rr.ttl > 0)) continue;
    const host = rr.name.toLowerCase();
    hosts.set(host, [...(hosts.get(host) ?? []), rr.data]);
  }
  return hosts;
}

/** An mDNS packet holds at most ~9 KB; no honest one describes more Hearths than this. */
const MAX_SERVICES_PER_PACKET = 32;

function hostAddresses(records: MdnsRecord[], host: string): string[] {
  return records.filter((rr) => (rr.type === 'A' || rr.type === 'AAAA') && eq(rr.name, host) && typeof rr.data === 'string').map((rr) => rr.data as string);
}

/**
 * RFC 6763 6.3-6.4: each string is `key=value`; keys are case-insensitive and the first occurrence
 * of a key wins. (bonjour-service's own decoder drops empty values such as `u=`.)
 */
export function decodeTxt(data: unknown): Record<string, string> {
  // No prototype: a key such as `__proto__` is just a key.
  const out = Object.create(null) as Record<string, string>;
  const strings = Array.isArray(data) ? data : [data];
  for (const s of strings) {
    if (!Buffer.isBuffer(s)) continue;
    const text = s.toString('utf8');
    const eqAt = text.indexOf('=');
    if (eqAt <= 0) continue;
    const key = text.slice(0, eqAt).toLowerCase();
    if (!Object.hasOwn(out, key)) out[key] = text.slice(eqAt + 1);
  }
  return out;
}
