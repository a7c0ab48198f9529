// When and from where each device last used its access token: `last_seen_ts` and `last_seen_ip`
// of GET /devices (device_management.yaml). Tokens are checked on every request, and a database
// write per request would put every /sync and every send through the one writer, so the newest
// sighting is kept in memory and written at most once per THROTTLE_MS per device; reads see the
// memory's newer value at once, and close() writes whatever is still pending on a clean stop.
// A kill -9 loses at most the last minute's sightings, which only move a timestamp.
import type { Database } from '../storage/database.ts';
import { accountsStore, type DeviceRow } from '../storage/accounts-store.ts';

/**
 * One write per device per minute: clients show "last seen" to the minute or coarser (Element
 * shows minutes, nheko a date), and a minute keeps a busy device to one write in the thousands of
 * requests a long-polling client makes per hour. Synapse batches its client_ips the same way.
 */
export const DEVICE_SEEN_THROTTLE_MS = 60_000;

/**
 * At most this many devices are remembered between writes. A server of a household has tens; past
 * the bound everything pending is written and the memory starts afresh, so it cannot grow with
 * the number of devices ever seen.
 */
export const MAX_REMEMBERED_DEVICES = 10_000;

interface Sighting {
  userId: string;
  deviceId: string;
  ts: number;
  ip: string;
  /** When this device's sighting was last written (0: not since start). */
  writtenAt: number;
  /** A newer sighting than the one written waits for the throttle or close(). */
  pending: boolean;
}

export class DeviceActivity {
  private readonly db: Database;
  private readonly now: () => number;
  private readonly seen = new Map<string, Sighting>();
  private readonly writes = new Set<Promise<void>>();
  private readonly onError: (err: unknown) => void;

  constructor(db: Database, opts: { now?: () => number; onError?: (err: unknown) => void } = {}) {
    this.db = db;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => {});
  }

  /** `deviceId` of `userId` used its token now, from `ip`. Never waits for the database. */
  record(userId: string, deviceId: string, ip: string): void {
    const key = `${userId}\u0000${deviceId}`;
    const ts = this.now();
    let s = this.seen.get(key);
    if (s === undefined) {
      if (this.seen.size >= MAX_REMEMBERED_DEVICES) this.writeAll(true);
      s = { userId, deviceId, ts, ip, writtenAt: 0, pending: true };
      this.seen.set(key, s);
    } else {
      s.ts = ts;
      s.ip = ip;
      s.pending = true;
    }
    if (ts - s.writtenAt >= DEVICE_SEEN_THROTTLE_MS) this.write([s]);
  }

  /** `row` with the newest sighting of its device, written or not. */
  overlay<T extends DeviceRow>(row: T): T {
    const s = this.seen.get(`${row.user_id}\u0000${row.device_id}`);
    if (s === undefined || (row.last_seen_ts !== null && row.last_seen_ts > s.ts)) return row;
    return { ...row, last_seen_ts: s.ts, last_seen_ip: s.ip };
  }

  /** Waits for the writes under way (not for sightings the throttle holds back). */
  async idle(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /** Writes every pending sighting and waits for all writes: for a clean stop, before the database closes. */
  async close(): Promise<void> {
    this.writeAll(false);
    await this.idle();
  }

  private writeAll(forget: boolean): void {
    this.write([...this.seen.values()].filter((s) => s.pending));
    if (forget) this.seen.clear();
  }

  private write(batch: Sighting[]): void {
    if (batch.length === 0) return;
    const rows = batch.map((s) => ({ userId: s.userId, deviceId: s.deviceId, ts: s.ts, ip: s.ip }));
    const at = this.now();
    for (const s of batch) {
      s.writtenAt = at;
      s.pending = false;
    }
    const job = this.db
      .write(async (tx) => {
        for (const r of rows) await accountsStore.setDeviceSeen(tx, r.userId, r.deviceId, r.ts, r.ip);
      })
      .catch((err: unknown) => {
        // Kept in memory: the next sighting after the throttle, or close(), tries again.
        for (const s of batch) s.pending = true;
        this.onError(err);
      });
    this.writes.add(job);
    void job.finally(() => this.writes.delete(job));
  }
}
