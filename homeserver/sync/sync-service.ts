// GET /sync (client-server-api "Syncing"): initial and incremental, long-polling, filtered.
import type { JsonObject } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import type { RoomService } from '../rooms/room-service.ts';
import type { LoadedEvent } from '../rooms/event-reader.ts';
import { toClientEvents, strippedStateEvent, STRIPPED_STATE_TYPES } from '../rooms/client-event.ts';
import type { Visibility } from '../rooms/visibility.ts';
import { eventsStore } from '../storage/events-store.ts';
import { accountDataStore } from '../storage/rooms-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import type { Notifier } from './notifier.ts';
import { eventMatches, roomIncluded, syncTimelineLimit, type Filter } from './filters.ts';
import { formatPaginationToken, formatSyncToken, type SyncToken } from './sync-token.ts';
import type { Edus } from '../edus/index.ts';
import type { E2ee } from '../e2ee/index.ts';
import { unreadCounts } from './unread-counts.ts';
import type { StreamChangeCache } from './stream-change-cache.ts';
import type { AccountData } from '../users/account-data.ts';
import { SyncLimiter } from './sync-limiter.ts';
import { stateAfterTimeline } from './state-after.ts';

export interface SyncRequest {
  userId: string;
  deviceId: string;
  since?: SyncToken;
  filter: Filter;
  fullState: boolean;
  timeoutMs: number;
  /** The set_presence parameter: online (default), offline or unavailable. */
  setPresence?: string;
  /**
   * Set when the client asked for use_state_after (MSC4222, spec v1.16): the name of the field
   * that then carries each room's state at the END of its timeline in place of `state` (the
   * stable `state_after`, or the unstable name matrix-js-sdk asks for with its unstable parameter).
   */
  stateAfterField?: StateAfterField;
  signal?: AbortSignal;
}

/**
 * Joined rooms computed at once. Each room's few reads wait on SQLite's thread in turn; with
 * several rooms under way those waits overlap instead of adding up (issue 13: a 1,000-room
 * initial sync spent most of its time waiting between queries). Small, so that a sync holds
 * few rooms' events in memory beyond those already in its response.
 */
const ROOMS_AT_ONCE = 8;

/** The stable field of use_state_after, and the unstable one of MSC4222 that matrix-js-sdk 43 still sends and reads. */
export type StateAfterField = 'state_after' | 'org.matrix.msc4222.state_after';

type MembershipRow = Awaited<ReturnType<typeof eventsStore.membershipsOfUser>>[number];

export class SyncService {
  private readonly rooms: RoomService;
  private readonly notifier: Notifier;
  private readonly visibility: Visibility;
  private readonly edus: Edus;
  private readonly e2ee: E2ee;
  private readonly accountData: StreamChangeCache;
  private readonly memberships = new Map<string, { epoch: number; rows: MembershipRow[] }>();
  /** Shares, supersedes and queues concurrent /sync requests (sync-limiter.ts); the route goes through it. */
  readonly limiter = new SyncLimiter();

  constructor(deps: { rooms: RoomService; notifier: Notifier; visibility: Visibility; edus: Edus; e2ee: E2ee; accountData: AccountData }) {
    this.rooms = deps.rooms;
    this.notifier = deps.notifier;
    this.visibility = deps.visibility;
    this.edus = deps.edus;
    this.e2ee = deps.e2ee;
    this.accountData = deps.accountData.changes;
  }

  async currentToken(): Promise<SyncToken> {
    return {
      events: this.rooms.position,
      accountData: this.accountData.position,
      receipts: this.edus.receipts.currentPosition,
      typing: this.edus.typing.serial,
      presence: this.edus.presence.currentPosition,
      deviceLists: this.e2ee.deviceLists.currentPosition,
      toDevice: this.e2ee.toDevice.currentPosition,
    };
  }

