// The room service: every local event goes through here (build -> auth -> persist -> notify).
// Handlers for the client API (and later federation) call it; it knows nothing of HTTP.
import { stateKey } from '../protocol/types.ts';
import { getRoomVersion } from '../protocol/room-versions.ts';
import { redactEvent } from '../protocol/redaction.ts';
import type { SigningKey } from '../protocol/signing-key.ts';
import type { Database } from '../storage/database.ts';
import { eventsStore } from '../storage/events-store.ts';
import { pushStore, type UnreadCheckpoint } from '../storage/push-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { MatrixError } from '../http/matrix-error.ts';
import type { Notifier } from '../sync/notifier.ts';
import { appendLocalEvent, type NewLocalEvent } from './append-event.ts';
import { EventReader, type LoadedEvent, type StateIds } from './event-reader.ts';
import { memberUserIds, RoomHeads, type RoomHead } from './room-heads.ts';
import { userPowerLevel, powerLevelFor } from '../protocol/power-levels.ts';
import { authRulesVersion } from '../protocol/auth-rules-versions.ts';
import type { PushRules } from '../push/push-rules.ts';
import { recordPushActions } from '../push/push-actions.ts';
import { UnreadCounters, type UnreadChange } from '../push/unread-counters.ts';
import type { PDU } from '../protocol/types.ts';
import { persistRemoteEvent, persistOutliers, applyCurrentState, type RemoteEventInput, type RemoteOutcome } from './remote-event.ts';
import { remoteEventsStore } from '../storage/remote-events-store.ts';
import { persistBackfilled, type BackfillOutcome } from './backfilled-events.ts';
import { StreamChangeCache } from '../sync/stream-change-cache.ts';
import { RecentEvents } from './recent-events.ts';
import { RecentTransactions } from './recent-transactions.ts';

export interface RoomServiceDeps {
  db: Database;
  serverName: string;
  signingKey: SigningKey;
  notifier: Notifier;
  /** Users' push rules, evaluated for every appended event; without them nothing notifies. */
  push?: PushRules;
  now?: () => number;
}

export class RoomService {
  readonly db: Database;
  readonly reader = new EventReader();
  readonly heads = new RoomHeads(this.reader);
  readonly serverName: string;
  private readonly signingKey: SigningKey;
  private readonly notifier: Notifier;
  readonly push: PushRules | undefined;
  private readonly now: () => number;
  /** Highest stream ordering whose transaction has committed: what sync may hand out. */
  private committedPosition = 0;
  private readonly committedListeners: Array<(events: LoadedEvent[]) => void> = [];
  private readonly transactionHooks: Array<(tx: Queryable, events: LoadedEvent[]) => Promise<void>> = [];
  /** Rooms by the position of their latest committed event, for incremental /sync. */
  roomChanges = new StreamChangeCache(0);
  /** Users by the position of their latest committed m.room.member event. */
  memberChanges = new StreamChangeCache(0);
  /** Each room's newest timeline events, for incremental /sync. */
  recentEvents = new RecentEvents(0);
  /**
   * Moves after every committed job that may have changed a membership row: one with a member
   * event or a remote event (whose state resolution may change any), and forgetting a room.
   */
  membershipEpoch = 0;
  /** Users' unread counters per room, moved here as each write job that moved them commits. */
  readonly unread = new UnreadCounters(
    (cp) => this.storeCheckpoint(cp),
    (roomId, userIds) => void this.sweepCheckpoints(roomId, userIds),
  );
  /** Transaction ids of recent client sends, for their idempotency without a query. */
  readonly txns = new RecentTransactions();

  constructor(deps: RoomServiceDeps) {
    this.db = deps.db;
    this.serverName = deps.serverName;
    this.signingKey = deps.signingKey;
    this.notifier = deps.notifier;
    this.push = deps.push;
    this.now = deps.now ?? Date.now;
    deps.db.onCommitFailure = () => {
      this.heads.clear();
      this.reader.clear();
    };
  }

  async init(): Promise<void> {
    this.committedPosition = await eventsStore.maxStreamOrdering(this.db.reader);
    this.roomChanges = new StreamChangeCache(this.committedPosition);
    this.memberChanges = new StreamChangeCache(this.committedPosition);
    this.recentEvents = new RecentEvents(this.committedPosition);
  }

  /**
   * A checkpoint only saves a later count some work: one that cannot be stored (a full disk) is
   * counted again next time, so its failure is nobody's request's.
   */
  private storeCheckpoint(cp: UnreadCheckpoint): void {
    this.db.write((tx) => pushStore.saveCheckpoint(tx, cp)).catch(() => undefined);
  }

