// Typing notifications (client-server-api modules/typing.md): kept in memory only, as they are
// worthless after a restart. Each change bumps a serial that /sync tokens carry.
import type { Notifier } from '../sync/notifier.ts';

interface RoomTyping {
  users: Map<string, NodeJS.Timeout>;
  serial: number;
}

/** Longest typing timeout we honour, whatever the client asks. */
const MAX_TYPING_MS = 120_000;
/** A remote user's typing lasts this long unless their server renews it (m.typing has no timeout; Synapse's figure). */
export const FEDERATION_TYPING_MS = 60_000;

/** A local user's typing update: `changed` is false when it only renewed the same state. */
export type LocalTypingListener = (roomId: string, userId: string, typing: boolean, changed: boolean) => void;

export class TypingService {
  private readonly rooms = new Map<string, RoomTyping>();
  private serialCounter = 0;
  private readonly notifier: Notifier;
  private readonly membersOf: (roomId: string) => Promise<string[]>;
  private readonly localListeners: LocalTypingListener[] = [];

  constructor(notifier: Notifier, membersOf: (roomId: string) => Promise<string[]>) {
    this.notifier = notifier;
    this.membersOf = membersOf;
  }

  get serial(): number {
    return this.serialCounter;
  }

  /** Calls `fn` after each typing update of a local user (federation passes them on). */
  onLocalTyping(fn: LocalTypingListener): void {
    this.localListeners.push(fn);
  }

  /** A local user's typing, from the client API. */
  async setTyping(roomId: string, userId: string, typing: boolean, timeoutMs: number): Promise<void> {
    await this.update(roomId, userId, typing, timeoutMs, true);
  }

  /** A remote user's typing, from a federation m.typing EDU (server-server-api.md "Typing Notifications"). */
  async setRemoteTyping(roomId: string, userId: string, typing: boolean): Promise<void> {
    await this.update(roomId, userId, typing, FEDERATION_TYPING_MS, false);
  }

  private async update(roomId: string, userId: string, typing: boolean, timeoutMs: number, local: boolean): Promise<void> {
    let room = this.rooms.get(roomId);
    if (!room) this.rooms.set(roomId, (room = { users: new Map(), serial: 0 }));
    const existing = room.users.get(userId);
    if (existing) clearTimeout(existing);
    const changed = typing ? !existing : !!existing;
    if (typing) {
      const timer = setTimeout(() => void this.update(roomId, userId, false, 0, local), Math.min(Math.max(timeoutMs, 0), MAX_TYPING_MS));
      timer.unref();
      room.users.set(userId, timer);
    } else {
      room.users.delete(userId);
    }
    if (local) for (const fn of this.localListeners) fn(roomId, userId, typing, changed);
    if (changed) {
      room.serial = ++this.serialCounter;
      this.notifier.notifyUsers(await this.membersOf(roomId));
    }
  }

  /** The m.typing event of a room if it changed after `since` (or always when since is undefined). */
  typingEvent(roomId: string, since: number | undefined, upTo: number): { type: 'm.typing'; content: { user_ids: string[] } } | undefined {
    const room = this.rooms.get(roomId);
    if (!room) return since === undefined ? undefined : undefined;
    if (since !== undefined && (room.serial <= since || room.serial > upTo)) return undefined;
    if (since === undefined && room.users.size === 0) return undefined;
    return { type: 'm.typing', content: { user_ids: [...room.users.keys()] } };
  }

  stop(): void {
    for (const r of this.rooms.values()) for (const t of r.users.values()) clearTimeout(t);
    this.rooms.clear();
  }
}
