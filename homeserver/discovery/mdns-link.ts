// Our one mDNS socket (bonjour-service over multicast-dns): publishes our service, asks who is
// there, hands every response packet to the browser, and says goodbye. Never throws at its user:
// send failures (no route, interface gone) and socket errors are logged, as the library's default
// error callback would throw them.
import { Bonjour } from 'bonjour-service';
import type { Logger } from '../log/logger.ts';
import { SERVICE, SERVICE_TYPE, type MdnsPacket } from './mdns-records.ts';

interface MulticastDns {
  on(event: 'response', listener: (packet: MdnsPacket, rinfo: { address: string }) => void): unknown;
  on(event: 'warning' | 'error', listener: (err: Error) => void): unknown;
  query(name: string, type: string, cb?: (err?: Error | null) => void): void;
}

export interface PublishOptions {
  serverName: string;
  port: number;
  txt: Record<string, string>;
}

/** How long stop() waits for the goodbye to leave before closing the socket anyway. */
const GOODBYE_TIMEOUT_MS = 1_000;

export class MdnsLink {
  private readonly bonjour: Bonjour;
  private readonly mdns: MulticastDns;
  private readonly log: Logger;

  constructor(opts: { interface?: string }, log: Logger, onResponse: (packet: MdnsPacket, from: string) => void) {
    this.log = log;
    const report = (err: unknown) => log('LAN discovery: mDNS error', err);
    // The options go to multicast-dns (bonjour-service types them as a service's, wrongly). It
    // binds its socket to `interface` too, and on Linux a socket bound to a unicast address hears
    // no multicast: bind to any address, send and join the group on the interface asked for.
    const mdnsOptions = opts.interface ? { interface: opts.interface, bind: '0.0.0.0' } : {};
    this.bonjour = new Bonjour(mdnsOptions as object, report);
    this.mdns = (this.bonjour as unknown as { server: { mdns: MulticastDns } }).server.mdns;
    this.mdns.on('error', report);
    this.mdns.on('warning', (err) => log(`LAN discovery: mDNS warning: ${err.message}`));
    this.mdns.on('response', (packet, rinfo) => {
      try {
        onResponse(packet, rinfo.address);
      } catch (err) {
        // A packet we failed to read must not take the server down.
        log('LAN discovery: an mDNS packet could not be read', err);
      }
    });
  }

  /**
   * Announces our service. The SRV target and A/AAAA name are our server name: every network
   * namespace (and many machines) share `os.hostname()`, bonjour's default. No probing (RFC 6762
   * 8.1): the instance name is bound to our key so nobody else may hold it, and a probe would
   * only let anyone who answers it silence us.
   */
  publish(p: PublishOptions): void {
    const label = p.serverName.slice(0, p.serverName.indexOf('.'));
    this.bonjour.publish({ name: label, type: SERVICE_TYPE, protocol: 'tcp', port: p.port, host: p.serverName, txt: p.txt, probe: false });
  }

  /** Asks every Hearth on the LAN to answer with its announcement. */
  query(): void {
    this.mdns.query(SERVICE, 'PTR', (err) => {
      if (err) this.log(`LAN discovery: query not sent: ${err.message}`);
    });
  }

  /** Sends goodbyes for what we published (bounded wait), then closes the socket. */
  async close(goodbye: boolean): Promise<void> {
    if (goodbye) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, GOODBYE_TIMEOUT_MS);
        try {
          this.bonjour.unpublishAll(() => {
            clearTimeout(timer);
            resolve();
          });
        } catch (err) {
          this.log('LAN discovery: goodbye not sent', err);
          clearTimeout(timer);
          resolve();
        }
      });
    }
    await new Promise<void>((resolve) => {
      try {
        this.bonjour.destroy(() => resolve());
      } catch (err) {
        this.log('LAN discovery: mDNS socket not closed cleanly', err);
        resolve();
      }
    });
  }
}
