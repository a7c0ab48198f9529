// Users' pushers (pusher.yaml) and the HTTP pushes they make (push-gateway-api.md). Pushers are
// kept in SQLite (storage/pushers-store.ts) and mirrored here for the write path; each http
// pusher has its own outbound queue (http-pusher.ts). After each commit, the events that notified
// a user with pushers (push/push-actions.ts wrote who, in push_notified) are posted to the
// user's gateways. Where the queues stand is written at most once a second (migration 029), and at
// start-up each pusher's queue is refilled from the log: a restart or a kill loses no push (a
// kill may send a few twice). Nothing here knows of rooms: what a notification shows of a room
// comes from the `PushRoomView` the homeserver passes in.
import type { Database } from '../storage/database.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { pushersStore, type PusherRow } from '../storage/pushers-store.ts';
import { notificationOf } from '../storage/push-store.ts';
import { MatrixError } from '../http/matrix-error.ts';
import type { JsonObject, PDU } from '../protocol/types.ts';
import type { Logger } from '../http/errors.ts';
import type { PusherInput, PusherRequest } from './pusher-input.ts';
import { HttpPusher, MAX_QUEUED_PUSHES, PUSH_GIVE_UP_MS } from './http-pusher.ts';
import type { GatewayPolicy } from './gateway-request.ts';
import { notifyBody, type PushDevice } from './notify-body.ts';

/**
 * Pushers one user may have. One per app per device is the usual shape; 32 covers a family's
 * worth of phones and tablets signed in to one account, and bounds the pushes one event makes.
 */
export const MAX_PUSHERS_PER_USER = 32;

/**
 * How often where the queues stand is written. Each write is one small transaction; a kill loses
 * at most this much progress, which makes those pushes go out again after the restart.
 */
export const PUSH_PROGRESS_WRITE_MS = 1_000;

/** A committed event, as the room service reports it. */
export interface CommittedEvent {
  eventId: string;
  roomId: string;
  streamOrdering: number;
  pdu: PDU;
}

/** What a notification shows of its room and how many unread notifications the user has. */
export interface PushRoomView {
  stateContent(roomId: string, type: string, stateKey: string): Promise<JsonObject | undefined>;
  unreadTotal(userId: string): Promise<number>;
  /** A stored event, to push again after a restart. */
  event(eventId: string): Promise<PDU | undefined>;
}

interface LivePusher {
  row: PusherRow;
  http: HttpPusher;
  /** `pending_from` as last written. */
  written: number | null;
}

export interface PushersDeps {
  db: Database;
  policy: GatewayPolicy;
  rooms: PushRoomView;
  log: Logger;
  now?: () => number;
}

