// LAN discovery's entry point (issue #15): the options and the interface the rest of the server
// codes against; the mDNS implementation is lan-discovery.ts.
import type { Database } from '../storage/database.ts';
import type { SigningKey } from '../protocol/signing-key.ts';
import type { Logger } from '../log/logger.ts';
import type { LanDiscoveryService } from './lan-directory.ts';
import { LanDiscovery } from './lan-discovery.ts';

export type { LanDiscoveryService, LanDirectory, LanPeer, LanReport, OwnAnnouncement } from './lan-directory.ts';

export interface LanDiscoveryOptions {
  db: Database;
  serverName: string;
  signingKey: SigningKey;
  log: Logger;
  /** multicast-dns options (tests pin the interface). */
  mdns?: { interface?: string };
  now?: () => number;
  /** How often to ask the LAN who is there. */
  queryIntervalMs?: number;
  /** A peer silent this long is gone. */
  silenceMs?: number;
}

/**
 * Discovery for the server named by `opts.signingKey` (the name must be its key-bound LAN name).
 * Pinned peers load from the database at once (isKnown answers from them even while stopped);
 * nothing is sent or received until start().
 */
export function createLanDiscovery(opts: LanDiscoveryOptions): LanDiscoveryService {
  return new LanDiscovery(opts);
}
