// Finding things: server-side message search (POST /search, client-server-api "Server Side
// Search"), the room list's filter, and the highlighted snippet a search result shows.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import type { ISearchResults } from 'matrix-js-sdk/lib/@types/search.js';
import { messageText, type EventLike } from './events.ts';

/**
 * Characters of a result's text shown around its first match. A search can match the middle of a
 * 60,000-character message; a result row shows one or two lines of it, like other clients do.
 */
export const SNIPPET_CHARS = 240;

/** One result, in what the results list shows. */
export interface SearchHit {
  eventId: string;
  roomId: string;
  sender: string;
  ts: number;
  text: string;
  emote: boolean;
}

/** A piece of a result's text, marked when it is one of the searched words. */
export interface Segment {
  text: string;
  match: boolean;
}

/**
 * Asks the server for messages holding `term`, newest first (matrix-js-sdk's searchRoomEvents
 * orders by `recent`), in every room the user is or was in, or only in `roomId`.
 */
export function searchMessages(client: MatrixClient, term: string, roomId?: string): Promise<ISearchResults> {
  return client.searchRoomEvents({ term: term.trim(), ...(roomId ? { filter: { rooms: [roomId] } } : {}) });
}

/** The next page of an earlier search, appended to its results (the server's next_batch). */
export function moreResults(client: MatrixClient, results: ISearchResults): Promise<ISearchResults> {
  return client.backPaginateRoomEventsSearch(results);
}

/** The results as rows: message events only (the server also matches room names and topics). */
export function hitsOf(results: ISearchResults): SearchHit[] {
  const hits: SearchHit[] = [];
  const seen = new Set<string>();
  for (const r of results.results) {
    const ev = r.context.getEvent() as EventLike & { getId(): string | undefined; getRoomId(): string | undefined };
    const id = ev.getId();
    const roomId = ev.getRoomId();
    if (!id || !roomId || seen.has(id) || ev.getType() !== 'm.room.message') continue;
    seen.add(id);
    hits.push({
      eventId: id,
      roomId,
      sender: ev.getSender() ?? '',
      ts: ev.getTs(),
      text: messageText(ev),
      emote: (ev.getContent() as { msgtype?: unknown }).msgtype === 'm.emote',
    });
  }
  return hits;
}

/** Lower case without accents, so that "cafe" finds "Café" as the server's full-text search does. */
function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * `text` cut into pieces, the ones equal to a highlight term (the server's `highlights`, or the
 * searched words) marked, ignoring case and accents. Folding keeps every character (letters lose
 * only combining marks, which NFD puts after them), so positions map back by counting letters.
 */
export function highlightSegments(text: string, terms: readonly string[]): Segment[] {
  const words = [...new Set(terms.map((t) => fold(t.trim())).filter((t) => t.length > 0))].sort((a, b) => b.length - a.length);
  if (words.length === 0 || text.length === 0) return text ? [{ text, match: false }] : [];
  // Fold character by character, remembering where each folded character came from.
  let folded = '';
  const origin: number[] = [];
  for (let i = 0; i < text.length;) {
    const code = text.codePointAt(i)!;
    const ch = String.fromCodePoint(code);
    // ASCII folds to itself in lower case; only the rest needs Unicode normalisation.
    const f = code < 0x80 ? ch.toLowerCase() : fold(ch);
    for (let k = 0; k < f.length; k++) origin.push(i);
    folded += f;
    i += ch.length;
  }
  origin.push(text.length);
  const segments: Segment[] = [];
  let last = 0;
  let at = 0;
  while (at < folded.length) {
    const word = words.find((w) => folded.startsWith(w, at));
    if (!word) {
      at++;
      continue;
    }
    const start = origin[at]!;
    const end = origin[at + word.length]!;
    if (start > last) segments.push({ text: text.slice(last, start), match: false });
    segments.push({ text: text.slice(start, end), match: true });
    last = end;
    at += word.length;
  }
  if (last < text.length) segments.push({ text: text.slice(last), match: false });
  return segments;
}

/**
 * At most `max` characters of `text` around the first of the terms, with an ellipsis where it is
 * cut, so that a match deep in a long message is still what the row shows.
 */
export function snippet(text: string, terms: readonly string[], max = SNIPPET_CHARS): string {
  if (text.length <= max) return text;
  let first = firstMatch(text, terms);
  if (first < 0) first = 0;
  const start = Math.max(0, Math.min(first - Math.floor(max / 3), text.length - max));
  const end = start + max;
  return `${start > 0 ? '…' : ''}${text.slice(start, end).trim()}${end < text.length ? '…' : ''}`;
}

/** Where the first term starts in `text`, or -1. */
function firstMatch(text: string, terms: readonly string[]): number {
  const words = terms.map((t) => fold(t.trim())).filter((t) => t.length > 0);
  const folded = fold(text);
  // Folding usually keeps the length (é is one letter before and after); then positions agree and
  // one native search does. Otherwise (Hangul, decomposed input) walk the text letter by letter.
  if (folded.length === text.length) {
    const at = words.map((w) => folded.indexOf(w)).filter((i) => i >= 0);
    return at.length ? Math.min(...at) : -1;
  }
  let pos = 0;
  for (const seg of highlightSegments(text, terms)) {
    if (seg.match) return pos;
    pos += seg.text.length;
  }
  return -1;
}

/**
 * The room list's filter: every word of the query appears in the room's name (ignoring case and
 * accents), as Element's room filter does; an empty query keeps every room.
 */
export function matchesRoomFilter(name: string, query: string): boolean {
  const words = fold(query).split(/\s+/).filter(Boolean);
  const hay = fold(name);
  return words.every((w) => hay.includes(w));
}

/** The room list's two lists with only the rooms the filter keeps. */
export function filterRoomLists<R extends { name: string }>(lists: { rooms: R[]; invites: R[] }, query: string): { rooms: R[]; invites: R[] } {
  if (!query.trim()) return lists;
  return { rooms: lists.rooms.filter((r) => matchesRoomFilter(r.name, query)), invites: lists.invites.filter((r) => matchesRoomFilter(r.name, query)) };
}

/**
 * The room list in two parts, as Element shows it: people (direct chats) first, then rooms, each
 * in the order given. Alt+ArrowUp/Down walks them in that same order.
 */
export function splitPeople<R extends { isDirect: boolean }>(rooms: readonly R[]): { people: R[]; rooms: R[] } {
  return { people: rooms.filter((r) => r.isDirect), rooms: rooms.filter((r) => !r.isDirect) };
}
