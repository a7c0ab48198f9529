// Who has read how far, for the timeline's read-receipt avatars, and where the user's own
// unread messages start, for "jump to first unread". Pure: works on plain event views, so the
// unit tests need no SDK (client-server-api "Receipts": a receipt marks everything up to and
// including its event as read).

/** Avatars shown under one event before the rest are folded into "+n": a row stays one line. */
export const MAX_RECEIPT_AVATARS = 3;

export interface EventView {
  id: string | undefined;
  sender: string | undefined;
  /** The timeline gives this event a row a receipt can sit under (a message, not a state change). */
  hasRow: boolean;
}

/**
 * Places each user's receipt under the row of the event they have read up to. A receipt on an
 * event without a row (a state change, an edit) moves back to the nearest earlier row: the
 * reader has read that too. A receipt on an event that is not loaded is left out: it is older
 * than what is shown, so nothing shown has been read. `readUpTo` maps user → event id.
 */
export function placeReceipts(events: readonly EventView[], readUpTo: ReadonlyMap<string, string>): Map<string, string[]> {
  const indexOf = new Map<string, number>();
  events.forEach((ev, i) => ev.id && indexOf.set(ev.id, i));
  const placed = new Map<string, string[]>();
  for (const [userId, eventId] of readUpTo) {
    let i = indexOf.get(eventId);
    if (i === undefined) continue;
    while (i >= 0 && !events[i]!.hasRow) i--;
    if (i < 0) continue;
    const id = events[i]!.id!;
    const readers = placed.get(id);
    if (readers) readers.push(userId);
    else placed.set(id, [userId]);
  }
  return placed;
}

/** The first few readers to draw as avatars, and how many more there are. */
export function foldReaders<T>(readers: readonly T[], max = MAX_RECEIPT_AVATARS): { shown: T[]; more: number } {
  // With one more than fits, "+1" would take the place of that avatar: show it instead.
  if (readers.length <= max) return { shown: [...readers], more: 0 };
  return { shown: readers.slice(0, max - 1), more: readers.length - (max - 1) };
}

/** The tooltip and accessible name: "Read by Bob, Carol". */
export function readByLabel(names: readonly string[]): string {
  return `Read by ${names.join(', ')}`;
}

/**
 * Where unread messages start: the first event with a row, after the fully-read marker, that
 * someone else sent. `found` is false when the marker is not among the loaded events: the first
 * unread is older than what is loaded, and the caller loads more history to find it.
 */
export function firstUnread(events: readonly EventView[], markerId: string | undefined, me: string): { found: boolean; id: string | null } {
  if (!markerId) return { found: true, id: null };
  const at = events.findIndex((ev) => ev.id === markerId);
  if (at === -1) return { found: false, id: null };
  for (let i = at + 1; i < events.length; i++) {
    const ev = events[i]!;
    if (ev.hasRow && ev.sender !== me && ev.id) return { found: true, id: ev.id };
  }
  return { found: true, id: null };
}