  async sync(req: SyncRequest): Promise<JsonObject> {
    // Syncing is activity: it keeps the user online (or sets what set_presence asks).
    await this.edus.presence.touch(req.userId, req.setPresence);
    // Typing serials live in memory: a token from before a restart may be ahead of them.
    if (req.since && req.since.typing > this.edus.typing.serial) req = { ...req, since: { ...req.since, typing: 0 } };
    // Syncing with a token acknowledges the to-device messages the response that gave it carried
    // (modules/send_to_device.md "Server behaviour"): they are deleted now.
    if (req.since) await this.e2ee.toDevice.acknowledge(req.userId, req.deviceId, req.since.toDevice);
    const deadline = Date.now() + req.timeoutMs;
    for (;;) {
      const version = this.notifier.changeVersion;
      const to = await this.currentToken();
      const result = await this.compute(req, to);
      const empty = req.since !== undefined && isEmpty(result);
      if (!empty || Date.now() >= deadline || req.signal?.aborted) return result;
      // Something committed while computing: compute again instead of sleeping through it.
      if (this.notifier.changeVersion !== version) continue;
      await this.notifier.wait(req.userId, deadline - Date.now(), req.signal);
      if (this.notifier.changeVersion === version) return result;
    }
  }

  private async compute(req: SyncRequest, to: SyncToken): Promise<JsonObject> {
    const q = this.rooms.db.reader;
    const since = req.since;
    // A long to-device queue is sent 100 at a time: next_batch then stops after the last one sent.
    const toDevice = await this.e2ee.toDevice.forSync(q, req.userId, req.deviceId, since?.toDevice ?? 0, to.toDevice);
    to = { ...to, toDevice: toDevice.position };
    const join: JsonObject = {};
    const invite: JsonObject = {};
    const leave: JsonObject = {};
    const knock: JsonObject = {};
    const includeLeave = req.filter.room?.include_leave === true;

    // Incremental syncs look only at rooms that had events or receipts in the gap (plus
    // membership changes, which are events); the change caches answer without a query when they can.
    let active: Set<string> | undefined;
    if (since !== undefined && !req.fullState) {
      active =
        since.events >= to.events
          ? new Set()
          : (this.rooms.roomChanges.changedSince(since.events) ??
            new Set((await eventsStore.roomsWithEventsAfter(q, since.events, to.events)).map((r) => r.room_id)));
      if (since.receipts < to.receipts) for (const roomId of await this.edus.receipts.roomsWithChanges(q, since.receipts, to.receipts)) active.add(roomId);
    }
    // Nothing for any room: no events (so no membership change), no receipts, no typing.
    const quietRooms = active !== undefined && active.size === 0 && since!.typing >= to.typing;
    const joinedRooms: Array<() => Promise<[string, JsonObject | undefined]>> = [];
    for (const m of quietRooms ? [] : await this.membershipsOf(q, req.userId)) {
      if (m.stream_ordering > to.events) continue; // committed after our snapshot position
      if (!roomIncluded(req.filter, m.room_id)) continue;
      const changedSince = since === undefined || m.stream_ordering > since.events;
      if (m.membership === 'join') {
        if (active && !changedSince && !active.has(m.room_id) && !this.edus.typing.typingEvent(m.room_id, since?.typing, to.typing)) continue;
        joinedRooms.push(async () => {
          // A member event since the last sync may be a profile change, not a new join.
          const newlyJoined = since === undefined || (changedSince && (await membershipAt(q, m.room_id, req.userId, since.events)) !== 'join');
          return [m.room_id, await this.joinedRoom(q, req, m.room_id, to, newlyJoined)];
        });
      } else if (m.membership === 'invite') {
        if (changedSince) invite[m.room_id] = { invite_state: { events: await this.strippedState(q, m.room_id, m.event_id) } };
      } else if (m.membership === 'knock') {
        if (changedSince) knock[m.room_id] = { knock_state: { events: await this.strippedState(q, m.room_id, m.event_id) } };
      } else if ((m.membership === 'leave' || m.membership === 'ban') && !m.forgotten) {
        if ((since !== undefined && changedSince) || (since === undefined && includeLeave)) {
          leave[m.room_id] = await this.leftRoom(q, req, m.room_id, m.stream_ordering, since);
        }
      }
    }

    for (const [roomId, r] of await inBatches(joinedRooms, ROOMS_AT_ONCE)) if (r) join[roomId] = r;

    const accountData: JsonObject[] = [];
    const roomAccountData = new Map<string, JsonObject[]>();
    const accountDataChanged = since === undefined || this.accountData.mayHaveChanged(req.userId, since.accountData);
    for (const row of accountDataChanged ? await accountDataStore.since(q, req.userId, since?.accountData ?? 0) : []) {
      if (row.stream_id > to.accountData) continue;
      const ev = { type: row.type, content: JSON.parse(row.content) as JsonObject };
      if (row.room_id === '') {
        if (eventMatches(req.filter.account_data, { type: row.type, sender: req.userId })) accountData.push(ev);
      } else {
        const list = roomAccountData.get(row.room_id) ?? [];
        list.push(ev);
        roomAccountData.set(row.room_id, list);
      }
    }
    for (const [roomId, events] of roomAccountData) {
      const r = (join[roomId] ?? (join[roomId] = emptyJoinedRoom(req.stateAfterField))) as JsonObject;
      (r.account_data as JsonObject).events = events as unknown as JsonObject[];
    }

    const keyFigures = await this.e2ee.keys.syncFigures(q, req.userId, req.deviceId);
    return {
      next_batch: formatSyncToken(to),
      rooms: { join, invite, leave, knock },
      account_data: { events: accountData as unknown as JsonObject[] },
      presence: { events: await this.presenceEvents(q, req, to) },
      to_device: { events: toDevice.events },
      // Only an incremental sync reports device list changes; after an initial one the client
      // queries keys itself (end_to_end_encryption.md "Extensions to /sync").
      device_lists: (since
        ? await this.e2ee.deviceLists.changes(q, req.userId, since, to, this.rooms.memberChanges.changedSince(since.events))
        : { changed: [], left: [] }) as unknown as JsonObject,
      device_one_time_keys_count: keyFigures.oneTimeKeyCounts,
      device_unused_fallback_key_types: keyFigures.unusedFallbackKeyTypes,
    };
  }

