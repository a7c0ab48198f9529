// Rooms the user has left, been removed from or banned from: the room list's "Historical"
// section, where each can be forgotten (client-server-api "Leaving rooms": after leaving, POST
// /forget stops the server sending the room to this user, in /sync's `leave` section too).
import type { Room } from 'matrix-js-sdk/lib/models/room.js';

/** The user's own membership event in a room, as the notice needs it. */
export interface MyMembership {
  membership: string;
  /** Who changed it: the user (left) or a moderator (removed, banned). */
  sender: string;
  reason?: unknown;
  /** The membership before it (unsigned.prev_content): a room only ever invited to is no history. */
  prevMembership?: unknown;
}

/**
 * Whether a room belongs in "Historical": the user was in it and is no longer (left, removed,
 * banned). A declined or withdrawn invite is not history: the user never was in the room, and
 * the invite simply goes away (as Element does).
 */
export function isHistorical(m: MyMembership | null): boolean {
  if (!m || (m.membership !== 'leave' && m.membership !== 'ban')) return false;
  return m.prevMembership !== 'invite' && m.prevMembership !== 'knock';
}

/** A reason is at most this long in the notice: it is one line in the room list. */
const REASON_CHARS = 120;

/** "You left", "Removed by Alice: spam", "Banned by Alice". */
export function leftNotice(m: MyMembership, me: string, nameOf: (userId: string) => string): string {
  const reason = typeof m.reason === 'string' && m.reason.trim() ? m.reason.trim().replace(/\s+/g, ' ') : '';
  const why = reason ? `: ${reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS - 1)}…` : reason}` : '';
  if (m.membership === 'ban') return `Banned by ${nameOf(m.sender)}${why}`;
  if (m.sender !== me) return `Removed by ${nameOf(m.sender)}${why}`;
  return 'You left';
}

/** The user's membership in `room` as its latest m.room.member event says. */
export function myMembership(room: Room, me: string): MyMembership | null {
  const ev = room.currentState.getMember(me)?.events.member;
  if (!ev) return null;
  const content = ev.getContent();
  return { membership: String(content.membership), sender: ev.getSender() ?? '', reason: content.reason, prevMembership: ev.getPrevContent().membership };
}

export interface HistoricalRoom {
  roomId: string;
  name: string;
  notice: string;
  /** When the user left: the newest first. */
  ts: number;
}

/** The rooms for the "Historical" section, newest departure first. */
export function historicalRooms(
  rooms: readonly Room[],
  me: string,
  nameOf: (room: Room, userId: string) => string,
  roomName: (room: Room) => string,
): HistoricalRoom[] {
  const out: HistoricalRoom[] = [];
  for (const room of rooms) {
    const m = myMembership(room, me);
    if (!isHistorical(m)) continue;
    const ts = room.currentState.getMember(me)?.events.member?.getTs() ?? 0;
    out.push({ roomId: room.roomId, name: roomName(room), notice: leftNotice(m!, me, (id) => nameOf(room, id)), ts });
  }
  return out.sort((a, b) => b.ts - a.ts || a.name.localeCompare(b.name));
}
