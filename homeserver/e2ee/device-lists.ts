// Device list tracking (end_to_end_encryption.md "Tracking the device list for a user", and
// "Extensions to /sync"): which users' devices or keys changed between two stream tokens, who
// newly shares a room with the viewer and who no longer shares any. Feeds /sync `device_lists`
// and GET /keys/changes.
import type { Database } from '../storage/database.ts';
import type { Queryable } from '../storage/sqlite.ts';
import { currentStreamId } from '../storage/edus-store.ts';
import { deviceListStore } from '../storage/e2ee-store.ts';
import { usersSharingARoom } from '../edus/room-members.ts';
import type { Notifier } from '../sync/notifier.ts';

/** The two stream positions a device-list answer depends on. */
export interface DeviceListPositions {
  events: number;
  deviceLists: number;
}

export interface DeviceListChanges {
  changed: string[];
  left: string[];
}

/** What changed for a local user: these devices (added, re-keyed, re-signed or deleted), or their cross-signing keys. */
export interface LocalDeviceChange {
  deviceIds?: string[];
  crossSigning?: boolean;
}

export class DeviceLists {
  private readonly db: Database;
  private readonly notifier: Notifier;
  private position = 0;
  private readonly localListeners: Array<(userId: string, change: LocalDeviceChange) => void> = [];

  constructor(db: Database, notifier: Notifier) {
    this.db = db;
    this.notifier = notifier;
  }

  async init(): Promise<void> {
    this.position = await currentStreamId(this.db.reader, 'device_lists');
  }

  get currentPosition(): number {
    return this.position;
  }

  /** Inside a write: records that `userId`'s devices or keys changed. Call `committed` after the commit. */
  recordChange(tx: Queryable, userId: string): Promise<number> {
    return deviceListStore.recordChange(tx, userId);
  }

  /** Calls `fn` after each committed change of a local user's devices or keys (federation passes them on). */
  onLocalChange(fn: (userId: string, change: LocalDeviceChange) => void): void {
    this.localListeners.push(fn);
  }

  /**
   * After the commit of a change: moves the stream on and wakes everyone who tracks that user.
   * `change` says what changed for a local user; without it nothing is passed on.
   */
  async committed(streamId: number, userId: string, change?: LocalDeviceChange): Promise<void> {
    this.position = Math.max(this.position, streamId);
    this.notifier.notifyUsers(await usersSharingARoom(this.db.reader, userId));
    if (change) for (const fn of this.localListeners) fn(userId, change);
  }

  /** A remote user's devices or keys changed (an m.device_list_update or m.signing_key_update EDU). */
  async remoteChanged(userId: string): Promise<void> {
    const id = await this.db.write((tx) => this.recordChange(tx, userId));
    await this.committed(id, userId);
  }

  /**
   * Changes visible to `viewer` between two positions. `changed`: users sharing a room with the
   * viewer now whose devices or keys changed, plus users who share a room now but shared none at
   * `from` (the spec's note: the viewer's copy of their device list may be stale). `left`: users
   * who shared a room at `from` and share none now. The viewer's own changes count too, so that
   * their other devices learn of a new sibling. `membersMoved`, when known, names the users whose
   * membership of any room changed in the gap: none means nobody came into view or left it.
   */
  async changes(q: Queryable, viewer: string, from: DeviceListPositions, to: DeviceListPositions, membersMoved?: Set<string>): Promise<DeviceListChanges> {
    const changed = new Set<string>();
    const left = new Set<string>();
    const listsMoved = to.deviceLists > from.deviceLists;
    const eventsMoved = to.events > from.events && (membersMoved === undefined || membersMoved.size > 0);
    if (!listsMoved && !eventsMoved) return { changed: [], left: [] };
    const sharingNow = await usersSharingARoom(q, viewer);
    if (listsMoved) {
      for (const u of await deviceListStore.usersChangedBetween(q, from.deviceLists, to.deviceLists)) if (sharingNow.has(u)) changed.add(u);
    }
    if (eventsMoved) {
      const candidates = new Set<string>();
      const viewerMoved = new Set<string>();
      for (const e of await deviceListStore.memberEventsBetween(q, viewer, from.events, to.events)) {
        if (e.state_key === viewer) viewerMoved.add(e.room_id);
        else candidates.add(e.state_key);
      }
      // The viewer joining or leaving a room moves every member of it in or out of view.
      for (const roomId of viewerMoved) for (const u of await deviceListStore.membersEver(q, roomId)) candidates.add(u);
      candidates.delete(viewer);
      for (const u of candidates) {
        const now = sharingNow.has(u);
        const then = await sharedARoomAt(q, viewer, u, from.events);
        if (now && !then) changed.add(u);
        else if (!now && then) left.add(u);
      }
    }
    for (const u of left) changed.delete(u);
    return { changed: [...changed].sort(), left: [...left].sort() };
  }
}

/** Whether both users were joined to a common room at a stream position. */
async function sharedARoomAt(q: Queryable, a: string, b: string, position: number): Promise<boolean> {
  for (const roomId of await deviceListStore.roomsOfBoth(q, a, b)) {
    if ((await deviceListStore.membershipAt(q, roomId, a, position)) !== 'join') continue;
    if ((await deviceListStore.membershipAt(q, roomId, b, position)) === 'join') return true;
  }
  return false;
}