  /** The user's membership rows, kept between syncs while no job could have changed them. */
  private async membershipsOf(q: Queryable, userId: string): Promise<MembershipRow[]> {
    const known = this.memberships.get(userId);
    if (known && known.epoch === this.rooms.membershipEpoch) return known.rows;
    // A change committing while these are read moves the epoch past the one noted here.
    const epoch = this.rooms.membershipEpoch;
    const rows = await eventsStore.membershipsOfUser(q, userId);
    if (this.memberships.size > 10_000) this.memberships.clear();
    this.memberships.set(userId, { epoch, rows });
    return rows;
  }

  private async joinedRoom(q: Queryable, req: SyncRequest, roomId: string, to: SyncToken, membershipChanged: boolean): Promise<JsonObject | undefined> {
    const since = req.since;
    const timelineFilter = req.filter.room?.timeline;
    const limit = syncTimelineLimit(timelineFilter);
    const from = since === undefined || membershipChanged ? 0 : since.events;
    // Fetch one more than the limit to learn whether the timeline is limited.
    const ids =
      this.rooms.recentEvents.between(roomId, from, to.events, limit + 1) ??
      (await eventsStore.roomEventsBetween(q, roomId, from, to.events, limit + 1, true)).map((r) => r.event_id);
    const ephemeral = await this.ephemeral(q, req, roomId, to, membershipChanged);
    if (since !== undefined && !membershipChanged && ids.length === 0 && !req.fullState && ephemeral.length === 0) return undefined;
    let events = (await this.rooms.reader.getEvents(q, ids)).reverse();
    let limited = events.length > limit || (membershipChanged && since !== undefined && from === 0 && ids.length > limit);
    if (events.length > limit) events = events.slice(events.length - limit);
    if (membershipChanged && since !== undefined) {
      // Newly joined: the timeline starts no earlier than what the user may see.
      limited = limited || ids.length > limit;
    }
    const visible = await this.visibility.filter(q, req.userId, events);
    const timelineEvents = visible.filter((e) => eventMatches(timelineFilter, { type: e.pdu.type, sender: e.pdu.sender }));
    const first = events[0];
    const prevBatch = formatPaginationToken(first ? first.streamOrdering - 1 : to.events);

    // State at the timeline's end when the client asked for state_after, else at its start.
    const stateFilter = req.filter.room?.state;
    let stateEvents = req.stateAfterField
      ? await stateAfterTimeline(q, this.rooms.reader, {
          roomId,
          timeline: events,
          since: since === undefined || membershipChanged || req.fullState ? undefined : since.events,
          currentState: () => this.rooms.currentStateIds(roomId, q),
          lazyMembers: stateFilter?.lazy_load_members ? new Set([req.userId, ...timelineEvents.map((e) => e.pdu.sender)]) : undefined,
        })
      : await this.stateAtTimelineStart(q, req, roomId, events, timelineEvents, limited, membershipChanged);
    stateEvents = stateEvents.filter((e) => eventMatches(stateFilter, { type: e.pdu.type, sender: e.pdu.sender }));

    const viewer = { userId: req.userId, deviceId: req.deviceId };
    const room: JsonObject = emptyJoinedRoom(req.stateAfterField);
    room.timeline = {
      events: (await toClientEvents(q, this.rooms.reader, timelineEvents, { viewer, omitRoomId: true })) as unknown as JsonObject[],
      limited,
      prev_batch: prevBatch,
    };
    room[req.stateAfterField ?? 'state'] = {
      events: (await toClientEvents(q, this.rooms.reader, stateEvents, { viewer, omitRoomId: true })) as unknown as JsonObject[],
    };
    room.ephemeral = { events: ephemeral };
    Object.assign(room, await unreadCounts(q, this.rooms.unread, roomId, req.userId, timelineFilter?.unread_thread_notifications === true));
    if (
      since === undefined ||
      membershipChanged ||
      stateEvents.some((e) => e.pdu.type === 'm.room.member') ||
      timelineEvents.some((e) => e.pdu.type === 'm.room.member')
    ) {
      room.summary = await this.summary(q, roomId, req.userId);
    }
    return room;
  }

