// LAN discovery's entry point (issue #15). Placeholder until the mDNS implementation lands: the
// options and the returned interface are what the rest of the server codes against.
import type { Database } from '../storage/database.ts';
import type { SigningKey } from '../protocol/signing-key.ts';
import type { Logger } from '../log/logger.ts';
import type { LanDiscoveryService } from './lan-directory.ts';

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

export function createLanDiscovery(_opts: LanDiscoveryOptions): LanDiscoveryService {
  throw new Error('LAN discovery is not implemented yet');
}
