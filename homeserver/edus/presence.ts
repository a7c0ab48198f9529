// Presence (client-server-api modules/presence.md, and the seed's Presence section): online,
// unavailable, offline, a status message, last_active_ago and currently_active; seen by users who
// share a room, and by those on the seed's presence list.
import type { Database } from '../storage/database.ts';
import { presenceStore, currentStreamId, type PresenceRow } from '../storage/edus-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { diskFailure } from '../storage/disk-errors.ts';
import type { Notifier } from '../sync/notifier.ts';
import type { JsonObject } from '../protocol/types.ts';
import { usersSharingARoom } from './room-members.ts';

export const PRESENCE_STATES = ['online', 'unavailable', 'offline'];
/**
 * Longest status message, in UTF-8 bytes. It is one line of text, yet it goes into the /sync of
 * every user who shares a room with its author, at every change: unbounded, a 1 MiB message was
 * copied into hundreds of /sync answers. Remote ones beyond it are dropped (the presence is kept).
 */
export const MAX_STATUS_MSG_BYTES = 1024;
/** The seed's extra states, mapped onto the spec's three: free_for_chat is online, hidden looks offline. */
const SEED_STATES: Record<string, string> = { free_for_chat: 'online', hidden: 'offline' };

/** An online user not seen for this long shows as unavailable (Synapse's idle timer). */
const IDLE_AFTER_MS = 5 * 60_000;
/** Activity this recent counts as currently_active. */
const ACTIVE_WINDOW_MS = 60_000;
/** A syncing client refreshes last_active at most this often, to spare the disk. */
const TOUCH_INTERVAL_MS = 60_000;

export function normalisePresence(state: string): string | undefined {
  if (PRESENCE_STATES.includes(state)) return state;
  return SEED_STATES[state];
}

export class PresenceService {
  private readonly db: Database;
  private readonly notifier: Notifier;
  private readonly now: () => number;
  private position = 0;
  /** When each user's sync last touched presence, and with which set_presence. */
  private readonly touched = new Map<string, { asked: string | undefined; at: number }>();
  private readonly localListeners: Array<(userId: string, row: PresenceRow) => void> = [];

  constructor(db: Database, notifier: Notifier, now: () => number = Date.now) {
    this.db = db;
    this.notifier = notifier;
    this.now = now;
  }

  async init(): Promise<void> {
    this.position = await currentStreamId(this.db.reader, 'presence');
  }

  get currentPosition(): number {
    return this.position;
  }

  async setPresence(userId: string, requested: string, statusMsg?: string | null): Promise<void> {
    const presence = normalisePresence(requested);
    if (!presence) throw new Error(`unknown presence ${requested}`);
    const old = await presenceStore.get(this.db.reader, userId);
    const now = this.now();
    // Moving up in availability counts as activity (the seed's "Presence" rule).
    const active = presence === 'online' && (!old || old.presence !== 'online');
    const lastActive = active || !old ? now : old.last_active_ts;
    const msg = statusMsg === undefined ? (old?.status_msg ?? null) : statusMsg;
    await this.write(userId, presence, msg, lastActive);
  }

  /**
   * Called on each /sync. An explicit set_presence sets that state; without it, syncing brings an
   * offline user online (as Synapse does) but leaves a chosen `unavailable` alone, and refreshes
   * last_active now and then for idle tracking.
   */
  async touch(userId: string, setPresence: string | undefined): Promise<void> {
    // A client syncs continually: skip the read while its last touch is fresh and asked the same.
    const seen = this.touched.get(userId);
    if (seen && seen.asked === setPresence && this.now() - seen.at < TOUCH_INTERVAL_MS) return;
    this.touched.set(userId, { asked: setPresence, at: this.now() });
    if (this.touched.size > 10_000) this.touched.clear();
    const old = await presenceStore.get(this.db.reader, userId);
    const now = this.now();
    let presence: string;
    if (setPresence !== undefined) presence = normalisePresence(setPresence) ?? 'online';
    else presence = !old || old.presence === 'offline' ? 'online' : old.presence;
    const fresh = old && now - old.last_active_ts < TOUCH_INTERVAL_MS;
    if (old && old.presence === presence && (presence === 'offline' || fresh)) return;
    try {
      await this.write(userId, presence, old?.status_msg ?? null, presence === 'offline' ? (old?.last_active_ts ?? now) : now);
    } catch (err) {
      // A /sync is a read: on a full or failing disk it goes on without the presence update, which
      // a later sync makes (write() forgot this touch). Issue #13 class 8.
      if (!diskFailure(err)) throw err;
    }
  }

