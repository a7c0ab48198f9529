// LAN discovery over DNS-SD/mDNS (issue #15): announces this desktop as `_hearth._tcp`, browses
// for the others, and keeps the directory federation resolves LAN names through. What is believed:
//  - an announcement only if its TXT record is signed by the key its name is bound to
//    (protocol/lan-identity.ts), its SRV target is that name, and the packet came from one of the
//    addresses it announces, all of them in one of our own subnets;
//  - a known name only with the certificate pinned at first contact (else `certificate-changed`);
//    a refused announcement that names a known peer is an `impostor`.
// mDNS itself is unauthenticated: someone on the LAN can replay a peer's signed TXT record from
// its own address, or forge its goodbye. That can hide a peer or point us at a wrong address, never
// make us trust another key or certificate (federation checks both: see lan-directory.ts).
import { EventEmitter } from 'node:events';
import type { BlockList } from 'node:net';
import { announcementTxt, lanServerName, MAX_LABEL_BYTES, MAX_USERS_BYTES, parseAnnouncementTxt, type LanAnnouncement } from '../protocol/lan-identity.ts';
import { encodeUnpaddedBase64 } from '../protocol/base64.ts';
import type { LanDiscoveryOptions } from './index.ts';
import type { LanDiscoveryEvents, LanDiscoveryService, LanPeer, LanReport, OwnAnnouncement } from './lan-directory.ts';
import { lanAddresses, ownAddresses, ownSubnets } from './lan-addresses.ts';
import { MdnsLink } from './mdns-link.ts';
import { addressRecords, announcedServices, goodbyes, type AnnouncedService, type MdnsPacket } from './mdns-records.ts';
import { PeerTrust } from './peer-trust.ts';

/** How often we ask who is there: peers answer, which is how we know they are still there. */
export const DEFAULT_QUERY_INTERVAL_MS = 10_000;
/** A peer silent this long is gone: three queries unanswered, plus margin for a lost packet. */
export const DEFAULT_SILENCE_MS = 35_000;
/** Peers present at once; more is not an office LAN, and each costs memory and /nearby space. */
export const MAX_PRESENT_PEERS = 256;
/** How often our own addresses are checked, to announce the new ones (no portable change event exists). */
export const ADDRESS_POLL_MS = 3_000;

export class LanDiscovery extends EventEmitter implements LanDiscoveryService {
  private readonly opts: LanDiscoveryOptions;
  private readonly serverName: string;
  private readonly trust: PeerTrust;
  private readonly presentByName = new Map<string, LanPeer>();
  private link: MdnsLink | undefined;
  private own: OwnAnnouncement | undefined;
  private subnets: BlockList = ownSubnets();
  private addressesKey = '';
  private timers: NodeJS.Timeout[] = [];
  private tooManyLogged = false;
  /** Counts start() and stop() calls, so that a start() finds out it was stopped while it waited. */
  private runs = 0;

  constructor(opts: LanDiscoveryOptions) {
    super();
    this.opts = opts;
    this.serverName = opts.serverName.toLowerCase();
    if (this.serverName !== lanServerName(opts.signingKey.publicKey)) {
      throw new Error(`LAN discovery needs the server name bound to the signing key (${lanServerName(opts.signingKey.publicKey)}), not ${opts.serverName}`);
    }
    this.trust = new PeerTrust(opts.db, opts.log);
  }

