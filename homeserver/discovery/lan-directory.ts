// What LAN discovery tells the rest of the server (issue #15): which key-bound desktops
// (protocol/lan-identity.ts) are on the LAN now, where, and with which pinned identity. Federation
// resolves LAN names only through it (never DNS) and accepts only the certificate it names; the
// client API lists it as "people nearby".
import type { LanAnnouncement } from '../protocol/lan-identity.ts';

/** A desktop as announced now, its signature and its pins checked. */
export interface LanPeer extends LanAnnouncement {
  /** Announced addresses that passed the LAN filter, IPv4 first; never empty. */
  addresses: string[];
  /** When an mDNS packet last showed it (ms since the epoch). */
  lastSeenTs: number;
}

/** The identity pinned on first contact (a peer's key is its name; its certificate may not change). */
export interface PinnedPeer {
  serverName: string;
  keyId: string;
  publicKey: string;
  tlsFingerprint: string;
  firstSeenTs: number;
}

/** Something the user should know: an impostor, or a known peer whose certificate changed. */
export interface LanReport {
  serverName: string;
  kind: 'impostor' | 'certificate-changed' | 'bad-announcement';
  /** Human-readable, for logs and the client. */
  detail: string;
  /** The address the announcement came from. */
  from: string;
  ts: number;
}

export interface LanDirectory {
  /** The peer as announced now, or undefined when it is not on the LAN now. */
  present(serverName: string): LanPeer | undefined;
  /** Every peer on the LAN now. */
  presentPeers(): LanPeer[];
  /** True for a LAN name this server has ever pinned (it may be away now): federation may queue for it. */
  isKnown(serverName: string): boolean;
}

/** What this server announces about itself (its name and key come from the signing key). */
export interface OwnAnnouncement {
  /** The federation listener's port. */
  port: number;
  /** certFingerprint() of the federation listener's certificate. */
  tlsFingerprint: string;
  version: string;
  /** Only when the user allowed it. */
  label?: string;
  /** Local parts of the users to show as nearby. */
  users: string[];
}

export interface LanDiscoveryEvents {
  /** A peer appeared (or came back, maybe at other addresses): retry what waits for it now. */
  'peer-up': [peer: LanPeer];
  /** A peer said goodbye or fell silent. */
  'peer-down': [peer: LanPeer];
  /** Anything about the list changed (up, down, addresses, label, users): push it to clients. */
  changed: [];
  report: [report: LanReport];
}

/**
 * LAN discovery (homeserver/discovery/): announces this server over DNS-SD while sharing is on,
 * browses for the others, pins their identity, reports impostors. `start` and `stop` may be called
 * again and again (the user switches sharing on and off); pins and reports stay in SQLite.
 */
export interface LanDiscoveryService extends LanDirectory {
  start(own: OwnAnnouncement): Promise<void>;
  /** Says goodbye and stops browsing; no peer is present afterwards. */
  stop(): Promise<void>;
  /** Announces again with changed fields (label, users, port). */
  update(own: OwnAnnouncement): Promise<void>;
  readonly running: boolean;
  /**
   * Unpins a peer and drops it from the present ones: its next announcement, with whatever
   * certificate it then names, is a first contact. For a user who accepts a changed certificate.
   */
  forget(serverName: string): Promise<void>;
  /** The latest reports, newest first (bounded). */
  reports(): Promise<LanReport[]>;
  on<E extends keyof LanDiscoveryEvents>(event: E, listener: (...args: LanDiscoveryEvents[E]) => void): this;
  off<E extends keyof LanDiscoveryEvents>(event: E, listener: (...args: LanDiscoveryEvents[E]) => void): this;
}