  /** Counts each user from their checkpoint, one after another, and stores what was counted. */
  private async sweepCheckpoints(roomId: string, userIds: string[]): Promise<void> {
    for (const userId of userIds) {
      try {
        const { scanned, checkpoint } = await pushStore.unreadByThread(this.db.reader, roomId, userId);
        if (scanned > 0) this.storeCheckpoint(checkpoint);
      } catch {
        return; // The database is closing, or failing: the next sweep or count starts over.
      }
    }
  }

  get position(): number {
    return this.committedPosition;
  }

  /**
   * Runs `build` in one write job with a helper that appends events to rooms; after the commit,
   * moves the stream position and wakes the users of every touched room.
   */
  async write<T>(build: (w: RoomWriter) => Promise<T>): Promise<T> {
    const touched = new Map<string, LoadedEvent[]>();
    const unreadChanges: UnreadChange[] = [];
    let result: T;
    this.unread.begin();
    try {
      result = await this.db.write(async (tx) => {
        touched.clear();
        unreadChanges.length = 0;
        const writer = new RoomWriter(tx, this, touched, unreadChanges);
        this.reader.beginJournal();
        try {
          const value = await build(writer);
          if (this.transactionHooks.length > 0) {
            const events = [...touched.values()].flat();
            if (events.length > 0) for (const hook of this.transactionHooks) await hook(tx, events);
          }
          this.reader.endJournal();
          return value;
        } catch (err) {
          // The job's rows were rolled back: drop the heads it advanced and what it cached.
          for (const roomId of writer.touchedRooms) this.heads.forget(roomId);
          this.reader.rollbackJournal();
          throw err;
        }
      });
    } catch (err) {
      this.unread.end();
      throw err;
    }
    // Counters may run ahead of the position /sync hands out, as SQL's already did: the next sync
    // brings the events behind them.
    for (const change of unreadChanges) this.unread.committed(change);
    this.unread.end();
    let max = this.committedPosition;
    const wake = new Set<string>();
    for (const [roomId, events] of touched) {
      for (const e of events) {
        max = Math.max(max, e.streamOrdering);
        // History backfilled from other servers sits below every token (rooms/backfilled-events.ts).
        if (e.streamOrdering <= 0) continue;
        this.roomChanges.record(roomId, e.streamOrdering);
        this.recentEvents.record(roomId, e.streamOrdering, e.eventId);
        if (e.pdu.type === 'm.room.member' && e.pdu.state_key !== undefined) this.memberChanges.record(e.pdu.state_key, e.streamOrdering);
      }
      if (events.some((e) => e.pdu.type === 'm.room.member' || !e.pdu.sender.endsWith(`:${this.serverName}`))) this.membershipEpoch++;
      const head = await this.heads.get(this.db.reader, roomId);
      if (head) for (const userId of memberUserIds(head)) wake.add(userId);
      for (const e of events) if (e.pdu.type === 'm.room.member' && e.pdu.state_key) wake.add(e.pdu.state_key);
    }
    this.committedPosition = Math.max(this.committedPosition, max);
    this.notifier.notifyUsers(wake);
    if (this.committedListeners.length > 0) {
      const all = [...touched.values()].flat();
      for (const fn of this.committedListeners) fn(all);
    }
    return result;
  }

  /**
   * Runs `fn` inside each write job that appended events, before it commits: what it writes
   * commits or rolls back with the events (the federation queue: no event is acknowledged unqueued).
   */
  inTransactionWithEvents(fn: (tx: Queryable, events: LoadedEvent[]) => Promise<void>): void {
    this.transactionHooks.push(fn);
  }

  /** Calls `fn` after each write job commits, with the events it appended (local and remote). */
  onCommitted(fn: (events: LoadedEvent[]) => void): void {
    this.committedListeners.push(fn);
  }

  /** Sends one event to a room; the common case for message and state sends. */
  async send(roomId: string, ev: NewLocalEvent): Promise<LoadedEvent> {
    return this.write((w) => w.append(roomId, ev));
  }

  appendContext() {
    return { serverName: this.serverName, signingKey: this.signingKey, reader: this.reader, now: this.now };
  }

  /** Current state of a room as committed, read through the reader connection. */
  async currentStateIds(roomId: string, q: Queryable = this.db.reader): Promise<Map<string, string>> {
    const m = new Map<string, string>();
    for (const r of await eventsStore.currentState(q, roomId)) m.set(stateKey(r.type, r.state_key), r.event_id);
    return m;
  }

