// Users' pushers (pusher.yaml) and the HTTP pushes they make (push-gateway-api.md). Pushers are
// kept in SQLite (storage/pushers-store.ts) and mirrored here for the write path; each http
// pusher has its own outbound queue (http-pusher.ts). After each commit, the events that notified
// a user with pushers (push/push-actions.ts wrote who, in push_notified) are posted to the
// user's gateways. Nothing here knows of rooms: what a notification shows of a room comes from
// the `PushRoomView` the homeserver passes in.
import type { Database } from '../storage/database.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { pushersStore, type PusherRow } from '../storage/pushers-store.ts';
import { notificationOf } from '../storage/push-store.ts';
import { MatrixError } from '../http/matrix-error.ts';
import type { JsonObject, PDU } from '../protocol/types.ts';
import type { Logger } from '../http/errors.ts';
import type { PusherInput, PusherRequest } from './pusher-input.ts';
import { HttpPusher } from './http-pusher.ts';
import type { GatewayPolicy } from './gateway-request.ts';
import { notifyBody, type PushDevice } from './notify-body.ts';

/**
 * Pushers one user may have. One per app per device is the usual shape; 32 covers a family's
 * worth of phones and tablets signed in to one account, and bounds the pushes one event makes.
 */
export const MAX_PUSHERS_PER_USER = 32;

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
}

interface LivePusher {
  row: PusherRow;
  http: HttpPusher;
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

  constructor(deps: PushersDeps) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
  }

  async init(): Promise<void> {
    for (const row of await pushersStore.all(this.deps.db.reader)) this.live(row);
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
    this.dispatching = this.dispatching.then(() => this.dispatch(timeline)).catch((err: unknown) => this.deps.log('push: could not build notifications', err));
  }

  stop(): void {
    this.stopped = true;
    for (const pushers of this.byUser.values()) for (const p of pushers.values()) p.http.stop();
    this.byUser.clear();
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
      p.http.enqueue(body);
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
    });
    pushers.set(key, { row, http });
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
