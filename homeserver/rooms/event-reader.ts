// Reads events and state snapshots, with caches. Both the write path (inside a transaction, reading
// through its Queryable) and read paths use it; caches hold only committed or about-to-commit data
// and are cleared if a commit fails.
import type { PDU, StateKey } from '../protocol/types.ts';
import { stateKey } from '../protocol/types.ts';
import { eventsStore, stateGroupsStore } from '../storage/events-store.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { Lru } from './lru.ts';
import { relationsStore } from '../storage/relations-store.ts';
import { remoteEventsStore } from '../storage/remote-events-store.ts';

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
  private readonly events = new Lru<string, LoadedEvent>(20_000);
  private readonly groups = new Lru<number, StateIds>(2_000);

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
    if (!row) return this.getOutlier(q, eventId);
    const e: LoadedEvent = {
      eventId: row.event_id,
      roomId: row.room_id,
      streamOrdering: row.stream_ordering,
      stateGroup: row.state_group,
      redactedBy: row.redacted_by,
      pdu: JSON.parse(row.json) as PDU,
    };
    this.events.set(eventId, e);
    return e;
  }

  private async getOutlier(q: Queryable, eventId: string): Promise<LoadedEvent | undefined> {
    const row = await remoteEventsStore.getOutlier(q, eventId);
    if (!row) return undefined;
    const e: LoadedEvent = {
      eventId,
      roomId: row.room_id,
      streamOrdering: 0,
      stateGroup: row.state_group,
      redactedBy: null,
      pdu: JSON.parse(row.json) as PDU,
      outlier: row.kind,
    };
    this.events.set(eventId, e);
    return e;
  }

  async getEvents(q: Queryable, ids: Iterable<string>): Promise<LoadedEvent[]> {
    const out: LoadedEvent[] = [];
    for (const id of ids) {
      const e = await this.getEvent(q, id);
      if (e) out.push(e);
    }
    return out;
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

  async stateOfGroup(q: Queryable, groupId: number | null): Promise<StateIds> {
    if (groupId === null) return new Map();
    const hit = this.groups.get(groupId);
    if (hit) return hit;
    const group = await stateGroupsStore.getGroup(q, groupId);
    if (!group) throw new Error(`state group ${groupId} missing`);
    const base = group.prev_group === null ? new Map<StateKey, string>() : new Map(await this.stateOfGroup(q, group.prev_group));
    for (const e of await stateGroupsStore.groupEntries(q, groupId)) base.set(stateKey(e.type, e.state_key), e.event_id);
    this.groups.set(groupId, base);
    return base;
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