  async currentStateEvent(roomId: string, type: string, key: string, q: Queryable = this.db.reader): Promise<LoadedEvent | undefined> {
    const row = await q.get<{ event_id: string }>('SELECT event_id FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?', roomId, type, key);
    return row ? this.reader.getEvent(q, row.event_id) : undefined;
  }

  async roomVersion(roomId: string, q: Queryable = this.db.reader): Promise<string | undefined> {
    const r = await q.get<{ room_version: string }>('SELECT room_version FROM rooms WHERE room_id = ?', roomId);
    return r?.room_version;
  }

  /** A user's power in a room and the level an action needs, for checks the auth rules leave to the server. */
  async powerOf(roomId: string, userId: string, q: Queryable = this.db.reader) {
    const version = authRulesVersion((await this.roomVersion(roomId, q)) ?? '12')!;
    const state = new Map();
    for (const [type, key] of [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
    ] as const) {
      const e = await this.currentStateEvent(roomId, type, key, q);
      if (e) state.set(stateKey(type, key), e.pdu);
    }
    return {
      level: userPowerLevel(state, userId, version),
      redact: powerLevelFor('redact', state),
    };
  }
}

/** What a write job uses to append events; it remembers which rooms it touched. */
export class RoomWriter {
  readonly tx: Queryable;
  private readonly svc: RoomService;
  private readonly touched: Map<string, LoadedEvent[]>;
  private readonly unreadChanges: UnreadChange[];
  readonly touchedRooms = new Set<string>();

  constructor(tx: Queryable, svc: RoomService, touched: Map<string, LoadedEvent[]>, unreadChanges: UnreadChange[]) {
    this.tx = tx;
    this.svc = svc;
    this.touched = touched;
    this.unreadChanges = unreadChanges;
  }

  async head(roomId: string): Promise<RoomHead> {
    const head = await this.svc.heads.get(this.tx, roomId);
    if (!head) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
    return head;
  }

  async append(roomId: string, ev: NewLocalEvent): Promise<LoadedEvent> {
    const head = await this.head(roomId);
    // The head changes only once the event is stored: an event refused before that (not allowed,
    // or its transaction id already sent) leaves the head as it was, and it need not be reloaded.
    const beforeStore = async () => {
      await ev.beforeStore?.();
      this.touchedRooms.add(roomId);
    };
    const e = await appendLocalEvent(this.tx, this.svc.appendContext(), head, { ...ev, beforeStore });
    if (ev.type === 'm.room.redaction') await this.applyRedaction(head, e);
    await this.recordPush(head, e);
    this.record(e);
    return e;
  }

  /**
   * Persists a fully formed PDU (received over federation, or co-signed by another server) through
   * the receipt checks 4-6 (rooms/remote-event.ts); the caller has verified signatures and hashes.
   */
  async appendRemote(roomId: string, input: RemoteEventInput): Promise<RemoteOutcome> {
    const head = await this.head(roomId);
    this.touchedRooms.add(roomId);
    const outcome = await persistRemoteEvent(this.tx, this.svc.reader, head, input);
    if (outcome.kind !== 'accepted') return outcome;
    const e = outcome.event;
    if (e.pdu.type === 'm.room.redaction') await this.applyRedaction(head, e);
    await this.recordPush(head, e);
    this.record(e);
    return outcome;
  }

  /** Stores events known without their state (auth chains, send_join state), checked against their auth events. */
  async storeOutliers(roomId: string, version: string, events: Array<{ eventId: string; pdu: PDU }>, createEventId?: string): Promise<Set<string>> {
    return persistOutliers(this.tx, this.svc.reader, roomId, version, events, createEventId);
  }

  /**
   * A room this server joins through another one (send_join): `state` is the state before
   * `join`, `authChain` the auth events of both. The room's head starts at that state, then the
   * join goes through the usual receipt checks.
   */
  async joinRemoteRoom(
    roomId: string,
    version: string,
    state: Array<{ eventId: string; pdu: PDU }>,
    authChain: Array<{ eventId: string; pdu: PDU }>,
    join: { eventId: string; pdu: PDU },
  ): Promise<RemoteOutcome> {
    const create = state.find((e) => e.pdu.type === 'm.room.create' && e.pdu.state_key === '');
    if (!create) throw new MatrixError(502, 'M_UNKNOWN', 'The joining server sent no m.room.create event');
    const known = await this.svc.heads.get(this.tx, roomId);
    await remoteEventsStore.insertRemoteRoom(this.tx, roomId, version, create.pdu.sender);
    const stored = await this.storeOutliers(roomId, version, [...authChain, ...state], create.eventId);
    const stateBefore = new Map<string, string>();
    for (const e of state) if (e.pdu.state_key !== undefined && stored.has(e.eventId)) stateBefore.set(stateKey(e.pdu.type, e.pdu.state_key), e.eventId);
    // A room we knew (we left it, and the room went on without us): the join's prev_events are
    // new to us, so the state before it is the one the resident server sent.
    if (known) return this.appendRemote(roomId, { ...join, stateBefore });
    const head: RoomHead = {
      roomId,
      version,
      state: new Map(),
      stateGroup: null,
      chainLength: 0,
      extremities: [...join.pdu.prev_events],
      maxDepth: Math.max(0, ...state.map((e) => e.pdu.depth)),
    };
    await applyCurrentState(this.tx, this.svc.reader, head, stateBefore);
    await eventsStore.setForwardExtremities(this.tx, roomId, head.extremities);
    this.svc.heads.set(head);
    return this.appendRemote(roomId, { ...join, stateBefore });
  }

