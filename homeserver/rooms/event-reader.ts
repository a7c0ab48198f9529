// Reads events and state snapshots, with caches. Both the write path (inside a transaction, reading
// through its Queryable) and read paths use it; caches hold only committed or about-to-commit data
// and are cleared if a commit fails.
import type { PDU, StateKey } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { eventsStore, stateGroupsStore, type EventRow } from '../storage/events-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { Lru } from './lru.ts';
import { relationsStore } from '../storage/relations-store.ts';
import { remoteEventsStore, type OutlierRow } from '../storage/remote-events-store.ts';

/** Events read per query when many are asked for at once: one statement's JSON argument stays small. */
const EVENTS_PER_QUERY = 500;
/**
 * Events kept parsed. An initial /sync reads each joined room's timeline (10 events by default)
 * and its state (about 8 events in a small room): some 36,000 events for 2,000 rooms. Below one
 * sync's working set, every sync read them all again, so that the cost per room rose eightfold
 * from 10 to 1,000 rooms (issue 13). The cache (rooms/lru.ts) is sure to keep only the newer half
 * of its capacity, hence twice the working set. About 1 kB each in memory when full, nothing until
 * read.
 */
const EVENT_CACHE_EVENTS = 80_000;
/**
 * State entries kept, over all cached state groups (each group is a full map of its state). A
 * 2,000-room sync reads some 11 groups per small room, 130,000 entries; twice that (as above),
 * at some 60 bytes an entry, bounds the cache near 20 MB whatever the rooms' sizes.
 */
const STATE_CACHE_ENTRIES = 300_000;

export interface LoadedEvent {
  eventId: string;
  roomId: string;
  streamOrdering: number;
  /** State before this event (see storage: state_group). */
  stateGroup: number | null;
  redactedBy: string | null;
  /** As stored: already redacted when redactedBy is set. */
  pdu: PDU;
  /**
   * Set for an event outside the timeline (storage: outlier_events): 'outlier' has no known state
   * (stateGroup null), 'soft_failed' has the state before it. Such events are never shown to clients.
   */
  outlier?: 'outlier' | 'soft_failed';
}

/** State as (type, state_key) -> event id. */
export type StateIds = Map<StateKey, string>;

export class EventReader {
  private readonly events = new Lru<string, LoadedEvent>(EVENT_CACHE_EVENTS);
  /** Weighed by the entries of each state map: a group of a room of thousands costs what it holds. */
  private readonly groups = new Lru<number, StateIds>(STATE_CACHE_ENTRIES, undefined, (state) => Math.max(1, state.size));

  /**
   * Ids of events that have (or had) a child relation, loaded once and kept up as relations are
   * written: most events have none, and then serving them needs no query for bundled aggregations.
   */
  private parents: Set<string> | undefined;

  async mayHaveChildren(q: Queryable, eventId: string): Promise<boolean> {
    if (!this.parents) {
      const ids = await relationsStore.parentIds(q);
      this.parents ??= new Set(ids);
    }
    return this.parents.has(eventId);
  }

  noteParent(eventId: string): void {
    this.parents?.add(eventId);
  }

  async getEvent(q: Queryable, eventId: string): Promise<LoadedEvent | undefined> {
    const hit = this.events.get(eventId);
    if (hit) return hit;
    const row = await eventsStore.getEvent(q, eventId);
    if (row) return this.loaded(row);
    const outlier = await remoteEventsStore.getOutlier(q, eventId);
    return outlier ? this.loadedOutlier(outlier) : undefined;
  }

  /**
   * The events of `ids` that exist, in the order asked for. Those not cached are read together, a
   * batch per query: a sync reads tens of events per room, and one query each made a 1,000-room
   * initial sync some 50,000 queries in turn (issue 13).
   */
  async getEvents(q: Queryable, ids: Iterable<string>): Promise<LoadedEvent[]> {
    const wanted = [...ids];
    const found = new Map<string, LoadedEvent>();
    const missing: string[] = [];
    for (const id of wanted) {
      const hit = this.events.get(id);
      if (hit) found.set(id, hit);
      else if (!found.has(id)) missing.push(id);
    }
    for (let i = 0; i < missing.length; i += EVENTS_PER_QUERY) {
      const batch = [...new Set(missing.slice(i, i + EVENTS_PER_QUERY))];
      for (const row of await eventsStore.getEventsByIds(q, batch)) found.set(row.event_id, this.loaded(row));
      const outliers = batch.filter((id) => !found.has(id));
      if (outliers.length > 0) for (const row of await remoteEventsStore.getOutliers(q, outliers)) found.set(row.event_id, this.loadedOutlier(row));
    }
    const out: LoadedEvent[] = [];
    for (const id of wanted) {
      const e = found.get(id);
      if (e) out.push(e);
    }
    return out;
  }