  /** Calls `fn` after each change of a local user's presence (federation passes them on). */
  onLocalPresence(fn: (userId: string, row: PresenceRow) => void): void {
    this.localListeners.push(fn);
  }

  /**
   * A remote user's presence, from a federation m.presence EDU (server-server-api.md "Presence").
   * Only users a local user can see are kept: those sharing a room with one, or on a presence list.
   */
  async setRemotePresence(userId: string, requested: string, statusMsg: string | null, lastActiveAgo: number): Promise<boolean> {
    const presence = normalisePresence(requested);
    if (!presence) return false;
    const q = this.db.reader;
    if ((await usersSharingARoom(q, userId)).size <= 1 && (await presenceStore.watchers(q, userId)).length === 0) return false;
    await this.store(userId, presence, statusMsg, this.now() - Math.max(0, lastActiveAgo));
    return true;
  }

  private async write(userId: string, presence: string, statusMsg: string | null, lastActive: number): Promise<void> {
    this.touched.delete(userId);
    const row = await this.store(userId, presence, statusMsg, lastActive);
    for (const fn of this.localListeners) fn(userId, row);
  }

  private async store(userId: string, presence: string, statusMsg: string | null, lastActive: number): Promise<PresenceRow> {
    const id = await this.db.write((tx) => presenceStore.put(tx, userId, presence, statusMsg, lastActive));
    this.position = Math.max(this.position, id);
    const wake = await usersSharingARoom(this.db.reader, userId);
    for (const w of await presenceStore.watchers(this.db.reader, userId)) wake.add(w);
    this.notifier.notifyUsers(wake);
    return { user_id: userId, presence, status_msg: statusMsg, last_active_ts: lastActive, stream_id: id };
  }

  async get(userId: string): Promise<PresenceRow | undefined> {
    return presenceStore.get(this.db.reader, userId);
  }

  /** Whether `viewer` may see `target`'s presence: shared room, or target is on viewer's presence list. */
  async canSee(q: Queryable, viewer: string, target: string): Promise<boolean> {
    if (viewer === target) return true;
    if ((await usersSharingARoom(q, viewer)).has(target)) return true;
    return (await presenceStore.list(q, viewer)).includes(target);
  }

  /** The m.presence content as clients receive it. */
  content(row: PresenceRow): JsonObject {
    const now = this.now();
    const ago = Math.max(0, now - row.last_active_ts);
    const presence = row.presence === 'online' && ago > IDLE_AFTER_MS ? 'unavailable' : row.presence;
    const c: JsonObject = { presence, last_active_ago: ago, currently_active: presence === 'online' && ago < ACTIVE_WINDOW_MS };
    if (row.status_msg !== null) c.status_msg = row.status_msg;
    return c;
  }

  /** m.presence events a viewer may see that changed in (since, upTo] (all visible when since is undefined). */
  async eventsFor(q: Queryable, viewer: string, since: number | undefined, upTo: number): Promise<JsonObject[]> {
    if (since !== undefined && since >= upTo) return [];
    const rows = await presenceStore.since(q, since ?? 0, upTo);
    if (rows.length === 0) return [];
    const visible = await usersSharingARoom(q, viewer);
    for (const t of await presenceStore.list(q, viewer)) visible.add(t);
    return rows.filter((r) => visible.has(r.user_id)).map((r) => ({ type: 'm.presence', sender: r.user_id, content: this.content(r) }));
  }
}