  get running(): boolean {
    return this.own !== undefined;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  present(serverName: string): LanPeer | undefined {
    return this.presentByName.get(serverName.toLowerCase());
  }

  presentPeers(): LanPeer[] {
    return [...this.presentByName.values()];
  }

  isKnown(serverName: string): boolean {
    return this.trust.isKnown(serverName);
  }

  reports(): Promise<LanReport[]> {
    return this.trust.reports();
  }

  async forget(serverName: string): Promise<void> {
    const name = serverName.toLowerCase();
    await this.trust.loaded;
    await this.trust.forget(name);
    const present = this.presentByName.get(name);
    this.presentByName.delete(name);
    if (present !== undefined) this.emit('peer-down', present);
    this.emit('changed');
  }

  async start(own: OwnAnnouncement): Promise<void> {
    if (this.running) return this.update(own);
    this.own = own;
    const run = ++this.runs;
    await this.trust.loaded;
    if (this.runs !== run) return; // stopped meanwhile
    this.openLink();
    const queryMs = this.opts.queryIntervalMs ?? DEFAULT_QUERY_INTERVAL_MS;
    const silenceMs = this.opts.silenceMs ?? DEFAULT_SILENCE_MS;
    this.timers = [
      setInterval(() => this.link?.query(), queryMs),
      setInterval(() => this.dropSilent(silenceMs), Math.max(50, Math.min(1_000, silenceMs / 4))),
      setInterval(() => this.followAddresses(), ADDRESS_POLL_MS),
    ];
    for (const t of this.timers) t.unref();
  }

  async update(own: OwnAnnouncement): Promise<void> {
    if (!this.running) return;
    this.own = own;
    // After start() has opened the link, if it is still on its way (promises resolve in order).
    await this.trust.loaded;
    if (this.running) await this.reopenLink();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.own = undefined;
    this.runs++;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const link = this.link;
    this.link = undefined;
    await link?.close(true);
    const gone = this.presentPeers();
    this.presentByName.clear();
    for (const peer of gone) this.emit('peer-down', peer);
    if (gone.length > 0) this.emit('changed');
  }

  /** Opens the socket, announces (if we can), and asks who is there. */
  private openLink(): void {
    this.subnets = ownSubnets();
    this.addressesKey = ownAddresses().join(' ');
    const txt = this.ownTxt(this.own!);
    let link: MdnsLink | undefined;
    try {
      link = new MdnsLink(this.opts.mdns ?? {}, this.opts.log, (packet, from) => this.onResponse(packet, from));
      if (txt) link.publish({ serverName: this.serverName, port: this.own!.port, txt });
      link.query();
      this.link = link;
    } catch (err) {
      // The address poll tries again.
      this.opts.log('LAN discovery: mDNS not started', err);
      void link?.close(false);
    }
  }

  /**
   * Our signed TXT record. Users are announced as far as they fit, the label cut to its limit:
   * a record peers would refuse would get us reported as a bad announcement everywhere. Undefined
   * (logged) when it still does not read back: we then browse without announcing.
   */
  private ownTxt(own: OwnAnnouncement): Record<string, string> | undefined {
    const key = this.opts.signingKey;
    const users: string[] = [];
    for (const u of own.users) {
      if (Buffer.byteLength([...users, u].join(',')) > MAX_USERS_BYTES) break;
      users.push(u);
    }
    const announcement: LanAnnouncement = {
      serverName: this.serverName,
      port: own.port,
      keyId: key.keyId,
      publicKey: encodeUnpaddedBase64(key.publicKey),
      tlsFingerprint: own.tlsFingerprint,
      version: own.version,
      users,
    };
    if (own.label !== undefined && own.label !== '') {
      let label = own.label;
      while (Buffer.byteLength(label) > MAX_LABEL_BYTES) label = [...label].slice(0, -1).join('');
      announcement.label = label;
    }
    try {
      const txt = announcementTxt(announcement, key);
      const check = parseAnnouncementTxt(txt, own.port);
      if (check.ok) return txt;
      this.opts.log(`LAN discovery: not announcing, our announcement would be refused: ${check.reason}`);
    } catch (err) {
      this.opts.log('LAN discovery: not announcing', err);
    }
    return undefined;
  }

  /**
   * Announces anew (changed fields or addresses). The old socket closes without a goodbye: peers
   * replace what they know of us with the new announcement rather than see us leave and return.
   */
  private async reopenLink(): Promise<void> {
    const old = this.link;
    this.link = undefined;
    await old?.close(false);
    if (this.running && this.link === undefined) this.openLink();
  }

  private followAddresses(): void {
    let key: string;
    try {
      key = ownAddresses().join(' ');
    } catch (err) {
      this.opts.log('LAN discovery: interfaces not read', err);
      return;
    }
    if (key === this.addressesKey && this.link !== undefined) return;
    this.opts.log(`LAN discovery: our addresses are now ${key || 'none'}; announcing again`);
    void this.reopenLink().catch((err: unknown) => this.opts.log('LAN discovery: could not announce again', err));
  }

  private dropSilent(silenceMs: number): void {
    const now = this.now();
    for (const peer of this.presentPeers()) {
      if (now - peer.lastSeenTs > silenceMs) this.down(peer, 'silent');
    }
  }

  private down(peer: LanPeer, why: string): void {
    if (this.presentByName.get(peer.serverName) !== peer) return;
    this.presentByName.delete(peer.serverName);
    this.opts.log(`LAN discovery: ${peer.serverName} left (${why})`);
    this.emit('peer-down', peer);
    this.emit('changed');
  }

  private onResponse(packet: MdnsPacket, from: string): void {
    if (!this.running) return;
    for (const fqdn of goodbyes(packet)) {
      const peer = this.present(`${fqdn.slice(0, fqdn.indexOf('.'))}.local`);
      // Only the peer's own addresses may say it left.
      if (peer && peer.addresses.includes(from)) this.down(peer, 'goodbye');
    }
    const services = announcedServices(packet);
    for (const s of services) this.onAnnouncement(s, from);
    // A packet with only address records for a present peer (its host name) moves it.
    const announcedHosts = new Set(services.map((s) => s.target));
    for (const [host, addresses] of addressRecords(packet)) {
      const peer = this.present(host);
      if (!peer || announcedHosts.has(host)) continue;
      const usable = lanAddresses(addresses, this.subnets);
      if (!usable.includes(from)) continue;
      this.accept(peer, usable);
    }
  }

  private onAnnouncement(s: AnnouncedService, from: string): void {
    const claimed = (s.txt.sn ?? '').toLowerCase();
    if (s.target === this.serverName || claimed === this.serverName) return; // ourselves (multicast loops back)
    const parsed = parseAnnouncementTxt(s.txt, s.port);
    if (!parsed.ok) return this.refuse(claimed || s.target, from, parsed.reason);
    const a = parsed.announcement;
    if (s.target !== a.serverName) return this.refuse(a.serverName, from, `SRV target ${s.target} is not the announced name`);
    const addresses = lanAddresses(s.addresses, this.subnets);
    if (!addresses.includes(from)) {
      // Not a forgery we can prove: an address outside our subnets, or sent from an address it
      // does not announce (another interface, a relay). Not contacted, not reported.
      this.opts.log(
        `LAN discovery: ignored ${a.serverName} from ${from}: it announces ${s.addresses.join(', ') || 'no address'}, usable ${addresses.join(', ') || 'none'}`,
      );
      return;
    }
    const pin = this.trust.pin(a.serverName);
    if (pin && pin.tlsFingerprint !== a.tlsFingerprint) {
      return this.report({
        serverName: a.serverName,
        kind: 'certificate-changed',
        detail: `announces certificate ${a.tlsFingerprint}, pinned ${pin.tlsFingerprint} on ${new Date(pin.firstSeenTs).toISOString()}`,
        from,
        ts: this.now(),
      });
    }
    this.accept(a, addresses);
  }

  /** A valid announcement (or an address update of a present peer): present it, pin it, tell. */
  private accept(a: LanAnnouncement, addresses: string[]): void {
    const prev = this.presentByName.get(a.serverName);
    if (!prev && this.presentByName.size >= MAX_PRESENT_PEERS) {
      if (!this.tooManyLogged) this.opts.log(`LAN discovery: ${MAX_PRESENT_PEERS} peers present; ignoring more`);
      this.tooManyLogged = true;
      return;
    }
    const peer: LanPeer = {
      serverName: a.serverName,
      port: a.port,
      keyId: a.keyId,
      publicKey: a.publicKey,
      tlsFingerprint: a.tlsFingerprint,
      version: a.version,
      users: a.users,
      addresses,
      lastSeenTs: this.now(),
    };
    if (a.label !== undefined) peer.label = a.label;
    this.presentByName.set(peer.serverName, peer);
    const moved = !prev || prev.port !== peer.port || prev.addresses.join() !== peer.addresses.join();
    const changed = moved || prev.label !== peer.label || prev.users.join() !== peer.users.join() || prev.version !== peer.version || prev.keyId !== peer.keyId;
    if (!changed) return;
    this.trust.remember(peer);
    if (moved) {
      this.opts.log(`LAN discovery: ${peer.serverName} is at ${peer.addresses.join(', ')} port ${peer.port}`);
      this.emit('peer-up', peer);
    }
    this.emit('changed');
  }

  private refuse(serverName: string, from: string, reason: string): void {
    const known = this.trust.isKnown(serverName) || this.presentByName.has(serverName);
    this.report({ serverName: serverName.slice(0, 255), kind: known ? 'impostor' : 'bad-announcement', detail: reason, from, ts: this.now() });
  }

  private report(r: LanReport): void {
    if (this.trust.report(r)) this.emit('report', r);
  }

  override on<E extends keyof LanDiscoveryEvents>(event: E, listener: (...args: LanDiscoveryEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override off<E extends keyof LanDiscoveryEvents>(event: E, listener: (...args: LanDiscoveryEvents[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
}