  private loaded(row: EventRow): LoadedEvent {
    const e: LoadedEvent = {
      eventId: row.event_id,
      roomId: row.room_id,
      streamOrdering: row.stream_ordering,
      stateGroup: row.state_group,
      redactedBy: row.redacted_by,
      pdu: JSON.parse(row.json) as PDU,
    };
    this.events.set(e.eventId, e);
    return e;
  }

  private loadedOutlier(row: OutlierRow): LoadedEvent {
    const e: LoadedEvent = {
      eventId: row.event_id,
      roomId: row.room_id,
      streamOrdering: 0,
      stateGroup: row.state_group,
      redactedBy: null,
      pdu: JSON.parse(row.json) as PDU,
      outlier: row.kind,
    };
    this.events.set(e.eventId, e);
    return e;
  }

  /**
   * What a write job put in the caches, so a job that fails can take it out again: its rows were
   * rolled back, and SQLite hands a rolled-back state group's id to the next group it inserts.
   */
  private journal: { events: string[]; groups: number[] } | undefined;

  beginJournal(): void {
    this.journal = { events: [], groups: [] };
  }

  endJournal(): void {
    this.journal = undefined;
  }

  rollbackJournal(): void {
    if (!this.journal) return;
    for (const id of this.journal.events) this.events.delete(id);
    for (const id of this.journal.groups) this.groups.delete(id);
    this.journal = undefined;
  }

  remember(e: LoadedEvent): void {
    this.journal?.events.push(e.eventId);
    this.events.set(e.eventId, e);
  }

  forget(eventId: string): void {
    this.events.delete(eventId);
  }

  /**
   * The state a group holds. A group is a delta against its previous one: the chain down to the
   * nearest cached group (or the full snapshot) is read in two queries, its ids then the entries
   * of every group in it, not two per group in turn; each group on the way is cached.
   */
  async stateOfGroup(q: Queryable, groupId: number | null): Promise<StateIds> {
    if (groupId === null) return new Map();
    const hit = this.groups.get(groupId);
    if (hit) return hit;
    const chain = await stateGroupsStore.chainOf(q, groupId);
    if (chain.length === 0) throw new Error(`state group ${groupId} missing`);
    let base: StateIds | undefined;
    let toLoad = chain;
    for (let i = 1; i < chain.length; i++) {
      base = this.groups.get(chain[i]!.id);
      if (base) {
        toLoad = chain.slice(0, i);
        break;
      }
    }
    const last = toLoad[toLoad.length - 1]!;
    if (base === undefined && last.prev_group !== null) throw new Error(`state group ${last.prev_group} missing`);
    const entries = new Map<number, Array<{ type: string; state_key: string; event_id: string }>>();
    for (const e of await stateGroupsStore.entriesOfGroups(
      q,
      toLoad.map((g) => g.id),
    )) {
      const list = entries.get(e.group_id);
      if (list) list.push(e);
      else entries.set(e.group_id, [e]);
    }
    let state: StateIds = base ?? new Map();
    for (let i = toLoad.length - 1; i >= 0; i--) {
      const id = toLoad[i]!.id;
      state = new Map(state);
      for (const e of entries.get(id) ?? []) state.set(stateKey(e.type, e.state_key), e.event_id);
      this.groups.set(id, state);
    }
    return state;
  }

  rememberGroup(groupId: number, state: StateIds): void {
    this.journal?.groups.push(groupId);
    this.groups.set(groupId, state);
  }

  /** State after an event: the state before it, plus itself when it is a state event. */
  async stateAfter(q: Queryable, e: LoadedEvent): Promise<StateIds> {
    const before = await this.stateOfGroup(q, e.stateGroup);
    if (e.pdu.state_key === undefined) return before;
    const after = new Map(before);
    after.set(stateKey(e.pdu.type, e.pdu.state_key), e.eventId);
    return after;
  }

  clear(): void {
    this.parents = undefined;
    this.events.clear();
    this.groups.clear();
  }
}
