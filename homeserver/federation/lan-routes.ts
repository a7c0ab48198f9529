// How outbound federation reaches a key-bound LAN name (protocol/lan-identity.ts, issue #15): only
// from what LAN discovery saw it announce (LanDirectory.present), never DNS or .well-known; not
// at all when it is not announced now. Its certificate must be the one its signed announcement
// names (discovery has checked that against the fingerprint pinned on first sight); each peer gets
// its own keep-alive agent whose only trust anchor is that certificate. A peer on several networks
// (Wi-Fi and Ethernet) announces several addresses: the first that answers is used until a
// request to it gets no answer.
import https from 'node:https';
import tls, { type PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { LanDirectory } from '../discovery/lan-directory.ts';
import { certFingerprint } from '../protocol/lan-identity.ts';
import type { ResolvedServer } from './discovery.ts';
import type { ConnectGuard } from './guarded-connect.ts';
import { certificatePem, readCertificate } from './peer-certificate.ts';
import { certCovers } from './tls.ts';

/**
 * LAN peers' agents kept at most (oldest made first dropped, its idle sockets closed): discovery
 * keeps at most 256 peers present, and a peer that left and came back just gets a new agent.
 */
export const MAX_LAN_AGENTS = 256;

/** Why a LAN peer could not be reached; the client turns it into its `unreachable` error. */
export class LanRouteError extends Error {
  readonly kind: 'network' | 'tls';
  constructor(kind: 'network' | 'tls', message: string) {
    super(message);
    this.name = 'LanRouteError';
    this.kind = kind;
  }
}

interface Route {
  fingerprint: string;
  agent: https.Agent;
  /** The announced address that answered; undefined once a request to it got no answer. */
  address: string | undefined;
}

export class LanRoutes {
  private readonly lan: LanDirectory | undefined;
  private readonly routes = new Map<string, Route>();

  constructor(lan: LanDirectory | undefined) {
    this.lan = lan;
  }

  /** Where to send a request to `destination` and with which agent; throws LanRouteError. */
  async route(destination: string, guard: ConnectGuard): Promise<{ target: ResolvedServer; agent: https.Agent }> {
    const name = destination.toLowerCase();
    const peer = this.lan?.present(name);
    if (peer === undefined || peer.addresses.length === 0) throw new LanRouteError('network', 'not on the LAN now');
    const at = (host: string): ResolvedServer => ({ host, port: peer.port, hostHeader: destination, tlsServerName: destination });
    const fingerprint = peer.tlsFingerprint;
    let route = this.routes.get(name);
    if (route && route.fingerprint === fingerprint && route.address !== undefined && peer.addresses.includes(route.address)) {
      if (guard.refusal(route.address) === undefined) return { target: at(route.address), agent: route.agent };
    }
    // The first announced address that serves the announced certificate (another machine may
    // hold an address the peer left); nothing is sent before the certificate is checked.
    const failures: string[] = [];
    let wrongCertificate: string | undefined;
    let found: { address: string; cert: PeerCertificate } | undefined;
    for (const address of peer.addresses) {
      const refused = guard.refusal(address);
      if (refused !== undefined) {
        failures.push(refused);
        continue;
      }
      let cert: PeerCertificate;
      try {
        cert = await readCertificate(at(address), guard);
      } catch (err) {
        failures.push(`${address}: ${(err as Error).message}`);
        continue;
      }
      const served = certFingerprint(cert.raw);
      if (served === fingerprint) {
        found = { address, cert };
        break;
      }
      wrongCertificate = `its certificate is not the one it announced on the LAN (${address} serves ${served}, announced ${fingerprint})`;
    }
    if (found === undefined) {
      if (wrongCertificate !== undefined) throw new LanRouteError('tls', wrongCertificate);
      throw new LanRouteError('network', `no announced address answered (${failures.join('; ')})`);
    }
    if (!certCovers(new X509Certificate(found.cert.raw), destination)) throw new LanRouteError('tls', `its certificate is not valid for ${destination}`);
    // Another request may have routed it while this one read the certificate.
    route = this.routes.get(name);
    if (route && route.fingerprint === fingerprint) {
      route.address = found.address;
    } else {
      route?.agent.destroy();
      route = { fingerprint, agent: agentTrusting(found.cert, fingerprint, destination), address: found.address };
    }
    // Re-inserted, so the map's order is the order of last (re)routing.
    this.routes.delete(name);
    this.routes.set(name, route);
    if (this.routes.size > MAX_LAN_AGENTS) {
      const [oldest, dropped] = this.routes.entries().next().value!;
      dropped.agent.destroy();
      this.routes.delete(oldest);
    }
    return { target: at(found.address), agent: route.agent };
  }

  /** A request to `destination` got no answer: look for an address that answers next time. */
  failed(destination: string): void {
    const route = this.routes.get(destination.toLowerCase());
    if (route) route.address = undefined;
  }

  close(): void {
    for (const { agent } of this.routes.values()) agent.destroy();
    this.routes.clear();
  }
}

/** An agent whose only trust anchor is `cert`, and which refuses any other certificate by fingerprint too. */
function agentTrusting(cert: PeerCertificate, fingerprint: string, destination: string): https.Agent {
  return new https.Agent({
    keepAlive: true,
    maxSockets: 16,
    ca: [certificatePem(cert.raw)],
    checkServerIdentity: (host: string, c: PeerCertificate) => {
      if (certFingerprint(c.raw) !== fingerprint) return new Error(`certificate of ${destination} is not the one it announced on the LAN`);
      return tls.checkServerIdentity(host, c);
    },
  });
}