export class Pushers {
  private readonly deps: PushersDeps;
  /** user id -> `app_id\0pushkey` -> pusher. */
  private readonly byUser = new Map<string, Map<string, LivePusher>>();
  private readonly now: () => number;
  /** Dispatches after commits run one after another, so pushes leave in commit order. */
  private dispatching: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The last stream ordering handed to the queues, and as last written. */
  private dispatchedThrough = 0;
  private writtenThrough = 0;
  private progressTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(deps: PushersDeps) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
  }

  async init(): Promise<void> {
    const q = this.deps.db.reader;
    const through = await pushersStore.dispatchedThrough(q);
    // Never written (a new data dir, or one from before migration 029): written at this start, so
    // that a kill before the first dispatch's write still finds a place to refill from.
    this.dispatchedThrough = through ?? 0;
    this.writtenThrough = through ?? -1;
    for (const row of await pushersStore.all(q)) {
      this.live(row);
      // Before migration 029 nothing was written: there is nothing to refill from.
      if (through !== undefined && row.kind === 'http') await this.refill(row, Math.min(row.pending_from ?? through + 1, through + 1));
    }
    // Everything in the log now has been handed over (refilled, or notifying nobody with a pusher):
    // written as such, else each later restart would send the refilled pushes again.
    this.dispatchedThrough = Math.max(this.dispatchedThrough, await pushersStore.lastNotified(q));
    this.progressed();
  }

  /**
   * Queues again what this pusher had queued, or was not yet handed, when the server stopped:
   * the newest MAX_QUEUED_PUSHES from `from` on, as the queue would have kept, and none older than
   * PUSH_GIVE_UP_MS or than the pusher itself (a pusher set again later is not sent the past).
   */
  private async refill(row: PusherRow, from: number): Promise<void> {
    const live = this.byUser.get(row.user_id)?.get(keyOf(row.app_id, row.pushkey));
    if (!live) return;
    const oldest = Math.max(this.now() - PUSH_GIVE_UP_MS, row.pushkey_ts);
    for (const n of await pushersStore.notifiedSince(this.deps.db.reader, row.user_id, from, MAX_QUEUED_PUSHES)) {
      const mine = notificationOf(n, row.user_id);
      const pdu = mine ? await this.deps.rooms.event(n.event_id) : undefined;
      if (!mine || !pdu || pdu.origin_server_ts < oldest) continue;
      await this.push(row.user_id, { eventId: n.event_id, roomId: n.room_id, streamOrdering: n.stream_ordering, pdu }, mine.actions, [live]);
    }
  }

  /** GET /pushers: the user's pushers as pusher.yaml shows them. */
  async list(userId: string): Promise<JsonObject[]> {
    const rows = await pushersStore.forUser(this.deps.db.reader, userId);
    return rows.map((r) => {
      const out: JsonObject = {
        pushkey: r.pushkey,
        kind: r.kind,
        app_id: r.app_id,
        app_display_name: r.app_display_name,
        device_display_name: r.device_display_name,
        lang: r.lang,
        data: JSON.parse(r.data) as JsonObject,
      };
      if (r.profile_tag !== null) out.profile_tag = r.profile_tag;
      return out;
    });
  }

  /** POST /pushers/set: creates, updates or (kind null) deletes one of the user's pushers. */
  async set(userId: string, deviceId: string, req: PusherRequest): Promise<void> {
    if (req.kind === null) {
      await this.deps.db.write((tx) => pushersStore.delete(tx, userId, req.appId, req.pushkey));
      this.drop(userId, req.appId, req.pushkey);
      return;
    }
    const row = rowOf(userId, deviceId, req, this.now());
    const others = await this.deps.db.write(async (tx) => {
      const existing = await pushersStore.get(tx, userId, req.appId, req.pushkey);
      if (!existing && (await pushersStore.count(tx, userId)) >= MAX_PUSHERS_PER_USER) {
        throw new MatrixError(400, 'M_LIMIT_EXCEEDED', `A user may have at most ${MAX_PUSHERS_PER_USER} pushers; delete one first`);
      }
      await pushersStore.upsert(tx, row);
      // pusher.yaml `append`: unless true, the same app_id and pushkey of other users go.
      return req.append ? [] : pushersStore.deleteOthers(tx, userId, req.appId, req.pushkey);
    });
    for (const other of others) this.drop(other, req.appId, req.pushkey);
    this.live(row);
  }

  /** Inside a transaction that deletes devices: their pushers go with them (see migration 023). */
  async forgetDevicesIn(tx: Queryable, userId: string, deviceIds: string[]): Promise<void> {
    await pushersStore.deleteForDevices(tx, userId, deviceIds);
  }

  /** After such a transaction commits: the user's pushers as stored now. */
  async reload(userId: string): Promise<void> {
    const rows = await pushersStore.forUser(this.deps.db.reader, userId);
    const keep = new Set(rows.map((r) => keyOf(r.app_id, r.pushkey)));
    for (const [key, p] of this.byUser.get(userId) ?? []) if (!keep.has(key)) this.drop(userId, p.row.app_id, p.row.pushkey);
    for (const r of rows) this.live(r);
  }

  /** Queued pushes of a user's pushers, for tests and diagnostics. */
  queued(userId: string): number {
    let n = 0;
    for (const p of this.byUser.get(userId)?.values() ?? []) n += p.http.queued;
    return n;
  }

  /** Called after each commit with its events; pushes what notified users with pushers. */
  committed(events: CommittedEvent[]): void {
    if (this.byUser.size === 0 || this.stopped) return;
    const timeline = events.filter((e) => e.streamOrdering > 0);
    if (timeline.length === 0) return;
    const last = timeline.reduce((max, e) => Math.max(max, e.streamOrdering), 0);
    this.dispatching = this.dispatching
      .then(() => this.dispatch(timeline))
      .catch((err: unknown) => this.deps.log('push: could not build notifications', err))
      .then(() => {
        if (this.stopped) return;
        this.dispatchedThrough = Math.max(this.dispatchedThrough, last);
        this.progressed();
      });
  }

  /** Stops pushing, and writes where the queues stand so that the next start sends what is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.progressTimer !== undefined) clearTimeout(this.progressTimer);
    this.progressTimer = undefined;
    const last = this.writeProgress();
    for (const pushers of this.byUser.values()) for (const p of pushers.values()) p.http.stop();
    this.byUser.clear();
    await last;
  }

  /** Something moved: write where the queues stand within PUSH_PROGRESS_WRITE_MS. */
  private progressed(): void {
    if (this.stopped || this.progressTimer !== undefined) return;
    this.progressTimer = setTimeout(() => {
      this.progressTimer = undefined;
      void this.writeProgress();
    }, PUSH_PROGRESS_WRITE_MS);
    this.progressTimer.unref();
  }

  /** One write at a time; what it reads of the queues is taken when it starts. */
  private writeProgress(): Promise<void> {
    const pending: Array<{ userId: string; appId: string; pushkey: string; from: number | null }> = [];
    const changed: Array<[LivePusher, number | null]> = [];
    for (const pushers of this.byUser.values()) {
      for (const p of pushers.values()) {
        const from = p.http.pendingFrom;
        if (from === p.written) continue;
        pending.push({ userId: p.row.user_id, appId: p.row.app_id, pushkey: p.row.pushkey, from });
        changed.push([p, from]);
      }
    }
    const through = this.dispatchedThrough;
    if (pending.length === 0 && through === this.writtenThrough) return this.writing;
    this.writing = this.writing
      .then(() => this.deps.db.write((tx) => pushersStore.writeProgress(tx, through, pending)))
      .then(() => {
        this.writtenThrough = through;
        for (const [p, from] of changed) p.written = from;
      })
      .catch((err: unknown) => this.deps.log('push: could not write where the push queues stand', err));
    return this.writing;
  }

  private async dispatch(events: CommittedEvent[]): Promise<void> {
    if (this.stopped) return;
    const q = this.deps.db.reader;
    const byOrdering = new Map(events.map((e) => [e.streamOrdering, e]));
    for (const row of await pushersStore.notifiedAt(q, [...byOrdering.keys()])) {
      const event = byOrdering.get(row.stream_ordering);
      if (!event) continue;
      for (const userId of Object.keys(JSON.parse(row.recipients) as Record<string, number>)) {
        const pushers = this.byUser.get(userId);
        if (!pushers || pushers.size === 0) continue;
        const mine = notificationOf(row, userId);
        if (!mine) continue;
        await this.push(userId, event, mine.actions, [...pushers.values()]);
      }
    }
  }

  private async push(userId: string, e: CommittedEvent, actions: unknown[], pushers: LivePusher[]): Promise<void> {
    const view = this.deps.rooms;
    const unread = await view.unreadTotal(userId);
    const member = await view.stateContent(e.roomId, 'm.room.member', e.pdu.sender);
    const name = await view.stateContent(e.roomId, 'm.room.name', '');
    const alias = await view.stateContent(e.roomId, 'm.room.canonical_alias', '');
    for (const p of pushers) {
      const data = JSON.parse(p.row.data) as JsonObject;
      const { url: _url, ...rest } = data;
      const device: PushDevice = { app_id: p.row.app_id, pushkey: p.row.pushkey, pushkey_ts: Math.floor(p.row.pushkey_ts / 1000), data: rest };
      const body = notifyBody(
        {
          eventId: e.eventId,
          roomId: e.roomId,
          pdu: e.pdu,
          actions,
          recipient: userId,
          eventIdOnly: data.format === 'event_id_only',
          unread,
          ...stringField('senderDisplayName', member?.displayname),
          ...stringField('roomName', name?.name),
          ...stringField('roomAlias', alias?.alias),
        },
        [device],
      );
      p.http.enqueue(body, e.streamOrdering);
    }
  }

  /** Starts (or retargets) the live pusher of a stored row. */
  private live(row: PusherRow): void {
    if (row.kind !== 'http') return;
    let pushers = this.byUser.get(row.user_id);
    if (!pushers) this.byUser.set(row.user_id, (pushers = new Map()));
    const key = keyOf(row.app_id, row.pushkey);
    const url = new URL((JSON.parse(row.data) as { url: string }).url);
    const known = pushers.get(key);
    if (known) {
      known.row = row;
      known.http.retarget({ url, pushkey: row.pushkey });
      return;
    }
    const userId = row.user_id;
    const http = new HttpPusher({ url, pushkey: row.pushkey }, this.deps.policy, {
      rejected: (pushkeys) => void this.rejected(userId, row.app_id, pushkeys),
      dropped: (reason) => this.deps.log('push: a notification was dropped', undefined, { userId, appId: row.app_id, reason }),
      progressed: () => this.progressed(),
    });
    pushers.set(key, { row, http, written: row.pending_from ?? null });
  }

  private drop(userId: string, appId: string, pushkey: string): void {
    const pushers = this.byUser.get(userId);
    const key = keyOf(appId, pushkey);
    pushers?.get(key)?.http.stop();
    pushers?.delete(key);
    if (pushers?.size === 0) this.byUser.delete(userId);
  }

  /** push_gateway.yaml: homeservers must stop pushing to rejected pushkeys and remove their pushers. */
  private async rejected(userId: string, appId: string, pushkeys: string[]): Promise<void> {
    for (const pushkey of pushkeys) {
      try {
        await this.deps.db.write((tx) => pushersStore.delete(tx, userId, appId, pushkey));
        this.drop(userId, appId, pushkey);
        this.deps.log('push: the gateway rejected a pushkey; its pusher was removed', undefined, { userId, appId });
      } catch (err) {
        this.deps.log('push: could not remove a rejected pusher', err);
      }
    }
  }
}

function keyOf(appId: string, pushkey: string): string {
  return `${appId}\u0000${pushkey}`;
}

function stringField<K extends string>(key: K, value: unknown): { [P in K]?: string } {
  return (typeof value === 'string' && value !== '' ? { [key]: value } : {}) as { [P in K]?: string };
}

function rowOf(userId: string, deviceId: string, p: PusherInput, now: number): PusherRow {
  return {
    user_id: userId,
    app_id: p.appId,
    pushkey: p.pushkey,
    kind: p.kind,
    app_display_name: p.appDisplayName,
    device_display_name: p.deviceDisplayName,
    profile_tag: p.profileTag,
    lang: p.lang,
    data: JSON.stringify(p.data),
    device_id: deviceId,
    pushkey_ts: now,
  };
}
