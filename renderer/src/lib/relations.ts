// Replies, edits and reactions as the spec shapes them (client-server-api "Rich replies", "Event
// replacements", "Event annotations and reactions"): the content each sends, and what the
// timeline makes of the ones received. Pure: works on anything shaped like matrix-js-sdk's MatrixEvent.

/** The reply or edit the composer is making, set from a message's actions. */
export interface Composing {
  kind: 'reply' | 'edit';
  roomId: string;
  eventId: string;
}

/** The reactions offered in one click on every message, as Element does. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮'] as const;

export interface RelatedEventLike {
  getId(): string | undefined;
  getType(): string;
  getSender(): string | undefined;
  getContent(): Record<string, unknown>;
  getTs(): number;
  isRedacted(): boolean;
  status?: string | null;
}

/**
 * A reply: only the relation. Since v1.13 a reply carries no fallback quote in `body`
 * (client-server-api "Rich replies"), so the body is what the user typed.
 */
export function replyRelation(eventId: string): Record<string, unknown> {
  return { 'm.relates_to': { 'm.in_reply_to': { event_id: eventId } } };
}

/**
 * An edit of `originalId` (client-server-api "Event replacements"): the new content goes in
 * `m.new_content`; the outer `body` is a fallback ("* new text") for clients without edits.
 * `mentions` is everyone the new text mentions; the outer `m.mentions` lists only those the
 * original did not, so that nobody is notified twice (client-server-api "Event replacements",
 * mentions: top-level for this revision, m.new_content for the final version).
 */
export function editContent(
  originalId: string,
  text: string,
  msgtype: string,
  mentions: { user_ids?: string[]; room?: boolean } = {},
  mentionedBefore: { user_ids?: string[]; room?: boolean } = {},
  /** The new text as HTML (lib/markdown.ts), when it has formatting: kept in the edit too. */
  html?: string,
): Record<string, unknown> {
  const before = new Set(mentionedBefore.user_ids ?? []);
  const newly: { user_ids?: string[]; room?: boolean } = {};
  const added = (mentions.user_ids ?? []).filter((id) => !before.has(id));
  if (added.length) newly.user_ids = added;
  if (mentions.room && !mentionedBefore.room) newly.room = true;
  const formatted = (prefix: string) => (html ? { format: 'org.matrix.custom.html', formatted_body: `${prefix}${html}` } : {});
  return {
    msgtype,
    body: `* ${text}`,
    ...formatted('* '),
    'm.new_content': { msgtype, body: text, ...formatted(''), 'm.mentions': mentions },
    'm.mentions': newly,
    'm.relates_to': { rel_type: 'm.replace', event_id: originalId },
  };
}

/** A reaction (an m.reaction annotation) with `key`, usually one emoji. */
export function reactionContent(eventId: string, key: string): Record<string, unknown> {
  return { 'm.relates_to': { rel_type: 'm.annotation', event_id: eventId, key } };
}

/** The event a message replies to, if it is a reply. */
export function replyTarget(content: Record<string, unknown>): string | null {
  const rel = content['m.relates_to'] as { 'm.in_reply_to'?: { event_id?: unknown } } | undefined;
  const id = rel?.['m.in_reply_to']?.event_id;
  return typeof id === 'string' && id ? id : null;
}

/**
 * The body of a reply without the quote older clients put in front of it (client-server-api
 * "Rich replies", changed in v1.13: the lines starting with "> " at the start, stopping at the
 * first line without it), and the blank line that separated it from the reply. A body made only
 * of quote lines is kept: nothing would be left to show, so the quote is what was said.
 */
export function stripReplyFallback(body: string): string {
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('> ')) i++;
  if (i === 0 || i === lines.length) return body;
  if (lines[i] === '') i++;
  return lines.slice(i).join('\n');
}

export interface ReactionGroup {
  key: string;
  /** The people who reacted with it, in the order they did. */
  senders: string[];
  /** The user's own annotation with this key, to redact when they click it again. */
  mine: RelatedEventLike | null;
}

/**
 * The same emoji with and without the variation selector U+FE0F ("👍" and "👍️") is one reaction:
 * pickers differ in which they send (emojibase's data has it on 👍), and the two must count together.
 */
export function reactionKeyOf(key: string): string {
  return key.replaceAll('\uFE0F', '');
}

/**
 * Annotations grouped by key, in the order each key first appeared. A person counts once per
 * key (the spec lets servers refuse a duplicate, but a remote one may have let it through), and
 * redacted annotations do not count. The group shows the key as first sent.
 */
export function groupReactions(annotations: Iterable<RelatedEventLike>, me: string): ReactionGroup[] {
  const sorted = [...annotations].filter((ev) => ev.getType() === 'm.reaction' && !ev.isRedacted()).sort((a, b) => a.getTs() - b.getTs());
  const groups = new Map<string, ReactionGroup>();
  for (const ev of sorted) {
    const rel = ev.getContent()['m.relates_to'] as { key?: unknown } | undefined;
    const key = rel?.key;
    const sender = ev.getSender();
    if (typeof key !== 'string' || !key || !sender) continue;
    let group = groups.get(reactionKeyOf(key));
    if (!group) groups.set(reactionKeyOf(key), (group = { key, senders: [], mine: null }));
    if (!group.senders.includes(sender)) group.senders.push(sender);
    if (sender === me && !group.mine) group.mine = ev;
  }
  return [...groups.values()];
}

/** "Alice", "Alice and Bob", "Alice, Bob and Carol". */
export function listNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

const EDITABLE_MSGTYPES = new Set(['m.text', 'm.emote', 'm.notice']);

/** Whether `me` may edit the event: their own text message, sent, not deleted, not itself an edit. */
export function isEditable(ev: RelatedEventLike, me: string): boolean {
  if (ev.getType() !== 'm.room.message' || ev.getSender() !== me || ev.isRedacted()) return false;
  if (ev.status) return false; // a local echo not yet on the server has no event id to point at
  const c = ev.getContent();
  if (!EDITABLE_MSGTYPES.has(c.msgtype as string)) return false;
  const rel = c['m.relates_to'] as { rel_type?: unknown } | undefined;
  return rel?.rel_type !== 'm.replace';
}

/** The message the Up key edits: the user's latest editable one. */
export function lastEditable<E extends RelatedEventLike>(events: readonly E[], me: string): E | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (isEditable(events[i]!, me)) return events[i];
  return undefined;
}

export interface Version {
  ts: number;
  body: string;
}

/**
 * A message's versions, oldest first: the original, then each valid edit's `m.new_content`.
 * An edit by anyone but the original's sender is not valid ("Validity of replacement events").
 */
export function editHistory(
  original: { content: Record<string, unknown>; sender: string; ts: number },
  edits: Iterable<{ content: Record<string, unknown>; sender: string | undefined; ts: number; type: string }>,
): Version[] {
  const bodyOf = (c: Record<string, unknown>) => (typeof c.body === 'string' ? c.body : '');
  const versions: Version[] = [
    { ts: original.ts, body: replyTarget(original.content) ? stripReplyFallback(bodyOf(original.content)) : bodyOf(original.content) },
  ];
  const valid = [...edits].filter((e) => e.type === 'm.room.message' && e.sender === original.sender).sort((a, b) => a.ts - b.ts);
  for (const e of valid) {
    const next = e.content['m.new_content'];
    if (typeof next === 'object' && next !== null) versions.push({ ts: e.ts, body: bodyOf(next as Record<string, unknown>) });
  }
  return versions;
}
