// Intentional mentions (push.md "Intentional mentions", client-server-api "m.mentions"): who a
// message names, so the server's .m.rule.is_user_mention / .m.rule.is_room_mention highlight it
// for them. A client that supports intentional mentions sends m.mentions on every message, even
// empty, so that servers stop guessing from the body (the legacy display-name rules).

export interface Mentions {
  user_ids?: string[];
  room?: boolean;
}

export interface MentionCandidate {
  userId: string;
  /** The member's display name in the room; null when they have none. */
  name: string | null;
}

/**
 * The members `text` names, by user ID or by display name as a whole word, apart from the
 * sender; and `@room` when the sender may notify the whole room (the room's
 * notifications.room power level, which the caller checks).
 */
export function findMentions(text: string, members: MentionCandidate[], senderId: string, mayMentionRoom: boolean): Mentions {
  const userIds: string[] = [];
  const lower = text.toLowerCase();
  for (const m of members) {
    if (m.userId === senderId || userIds.includes(m.userId)) continue;
    if (namesWord(lower, m.userId.toLowerCase()) || (m.name && m.name !== m.userId && namesWord(lower, m.name.toLowerCase()))) userIds.push(m.userId);
  }
  const out: Mentions = {};
  if (userIds.length > 0) out.user_ids = userIds;
  if (mayMentionRoom && /(^|\W)@room\b/.test(text)) out.room = true;
  return out;
}

/** `needle` in `haystack`, not inside a longer word ("Bob" names Bob in "Bob, hi" but not in "Bobby"). */
function namesWord(haystack: string, needle: string): boolean {
  if (!needle.trim()) return false;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const before = haystack[at - 1];
    const after = haystack[at + needle.length];
    if (!isWordChar(before) && !isWordChar(after)) return true;
  }
  return false;
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[\p{L}\p{N}_]/u.test(c);
}