  /** The classic `state`: everything up to the timeline's start on a full sync; else what changed in the gap. */
  private async stateAtTimelineStart(
    q: Queryable,
    req: SyncRequest,
    roomId: string,
    events: LoadedEvent[],
    timelineEvents: LoadedEvent[],
    limited: boolean,
    membershipChanged: boolean,
  ): Promise<LoadedEvent[]> {
    const since = req.since;
    const first = events[0];
    const stateFilter = req.filter.room?.state;
    let stateEvents: LoadedEvent[];
    // An invite or knock received over federation before the join is kept without state
    // (RoomWriter.storeOutOfRoomMembership): the state at the start is then the next event's.
    const anchor = events.find((e) => e.stateGroup !== null || e.pdu.type !== 'm.room.member');
    const stateAtStart = anchor ? await this.rooms.reader.stateOfGroup(q, anchor.stateGroup) : await this.rooms.currentStateIds(roomId, q);
    if (since === undefined || membershipChanged || req.fullState) {
      stateEvents = await this.rooms.reader.getEvents(q, stateAtStart.values());
    } else if (limited && first) {
      stateEvents = await this.stateChangesBetween(q, roomId, since.events, first.streamOrdering, stateAtStart);
    } else {
      stateEvents = [];
    }
    if (stateFilter?.lazy_load_members) {
      const senders = new Set(timelineEvents.map((e) => e.pdu.sender));
      senders.add(req.userId);
      stateEvents = stateEvents.filter((e) => e.pdu.type !== 'm.room.member' || senders.has(e.pdu.state_key ?? ''));
      if (since !== undefined && !membershipChanged && !req.fullState) {
        // Incremental lazy-loading: send member events of senders the client may not have yet.
        for (const s of senders) {
          const id = stateAtStart.get(stateKey('m.room.member', s));
          if (id && !stateEvents.some((e) => e.eventId === id)) {
            const ev = await this.rooms.reader.getEvent(q, id);
            if (ev) stateEvents.push(ev);
          }
        }
      }
    }
    return stateEvents;
  }

