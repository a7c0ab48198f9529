// Turns a room's events into what the timeline shows: day separators between days, and
// consecutive messages from one sender grouped under a single name.
import { isMessage, isShownInTimeline, type EventLike } from './events.ts';

/** Messages further apart than this start a new group even from the same sender. */
export const GROUP_GAP_MS = 5 * 60 * 1000;

export type TimelineItem<E> =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'message'; key: string; event: E; continuation: boolean }
  | { kind: 'notice'; key: string; event: E }
  /** The room's creation and the creator's first settings (name, topic, invites), shown folded. */
  | { kind: 'creation'; key: string; event: E; settings: E[] };

/**
 * An event's time as a Date can hold it: `origin_server_ts` comes from other servers, and one
 * beyond ±8.64e15 ms (or not a number) makes every Date method and Intl format throw, which took
 * the whole timeline down. Such a time shows as the epoch instead.
 */
export function safeTs(ts: unknown): number {
  return typeof ts === 'number' && Number.isFinite(ts) && Math.abs(ts) <= 8.64e15 ? ts : 0;
}

export function buildTimeline<E extends EventLike>(events: readonly E[], keyOf: (ev: E) => string, now: Date = new Date()): TimelineItem<E>[] {
  const items: TimelineItem<E>[] = [];
  let lastDay = '';
  let lastSender: string | undefined;
  let lastTs = 0;
  let creation: { kind: 'creation'; key: string; event: E; settings: E[] } | undefined;
  for (const ev of events) {
    if (!isShownInTimeline(ev)) continue;
    if (creation) {
      if (!isMessage(ev) && ev.getSender() === creation.event.getSender()) {
        creation.settings.push(ev);
        continue;
      }
      creation = undefined;
    }
    const ts = safeTs(ev.getTs());
    const day = dayKey(new Date(ts));
    if (day !== lastDay) {
      items.push({ kind: 'day', key: `day-${day}`, label: dayLabel(new Date(ts), now) });
      lastDay = day;
      lastSender = undefined;
    }
    if (isMessage(ev)) {
      const sender = ev.getSender();
      const continuation = sender === lastSender && ts - lastTs < GROUP_GAP_MS;
      items.push({ kind: 'message', key: keyOf(ev), event: ev, continuation });
      lastSender = sender;
      lastTs = ts;
    } else if (ev.getType() === 'm.room.create') {
      creation = { kind: 'creation', key: keyOf(ev), event: ev, settings: [] };
      items.push(creation);
      lastSender = undefined;
    } else {
      items.push({ kind: 'notice', key: keyOf(ev), event: ev });
      lastSender = undefined;
    }
  }
  return items;
}

function dayKey(d: Date): string {
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function dayLabel(d: Date, now: Date = new Date()): string {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const that = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const days = Math.round((today.getTime() - that.getTime()) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const sameYear = d.getFullYear() === now.getFullYear();
  return sameYear
    ? format('day', { weekday: 'long', month: 'long', day: 'numeric' }, d)
    : format('day-year', { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' }, d);
}

/** A room list's time: the clock today, the weekday within a week, else the date. */
export function shortTime(ts: number, now: Date = new Date()): string {
  if (!ts) return '';
  const d = new Date(ts);
  const days = (now.getTime() - ts) / 86_400_000;
  if (d.toDateString() === now.toDateString()) return clockTime(ts);
  if (days < 6) return format('weekday', { weekday: 'short' }, d);
  if (d.getFullYear() === now.getFullYear()) return format('date', { month: 'short', day: 'numeric' }, d);
  return format('date-year', { month: 'short', day: 'numeric', year: 'numeric' }, d);
}

export function clockTime(ts: number): string {
  return format('clock', { hour: '2-digit', minute: '2-digit' }, new Date(ts));
}

/**
 * toLocaleDateString and toLocaleTimeString build a new Intl.DateTimeFormat on every call, which
 * costs far more than formatting with one, and the room list and the timeline format a time for
 * every row they render. One formatter per kind of label, in the user's locale, gives the same
 * strings.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function format(kind: string, options: Intl.DateTimeFormatOptions, d: Date): string {
  let f = formatters.get(kind);
  if (!f) formatters.set(kind, (f = new Intl.DateTimeFormat(undefined, options)));
  return f.format(d);
}

/** Up to two letters for an avatar: "Design team" -> "DT", "@bob:localhost" -> "B". */
export function initials(name: string): string {
  const words = name
    .replace(/^@([^:]+):.*$/, '$1')
    .replace(/^[@#!+]/, '')
    .split(/[\s:_.-]+/)
    .filter(Boolean);
  const letters = words.slice(0, 2).map((w) => Array.from(w)[0]!.toUpperCase());
  return letters.join('') || '?';
}

/** A stable colour slot (0-7) for an id, so a person keeps the same avatar colour everywhere. */
export function hue(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % 8;
}

/** Splits text into plain runs and http(s) links, so links can be rendered without raw HTML. */
export function linkify(text: string): Array<{ text: string; href?: string }> {
  const parts: Array<{ text: string; href?: string }> = [];
  const re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) parts.push({ text: text.slice(at, m.index) });
    parts.push({ text: m[0], href: m[0] });
    at = m.index + m[0].length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}
