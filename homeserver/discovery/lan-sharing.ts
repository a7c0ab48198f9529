// LAN sharing (issue #15): the switch that opens the federation listener and announces this server
// on the LAN, or closes both; the run-time setting behind it (persisted, winning over the config
// file once set); and the "people nearby" view the client API serves and pushes as account data.
import { X509Certificate } from 'node:crypto';
import type { Database } from '../storage/database.ts';
import { lanSettingsStore, type LanSettingsRow } from '../storage/lan-settings-store.ts';
import type { HomeserverConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { certFingerprint, MAX_LABEL_BYTES, MAX_USERS_BYTES } from '../protocol/lan-identity.ts';
import type { LanDiscoveryService, LanPeer, OwnAnnouncement } from './lan-directory.ts';
import { MatrixError } from '../http/matrix-error.ts';

/** The account data type (and the unstable namespace) of the people nearby. */
export const NEARBY_ACCOUNT_DATA = 'org.hearth.lan.nearby';

/**
 * Local users whose clients get the list pushed as account data. A desktop has one or a few; a
 * big server that turned LAN sharing on must not rewrite account data for all its users on every
 * change on the LAN, so only the first 100 users to ask are watchers.
 */
export const MAX_NEARBY_WATCHERS = 100;
/** Changes on the LAN come in bursts (a peer's addresses, then its users): one push per second at most. */
export const PUSH_DEBOUNCE_MS = 1000;
/** Remote profiles remembered; a LAN has at most 256 present peers (discovery's bound) with a few users each. */
export const MAX_CACHED_PROFILES = 1024;
/** A remote profile is asked again after this long: display names change rarely. */
export const PROFILE_TTL_MS = 5 * 60_000;
/** GET /nearby waits this long for profiles it has not got yet, then answers without them (a push follows). */
export const PROFILE_WAIT_MS = 1500;
/**
 * Profile queries in flight at once: a LAN may show 256 desktops announcing dozens of users each,
 * and listing them must not open thousands of requests at once; the rest follow as these finish.
 */
export const MAX_PROFILE_FETCHES = 16;
/** Reports shown to clients: the newest; discovery keeps 100. */
export const REPORTS_SHOWN = 20;
/** Local users considered for the announcement (their localparts must fit in MAX_USERS_BYTES anyway). */
const ANNOUNCED_USERS_CONSIDERED = 50;

export interface SharingState {
  enabled: boolean;
  announce_label: boolean;
  policy: 'open' | 'lan';
  domains: string[];
}

export interface SharingChange {
  enabled?: boolean;
  announceLabel?: boolean;
  domains?: string[];
}

/** What the sharing switch controls on the federation side (federation/index.ts). */
export interface SharingFederation {
  listen(): Promise<{ port: number; tlsCert: string }>;
  unlisten(): Promise<void>;
  setDomains(names: string[]): void;
  /** A remote user's profile (query.yaml), or undefined when their server does not answer. */
  profile(userId: string): Promise<{ displayname?: string; avatar_url?: string } | undefined>;
  /** A peer is back: retry what is queued for it now. */
  peerAppeared(serverName: string): void;
}

export interface LanSharingDeps {
  db: Database;
  config: HomeserverConfig;
  /**
   * The server's discovery (made at start; it sends nothing until started), asked for when sharing
   * first goes on; throws when it could not be made.
   */
  discovery: () => LanDiscoveryService;
  federation: SharingFederation;
  /** Writes one global account data item for a local user. */
  putAccountData(userId: string, type: string, content: unknown): Promise<void>;
  version: string;
  log: Logger;
  now?: () => number;
}

interface CachedProfile {
  profile: { displayname?: string; avatar_url?: string };
  fetchedTs: number;
}

export class LanSharing {
  private readonly d: LanSharingDeps;
  private readonly now: () => number;
  private stored: LanSettingsRow = {};
  /** Whether sharing is in effect now (the setting may say on while it could not start). */
  private on = false;
  /** Changes of the switch, one after the other. */
  private chain: Promise<unknown> = Promise.resolve();
  private watchers = new Set<string>();
  private lastPushed = new Map<string, string>();
  private pushTimer: NodeJS.Timeout | undefined;
  private pushing: Promise<void> = Promise.resolve();
  private readonly profiles = new Map<string, CachedProfile>();
  private readonly fetching = new Map<string, Promise<void>>();
  /** A profile was left unfetched (MAX_PROFILE_FETCHES in flight): list again when one finishes. */
  private profilesLeft = false;
  private stopped = false;
  private created: LanDiscoveryService | undefined;
  private readonly onChanged = () => this.schedulePush();
  private readonly onPeerUp = (peer: LanPeer) => {
    this.d.federation.peerAppeared(peer.serverName);
    this.schedulePush();
  };

  constructor(deps: LanSharingDeps) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
  }

  /** Loads the setting and applies it: sharing on opens the listener and announces. */
  async start(): Promise<void> {
    this.stored = await lanSettingsStore.get(this.d.db.reader);
    this.watchers = new Set((await lanSettingsStore.watchers(this.d.db.reader)).map((r) => r.user_id));
    this.d.federation.setDomains(this.state().domains);
    if (!this.state().enabled) return;
    // The server starts anyway (a desktop must open even where the port is taken or mDNS cannot
    // run); sharing stays off until switched again, and GET /nearby says so.
    await this.turnOn().catch((error: unknown) => this.d.log('LAN sharing could not start', error));
  }

  /** Stops announcing (goodbyes) and pushing; the listener is closed by federation's own stop. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pushTimer);
    await this.chain.catch(() => {});
    const discovery = this.created;
    if (discovery !== undefined) {
      discovery.off('changed', this.onChanged);
      discovery.off('report', this.onChanged);
      discovery.off('peer-up', this.onPeerUp);
      if (discovery.running) await discovery.stop();
    }
    await this.pushing;
  }

  get sharing(): boolean {
    return this.on;
  }

  state(): SharingState {
    const lan = this.d.config.lan;
    return {
      enabled: this.stored.sharing ?? lan?.sharing ?? false,
      announce_label: this.stored.announceLabel ?? lan?.announceLabel ?? false,
      policy: this.d.config.federation?.policy ?? 'open',
      domains: this.stored.domains ?? this.d.config.federation?.domains ?? [],
    };
  }

  /** Applies and persists a change; resolves once it is in effect. */
  change(change: SharingChange): Promise<void> {
    const run = this.chain.then(async () => {
      const before = this.state();
      const next: LanSettingsRow = {
        ...(change.enabled !== undefined ? { sharing: change.enabled } : {}),
        ...(change.announceLabel !== undefined ? { announceLabel: change.announceLabel } : {}),
        ...(change.domains !== undefined ? { domains: [...new Set(change.domains)] } : {}),
      };
      const enabled = next.sharing ?? before.enabled;
      const previous = this.stored;
      this.stored = { ...this.stored, ...next };
      // Only a change that names the switch moves it: a domains or label change while sharing is
      // set but could not start (no multicast here) is kept, not turned into a 503 retry.
      const switching = next.sharing !== undefined;
      try {
        if (switching && enabled && !this.on) await this.turnOn();
        else if (switching && !enabled && this.on) await this.turnOff();
        else if (this.on && next.announceLabel !== undefined) await this.discovery().update(await this.ownAnnouncement());
      } catch (error) {
        this.stored = previous;
        throw error;
      }
      await this.d.db.write((tx) => lanSettingsStore.put(tx, next));
      if (next.domains !== undefined) this.d.federation.setDomains(next.domains);
      this.schedulePush();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /** Unpins a LAN peer (the user accepts its changed certificate); its next announcement pins it afresh. */
  async forget(serverName: string): Promise<void> {
    await this.discovery().forget(serverName);
    this.schedulePush();
  }

  /** Our users' local parts and the label, as announced now (e.g. after a user joined the server). */
  refreshAnnouncement(): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.on) await this.discovery().update(await this.ownAnnouncement());
    });
    // Never fails its caller (a profile change, a new account): the next change announces again.
    this.chain = run.catch((error: unknown) => this.d.log('could not announce again', error));
    return this.chain.then(() => {});
  }

  /** Remembers that `userId` wants the list pushed (bounded); the first push follows shortly. */
  async watch(userId: string): Promise<void> {
    if (this.watchers.has(userId)) return;
    const added = await this.d.db.write((tx) => lanSettingsStore.addWatcher(tx, userId, this.now(), MAX_NEARBY_WATCHERS));
    if (!added) return;
    this.watchers.add(userId);
    this.schedulePush();
  }

  /** The people nearby, as GET /nearby answers and the account data carries. */
  async nearby(waitForProfiles = true): Promise<Record<string, unknown>> {
    const peers = this.on ? this.discovery().presentPeers() : [];
    const userIds = peers.flatMap((p) => p.users.map((lp) => `@${lp}:${p.serverName}`));
    const pending = userIds.map((id) => this.profileFetch(id)).filter((p) => p !== undefined);
    if (waitForProfiles && pending.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(pending), new Promise((r) => (timer = setTimeout(r, PROFILE_WAIT_MS)))]);
      clearTimeout(timer);
    }
    // Reports are kept by discovery (in SQLite); before sharing first went on there are none to show.
    const reports = ((await this.created?.reports()) ?? []).slice(0, REPORTS_SHOWN);
    return {
      sharing: this.on,
      server_name: this.d.config.serverName,
      peers: peers.map((p) => ({
        server_name: p.serverName,
        ...(p.label !== undefined ? { label: p.label } : {}),
        version: p.version,
        addresses: p.addresses,
        last_seen_ts: p.lastSeenTs,
        users: p.users.map((lp) => {
          const userId = `@${lp}:${p.serverName}`;
          return { user_id: userId, ...(this.profiles.get(userId)?.profile ?? {}) };
        }),
      })),
      reports: reports.map((r) => ({ server_name: r.serverName, kind: r.kind, detail: r.detail, from: r.from, ts: r.ts })),
    };
  }

  private discovery(): LanDiscoveryService {
    if (this.created === undefined) {
      const discovery = this.d.discovery();
      discovery.on('changed', this.onChanged);
      discovery.on('report', this.onChanged);
      discovery.on('peer-up', this.onPeerUp);
      this.created = discovery;
    }
    return this.created;
  }

  private async turnOn(): Promise<void> {
    try {
      await this.d.federation.listen();
    } catch (error) {
      this.d.log('the federation listener could not open', error);
      throw new MatrixError(503, 'M_UNKNOWN', `The federation listener could not open: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    try {
      await this.discovery().start(await this.ownAnnouncement());
    } catch (error) {
      // Sharing is both or neither: a listener nobody can find is not sharing.
      await this.d.federation.unlisten();
      this.d.log('LAN discovery could not start', error);
      throw new MatrixError(503, 'M_UNKNOWN', 'LAN discovery could not start');
    }
    this.on = true;
  }

  private async turnOff(): Promise<void> {
    this.on = false;
    await this.created?.stop();
    await this.d.federation.unlisten();
  }

  private async ownAnnouncement(): Promise<OwnAnnouncement> {
    const { port, tlsCert } = await this.d.federation.listen();
    const locals = await lanSettingsStore.localUsers(this.d.db.reader, ANNOUNCED_USERS_CONSIDERED);
    const own: OwnAnnouncement = {
      port,
      tlsFingerprint: certFingerprint(new X509Certificate(tlsCert).raw),
      version: this.d.version,
      users: fitUsers(locals.map((u) => u.localpart)),
    };
    const label = locals[0]?.displayname ?? locals[0]?.localpart;
    if (this.state().announce_label && label) own.label = truncateUtf8(label, MAX_LABEL_BYTES);
    return own;
  }

  /** Starts fetching a profile not cached (or stale); undefined when there is nothing to wait for. */
  private profileFetch(userId: string): Promise<void> | undefined {
    const cached = this.profiles.get(userId);
    if (cached && this.now() - cached.fetchedTs < PROFILE_TTL_MS) return undefined;
    const running = this.fetching.get(userId);
    if (running) return running;
    if (this.fetching.size >= MAX_PROFILE_FETCHES) {
      this.profilesLeft = true;
      return undefined;
    }
    const fetch = this.d.federation
      .profile(userId)
      .then((profile) => {
        if (profile === undefined) return;
        const before = JSON.stringify(this.profiles.get(userId)?.profile);
        this.profiles.delete(userId);
        this.profiles.set(userId, { profile, fetchedTs: this.now() });
        // Oldest first in a Map: drop from the front.
        while (this.profiles.size > MAX_CACHED_PROFILES) this.profiles.delete(this.profiles.keys().next().value!);
        if (JSON.stringify(profile) !== before) this.schedulePush();
      })
      .catch((error: unknown) => this.d.log(`could not fetch the profile of ${userId}`, error))
      .finally(() => {
        this.fetching.delete(userId);
        // The next list (a push) starts the profiles left out.
        if (this.profilesLeft) {
          this.profilesLeft = false;
          this.schedulePush();
        }
      });
    this.fetching.set(userId, fetch);
    return fetch;
  }

  private schedulePush(): void {
    if (this.stopped || this.pushTimer !== undefined || this.watchers.size === 0) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      this.pushing = this.pushing.then(() => this.push()).catch((error: unknown) => this.d.log('could not push the people nearby', error));
    }, PUSH_DEBOUNCE_MS);
  }

  private async push(): Promise<void> {
    if (this.stopped) return;
    const content = await this.nearby(false);
    const json = JSON.stringify(content);
    for (const userId of this.watchers) {
      if (this.lastPushed.get(userId) === json) continue;
      await this.d.putAccountData(userId, NEARBY_ACCOUNT_DATA, content);
      this.lastPushed.set(userId, json);
    }
  }
}

/** As many local parts as fit the TXT record (joined by ','), in order. */
function fitUsers(localparts: string[]): string[] {
  const out: string[] = [];
  let bytes = 0;
  for (const lp of localparts) {
    if (!/^[a-z0-9._=\-/+]+$/.test(lp)) continue;
    const add = Buffer.byteLength(lp) + (out.length > 0 ? 1 : 0);
    if (bytes + add > MAX_USERS_BYTES) break;
    out.push(lp);
    bytes += add;
  }
  return out;
}

/** `text` cut to at most `max` bytes of UTF-8, never inside a character. */
function truncateUtf8(text: string, max: number): string {
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}