  /** Typing and receipts of a joined room that changed since the last sync (all of them on a full one). */
  private async ephemeral(q: Queryable, req: SyncRequest, roomId: string, to: SyncToken, fresh: boolean): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    if (
      !eventMatches(req.filter.room?.ephemeral, { type: 'm.typing', sender: '' }) &&
      !eventMatches(req.filter.room?.ephemeral, { type: 'm.receipt', sender: '' })
    )
      return out;
    const since = fresh ? undefined : req.since;
    const typing = this.edus.typing.typingEvent(roomId, since?.typing, to.typing);
    if (typing && eventMatches(req.filter.room?.ephemeral, { type: 'm.typing', sender: '' })) out.push(typing as unknown as JsonObject);
    const receipt = await this.edus.receipts.receiptEvent(q, roomId, req.userId, since?.receipts, to.receipts);
    if (receipt && eventMatches(req.filter.room?.ephemeral, { type: 'm.receipt', sender: '' })) out.push(receipt);
    return out;
  }

  private async presenceEvents(q: Queryable, req: SyncRequest, to: SyncToken): Promise<JsonObject[]> {
    const events = await this.edus.presence.eventsFor(q, req.userId, req.since?.presence, to.presence);
    return events.filter((e) => eventMatches(req.filter.presence, { type: 'm.presence', sender: String(e.sender) }));
  }

  /** State events that took effect after `since` and before the timeline's start, latest per key. */
  private async stateChangesBetween(q: Queryable, roomId: string, since: number, before: number, stateAtStart: Map<string, string>): Promise<LoadedEvent[]> {
    const rows = await q.all<{ event_id: string; type: string; state_key: string }>(
      'SELECT event_id, type, state_key FROM events WHERE room_id = ? AND state_key IS NOT NULL AND stream_ordering > ? AND stream_ordering < ?',
      roomId,
      since,
      before,
    );
    const ids = new Set<string>();
    for (const r of rows) {
      const id = stateAtStart.get(stateKey(r.type, r.state_key));
      if (id) ids.add(id);
    }
    return this.rooms.reader.getEvents(q, ids);
  }

  private async leftRoom(q: Queryable, req: SyncRequest, roomId: string, leftAt: number, since: SyncToken | undefined): Promise<JsonObject> {
    const limit = syncTimelineLimit(req.filter.room?.timeline);
    const rows = await eventsStore.roomEventsBetween(q, roomId, since?.events ?? 0, leftAt, limit + 1, true);
    let events = (
      await this.rooms.reader.getEvents(
        q,
        rows.map((r) => r.event_id),
      )
    ).reverse();
    const limited = events.length > limit;
    if (limited) events = events.slice(events.length - limit);
    const visible = await this.visibility.filter(q, req.userId, events);
    const first = events[0];
    let state: LoadedEvent[];
    if (req.stateAfterField) {
      // The state as the user left it (their leave included), as a change from `since`.
      state = await stateAfterTimeline(q, this.rooms.reader, {
        roomId,
        timeline: events,
        since: since?.events,
        currentState: async () => new Map(),
        lazyMembers: req.filter.room?.state?.lazy_load_members ? new Set([req.userId, ...visible.map((e) => e.pdu.sender)]) : undefined,
      });
      state = state.filter((e) => eventMatches(req.filter.room?.state, { type: e.pdu.type, sender: e.pdu.sender }));
    } else {
      const stateIds = first ? await this.rooms.reader.stateOfGroup(q, first.stateGroup) : new Map<string, string>();
      state = since === undefined ? await this.rooms.reader.getEvents(q, stateIds.values()) : [];
    }
    return {
      timeline: {
        events: (await toClientEvents(q, this.rooms.reader, visible, { omitRoomId: true })) as unknown as JsonObject[],
        limited,
        prev_batch: formatPaginationToken(first ? first.streamOrdering - 1 : leftAt),
      },
      [req.stateAfterField ?? 'state']: { events: (await toClientEvents(q, this.rooms.reader, state, { omitRoomId: true })) as unknown as JsonObject[] },
      account_data: { events: [] },
    };
  }

  /** The room's state as an invitee or knocker may see it, plus their own membership event. */
  private async strippedState(q: Queryable, roomId: string, membershipEventId: string): Promise<JsonObject[]> {
    const own = await this.rooms.reader.getEvent(q, membershipEventId);
    const unsignedState = own?.pdu.unsigned?.invite_room_state ?? own?.pdu.unsigned?.knock_room_state;
    const out: JsonObject[] = [];
    if (Array.isArray(unsignedState)) out.push(...(unsignedState as JsonObject[]));
    else {
      const state = await this.rooms.currentStateIds(roomId, q);
      for (const t of STRIPPED_STATE_TYPES) {
        const id = state.get(stateKey(t, ''));
        const ev = id ? await this.rooms.reader.getEvent(q, id) : undefined;
        if (ev) out.push(strippedStateEvent(ev));
      }
      if (own) {
        const inviterId = state.get(stateKey('m.room.member', own.pdu.sender));
        const inviter = inviterId ? await this.rooms.reader.getEvent(q, inviterId) : undefined;
        if (inviter && inviter.eventId !== own.eventId) out.push(strippedStateEvent(inviter));
      }
    }
    if (own) out.push(strippedStateEvent(own));
    return out;
  }

  /** Room summary (heroes and member counts) that clients use to name unnamed rooms. */
  async summary(q: Queryable, roomId: string, userId: string): Promise<JsonObject> {
    const members = await eventsStore.membersOfRoom(q, roomId);
    const joined = members.filter((m) => m.membership === 'join');
    const invited = members.filter((m) => m.membership === 'invite');
    const heroes = [...joined, ...invited]
      .map((m) => m.user_id)
      .filter((u) => u !== userId)
      .sort()
      .slice(0, 5);
    return { 'm.heroes': heroes, 'm.joined_member_count': joined.length, 'm.invited_member_count': invited.length };
  }
}

