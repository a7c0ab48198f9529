// The trust store of LAN discovery: identities pinned on first contact (kept in memory for the
// synchronous `isKnown`, written through to SQLite) and the reports the user should see, both
// bounded so that a LAN full of strangers or a flood of forged packets cannot grow them.
import type { Database } from '../storage/database.ts';
import { lanPeersStore, type LanPeerRow } from '../storage/lan-peers-store.ts';
import type { Logger } from '../log/logger.ts';
import type { LanPeer, LanReport, PinnedPeer } from './lan-directory.ts';

/** Pins kept: far more desktops than one office LAN holds; past it the peer seen longest ago goes. */
export const MAX_PINNED_PEERS = 1_024;
/** Reports kept: enough to read the recent history, small enough to send to clients whole. */
export const MAX_REPORTS = 100;
/** The same (name, sender, kind) is reported once per this window: a repeated forgery is one report. */
export const REPORT_REPEAT_MS = 60_000;
/** Reports of any kind recorded per REPORT_REPEAT_MS at most: forged names cannot flood the table or the log. */
export const MAX_REPORTS_PER_WINDOW = 20;

export interface Pin extends PinnedPeer {
  lastSeenTs: number;
}

export class PeerTrust {
  private readonly pins = new Map<string, Pin>();
  private readonly lastReported = new Map<string, number>();
  private windowStart = 0;
  private inWindow = 0;
  /** The latest report write: reports() waits for it, so a report just emitted is listed. */
  private reportWritten: Promise<void> = Promise.resolve();
  readonly loaded: Promise<void>;

  private readonly db: Database;
  private readonly log: Logger;

  constructor(db: Database, log: Logger) {
    this.db = db;
    this.log = log;
    this.loaded = this.load();
  }

  private async load(): Promise<void> {
    try {
      for (const r of await lanPeersStore.all(this.db.reader)) {
        this.pins.set(r.server_name, {
          serverName: r.server_name,
          keyId: r.key_id,
          publicKey: r.public_key,
          tlsFingerprint: r.tls_fingerprint,
          firstSeenTs: r.first_seen_ts,
          lastSeenTs: r.last_seen_ts,
        });
      }
    } catch (err) {
      this.log('LAN discovery: pinned peers not loaded', err);
    }
  }

  pin(serverName: string): Pin | undefined {
    return this.pins.get(serverName);
  }

  isKnown(serverName: string): boolean {
    return this.pins.has(serverName.toLowerCase());
  }

  /** Pins `peer` if new and records what it announced now. */
  remember(peer: LanPeer): void {
    const pin = this.pins.get(peer.serverName);
    const firstSeenTs = pin?.firstSeenTs ?? peer.lastSeenTs;
    const tlsFingerprint = pin?.tlsFingerprint ?? peer.tlsFingerprint;
    this.pins.set(peer.serverName, {
      serverName: peer.serverName,
      keyId: peer.keyId,
      publicKey: peer.publicKey,
      tlsFingerprint,
      firstSeenTs,
      lastSeenTs: peer.lastSeenTs,
    });
    const row: LanPeerRow = {
      server_name: peer.serverName,
      key_id: peer.keyId,
      public_key: peer.publicKey,
      tls_fingerprint: tlsFingerprint,
      first_seen_ts: firstSeenTs,
      last_seen_ts: peer.lastSeenTs,
      label: peer.label ?? null,
      users: JSON.stringify(peer.users),
      addresses: JSON.stringify(peer.addresses),
    };
    const trimming = this.pins.size > MAX_PINNED_PEERS;
    this.db
      .write(async (tx) => {
        await lanPeersStore.upsert(tx, row);
        return trimming ? lanPeersStore.trim(tx, MAX_PINNED_PEERS) : [];
      })
      .then((dropped) => {
        for (const name of dropped) if (name !== peer.serverName) this.pins.delete(name);
      })
      .catch((err: unknown) => this.log('LAN discovery: pinned peer not saved', err));
  }

  /**
   * Unpins `serverName` (the user accepted its new certificate, like removing a line of SSH's
   * known_hosts): its next valid announcement is pinned afresh. Resolves once written.
   */
  async forget(serverName: string): Promise<void> {
    const name = serverName.toLowerCase();
    this.pins.delete(name);
    await this.db.write((tx) => lanPeersStore.forget(tx, name));
  }

  /** Records `report` unless the same was reported lately or too many were; true if recorded. */
  report(report: LanReport): boolean {
    const key = `${report.serverName}\n${report.from}\n${report.kind}`;
    const last = this.lastReported.get(key);
    if (last !== undefined && report.ts - last < REPORT_REPEAT_MS) return false;

    if (report.ts - this.windowStart >= REPORT_REPEAT_MS) {
      this.windowStart = report.ts;
      this.inWindow = 0;
      for (const [k, ts] of this.lastReported) if (report.ts - ts >= REPORT_REPEAT_MS) this.lastReported.delete(k);
    }
    if (this.inWindow >= MAX_REPORTS_PER_WINDOW) return false;
    this.inWindow++;
    this.lastReported.set(key, report.ts);
    this.log(`LAN discovery: ${report.kind} ${report.serverName} from ${report.from}: ${report.detail}`);
    this.reportWritten = this.db
      .write((tx) =>
        lanPeersStore.insertReport(
          tx,
          { server_name: report.serverName, kind: report.kind, detail: report.detail, from_address: report.from, ts: report.ts },
          MAX_REPORTS,
        ),
      )
      .catch((err: unknown) => this.log('LAN discovery: report not saved', err));
    return true;
  }

  async reports(): Promise<LanReport[]> {
    await this.reportWritten;
    const rows = await lanPeersStore.reports(this.db.reader, MAX_REPORTS);
    return rows.map((r) => ({ serverName: r.server_name, kind: r.kind as LanReport['kind'], detail: r.detail, from: r.from_address, ts: r.ts }));
  }
}
