// The composer's @-autocomplete, as pure functions: the `@query` being typed at the caret, the
// room members it matches, and the text once one is picked (the member's name and a space).

export interface MemberCandidate {
  userId: string;
  /** The member's display name in the room (the user ID when they have none). */
  name: string;
}

export interface MentionQuery {
  /** Where the `@` is. */
  start: number;
  /** What follows it, up to the caret. */
  query: string;
}

/** The listbox's id, for the composer's aria-controls. */
export const MENTION_LIST_ID = 'mention-list';

/** How many members the list shows: more is a list to scroll, not a suggestion. */
export const MAX_SUGGESTIONS = 8;
/** Longer than any display name worth matching (the server's limit is 256); past it, no lookup. */
const MAX_QUERY_LENGTH = 64;

/** The `@word` that ends at the caret, when the `@` starts a word (not the middle of an e-mail address). */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at === -1) return null;
  const query = before.slice(at + 1);
  if (/\s/.test(query) || query.length > MAX_QUERY_LENGTH) return null;
  const prev = before[at - 1];
  if (prev !== undefined && !/[\s([{"'«]/.test(prev)) return null;
  return { start: at, query };
}

/**
 * The members `query` names, best first: a name or user ID that starts with it, then one with a
 * word that does, then one that contains it; the sender is left out.
 */
export function matchMembers(query: string, members: readonly MemberCandidate[], selfId: string, limit = MAX_SUGGESTIONS): MemberCandidate[] {
  const q = query.toLowerCase();
  const scored: { m: MemberCandidate; score: number }[] = [];
  for (const m of members) {
    if (m.userId === selfId) continue;
    const name = m.name.toLowerCase();
    const id = m.userId.toLowerCase();
    let score: number;
    if (name.startsWith(q) || id.startsWith(`@${q}`)) score = 0;
    else if (name.split(/\s+/).some((w) => w.startsWith(q))) score = 1;
    else if (name.includes(q) || id.includes(q)) score = 2;
    else continue;
    scored.push({ m, score });
  }
  scored.sort((a, b) => a.score - b.score || a.m.name.localeCompare(b.m.name) || a.m.userId.localeCompare(b.m.userId));
  return scored.slice(0, limit).map((s) => s.m);
}

/** `text` with the `@query` replaced by `name` and a space; `caret` is after the space. */
export function insertMention(text: string, q: MentionQuery, name: string): { text: string; caret: number } {
  const end = q.start + 1 + q.query.length;
  const after = text.slice(end);
  const inserted = after.startsWith(' ') ? name : `${name} `;
  return { text: text.slice(0, q.start) + inserted + after, caret: q.start + name.length + 1 };
}