/** The user's membership in a room as of a stream position. */
async function membershipAt(q: Queryable, roomId: string, userId: string, position: number): Promise<string | undefined> {
  const row = await q.get<{ json: string }>(
    "SELECT json FROM events WHERE room_id = ? AND type = 'm.room.member' AND state_key = ? AND stream_ordering <= ? ORDER BY stream_ordering DESC LIMIT 1",
    roomId,
    userId,
    position,
  );
  return row ? (JSON.parse(row.json) as { content?: { membership?: string } }).content?.membership : undefined;
}

/** Runs `jobs` at most `width` at a time; the results in the jobs' order. */
async function inBatches<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < jobs.length; i += width) out.push(...(await Promise.all(jobs.slice(i, i + width).map((job) => job()))));
  return out;
}

/** `stateField`: the classic `state`, or the field use_state_after names, which replaces it (sync.yaml: `state` MUST then be omitted). */
function emptyJoinedRoom(stateField: 'state' | StateAfterField = 'state'): JsonObject {
  return {
    timeline: { events: [], limited: false },
    [stateField]: { events: [] },
    account_data: { events: [] },
    ephemeral: { events: [] },
  };
}

function isEmpty(r: JsonObject): boolean {
  const rooms = r.rooms as Record<string, Record<string, unknown>>;
  return (
    Object.keys(rooms.join!).length === 0 &&
    Object.keys(rooms.invite!).length === 0 &&
    Object.keys(rooms.leave!).length === 0 &&
    Object.keys(rooms.knock!).length === 0 &&
    (r.account_data as { events: unknown[] }).events.length === 0 &&
    (r.presence as { events: unknown[] }).events.length === 0 &&
    (r.to_device as { events: unknown[] }).events.length === 0 &&
    (r.device_lists as { changed: unknown[]; left: unknown[] }).changed.length === 0 &&
    (r.device_lists as { changed: unknown[]; left: unknown[] }).left.length === 0
  );
}