  /** History from another server, stored below every position, placed by its prev_events (rooms/backfilled-events.ts). */
  async storeBackfilled(roomId: string, events: Array<{ eventId: string; pdu: PDU }>, statesBefore: Map<string, StateIds>): Promise<BackfillOutcome> {
    const head = await this.head(roomId);
    return persistBackfilled(this.tx, this.svc.reader, head, events, statesBefore);
  }

  /**
   * A local user's own membership event in a room this server is not part of: an invite received
   * from another server (with its invite_room_state in `unsigned`), a rejected invite, a knock.
   * Kept in the timeline table without state, so that /sync shows it in the invite/leave/knock section.
   */
  async storeOutOfRoomMembership(roomId: string, eventId: string, pdu: PDU): Promise<LoadedEvent> {
    const known = await this.svc.reader.getEvent(this.tx, eventId);
    if (known && !known.outlier) return known;
    const streamOrdering = await eventsStore.insertEvent(this.tx, { eventId, roomId, pdu, stateGroup: null });
    await eventsStore.setMembership(this.tx, roomId, pdu.state_key!, String(pdu.content.membership), eventId, streamOrdering);
    const e: LoadedEvent = { eventId, roomId, streamOrdering, stateGroup: null, redactedBy: null, pdu };
    this.svc.reader.remember(e);
    this.touchedRooms.add(roomId);
    this.record(e);
    return e;
  }

  /** Appends to a head that is not yet registered (a room being created). */
  async appendToNewHead(head: RoomHead, ev: NewLocalEvent): Promise<LoadedEvent> {
    const e = await appendLocalEvent(this.tx, this.svc.appendContext(), head, ev);
    this.svc.heads.set(head);
    this.touchedRooms.add(head.roomId);
    await this.recordPush(head, e);
    this.record(e);
    return e;
  }

  /** Push rules are evaluated in the event's own transaction (push.md "Server behaviour"). */
  private async recordPush(head: RoomHead, e: LoadedEvent): Promise<void> {
    const push = this.svc.push;
    if (push) this.unreadChanges.push(await recordPushActions(this.tx, { rules: push, reader: this.svc.reader, serverName: this.svc.serverName }, head, e));
  }

  private record(e: LoadedEvent): void {
    const list = this.touched.get(e.roomId) ?? [];
    list.push(e);
    this.touched.set(e.roomId, list);
  }

  /** client-server-api "Redactions": the server strips the target once the redaction is accepted. */
  private async applyRedaction(head: RoomHead, redaction: LoadedEvent): Promise<void> {
    const targetId = (redaction.pdu.content.redacts as string | undefined) ?? redaction.pdu.redacts;
    if (!targetId) return;
    const target = await this.svc.reader.getEvent(this.tx, targetId);
    if (!target || target.roomId !== head.roomId || target.redactedBy) return;
    // Rooms v3+ (rooms/fragments/v3-handling-redactions.md): the auth rules allow any redaction; it
    // is applied only if its sender has the redact level or shares the target sender's domain.
    const domain = (u: string) => u.slice(u.indexOf(':') + 1);
    if (domain(redaction.pdu.sender) !== domain(target.pdu.sender)) {
      const p = await this.svc.powerOf(head.roomId, redaction.pdu.sender, this.tx);
      if (p.level < p.redact) return;
    }
    const version = getRoomVersion(head.version)!;
    const redacted = redactEvent(target.pdu, version);
    await eventsStore.setRedactedBy(this.tx, targetId, redaction.eventId, JSON.stringify(redacted));
    this.svc.reader.remember({ ...target, redactedBy: redaction.eventId, pdu: redacted });
  }
}
