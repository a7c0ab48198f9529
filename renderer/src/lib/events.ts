// What a timeline event says, in words: for the timeline's system lines and the room list's
// last-message preview. Works on any object shaped like matrix-js-sdk's MatrixEvent.
import { replyTarget, stripReplyFallback } from './relations.ts';

export interface EventLike {
  getType(): string;
  getContent(): Record<string, unknown>;
  getPrevContent(): Record<string, unknown>;
  getSender(): string | undefined;
  getStateKey(): string | undefined;
  getTs(): number;
  isRedacted?(): boolean;
  /** The edit now in force (matrix-js-sdk applies an m.replace to its original), if any. */
  replacingEvent?(): unknown;
  /** True when decryption was tried and failed: matrix-js-sdk then reports a stand-in m.room.message. */
  isDecryptionFailure?(): boolean;
  /** The crypto is decrypting it now. */
  isBeingDecrypted?(): boolean;
  /** Encrypted and not tried yet: the crypto is still loading (lib/crypto.ts) or has yet to start on it. */
  shouldAttemptDecryption?(): boolean;
}

type NameOf = (userId: string) => string;

const SHOWN = new Set(['m.room.message', 'm.room.encrypted', 'm.room.member', 'm.room.create', 'm.room.name', 'm.room.topic']);

export function isShownInTimeline(ev: EventLike): boolean {
  if (!SHOWN.has(ev.getType())) return false;
  // An edit is shown through its original, which matrix-js-sdk gives the new content.
  if (isEdit(ev)) return false;
  if (ev.getType() === 'm.room.member') return describeMembership(ev, (id) => id) !== null;
  return true;
}

/** A row with a sender and a body: a message, or an encrypted event (shown even when it can't be read). */
export function isMessage(ev: EventLike): boolean {
  return ev.getType() === 'm.room.message' || ev.getType() === 'm.room.encrypted';
}

/**
 * An m.replace (client-server-api "Event replacements"): its `body` is only a fallback ("* new
 * text") for clients without edits, and `m.new_content` belongs on the original. One that is not
 * valid (another sender's: "Validity of replacement events"; Hearth refuses those, but another
 * server may relay them) is left out too: the spec says to ignore it, and matrix-js-sdk does not
 * apply it.
 */
export function isEdit(ev: EventLike): boolean {
  const rel = (ev.getContent() as { 'm.relates_to'?: { rel_type?: unknown } })['m.relates_to'];
  return typeof rel === 'object' && rel !== null && rel.rel_type === 'm.replace';
}

/** Shows the "(edited)" mark: an edit applies and the message is not deleted since. */
export function isEdited(ev: EventLike): boolean {
  return !ev.isRedacted?.() && Boolean(ev.replacingEvent?.());
}

/** An encrypted event this client could not read: there is no crypto yet, or it lacks the keys. */
export function isUndecryptable(ev: EventLike): boolean {
  if (ev.isRedacted?.()) return false;
  return ev.getType() === 'm.room.encrypted' || Boolean(ev.isDecryptionFailure?.());
}

export const DELETED_TEXT = 'Message deleted';
export const UNDECRYPTABLE_TEXT = 'Unable to decrypt this message';
export const DECRYPTING_TEXT = 'Decrypting…';
/** An in-room verification request (client-server-api "Key verification framework"): its body is for clients that cannot verify. */
export const VERIFICATION_REQUEST_TEXT = 'Asked to verify by comparing emoji';

/** Not readable yet, but not known to be unreadable either: "Unable to decrypt" would be wrong. */
export function isDecrypting(ev: EventLike): boolean {
  if (ev.isRedacted?.() || ev.isDecryptionFailure?.()) return false;
  return Boolean(ev.isBeingDecrypted?.() || ev.shouldAttemptDecryption?.());
}

/** A message's text: its body, or what stands in for a deleted or unreadable one. */
export function messageText(ev: EventLike): string {
  if (ev.isRedacted?.()) return DELETED_TEXT;
  if (isUndecryptable(ev)) return isDecrypting(ev) ? DECRYPTING_TEXT : UNDECRYPTABLE_TEXT;
  const c = ev.getContent() as { body?: unknown; msgtype?: unknown };
  if (typeof c.body !== 'string') return '';
  if (c.msgtype === 'm.key.verification.request') return VERIFICATION_REQUEST_TEXT;
  // A reply from an older client starts with a quote of what it answers; the quote is shown apart.
  return replyTarget(c) ? stripReplyFallback(c.body) : c.body;
}

/** One line for the event; `preview` prefixes messages with their sender ("Alice: hi"). */
export function describeEvent(ev: EventLike, nameOf: NameOf, preview = false): string {
  const sender = nameOf(ev.getSender() ?? '');
  switch (ev.getType()) {
    case 'm.room.encrypted':
      return preview ? `${sender}: ${messageText(ev)}` : messageText(ev);
    case 'm.room.message': {
      const c = ev.getContent() as { msgtype?: unknown };
      if (c.msgtype === 'm.emote') return `* ${sender} ${messageText(ev)}`;
      return preview ? `${sender}: ${messageText(ev)}` : messageText(ev);
    }
    case 'm.room.create':
      return `${sender} created the room`;
    case 'm.room.name': {
      const name = (ev.getContent() as { name?: unknown }).name;
      return typeof name === 'string' && name ? `${sender} named the room ${name}` : `${sender} removed the room name`;
    }
    case 'm.room.topic': {
      const topic = (ev.getContent() as { topic?: unknown }).topic;
      return typeof topic === 'string' && topic ? `${sender} set the topic: ${topic}` : `${sender} removed the topic`;
    }
    case 'm.room.member':
      return describeMembership(ev, nameOf) ?? '';
    default:
      return '';
  }
}

/** The membership change in words, or null for a change not worth a line (a repeated join). */
export function describeMembership(ev: EventLike, nameOf: NameOf): string | null {
  const c = ev.getContent() as { membership?: unknown; displayname?: unknown; reason?: unknown };
  const prev = ev.getPrevContent() as { membership?: unknown; displayname?: unknown };
  const target = ev.getStateKey() ?? '';
  const sender = ev.getSender() ?? '';
  const targetName = typeof c.displayname === 'string' && c.displayname ? c.displayname : nameOf(target);
  const senderName = nameOf(sender);
  switch (c.membership) {
    case 'join':
      if (prev.membership === 'join') {
        if (prev.displayname !== c.displayname) {
          const before = typeof prev.displayname === 'string' && prev.displayname ? prev.displayname : target;
          return `${before} is now ${targetName}`;
        }
        return null;
      }
      return `${targetName} joined`;
    case 'invite':
      return `${senderName} invited ${targetName}`;
    case 'leave':
      if (sender !== target)
        return prev.membership === 'invite' ? `${senderName} withdrew ${nameOf(target)}'s invite` : `${senderName} removed ${nameOf(target)}`;
      return prev.membership === 'invite' ? `${nameOf(target)} declined the invite` : `${nameOf(target)} left`;
    case 'ban':
      return `${senderName} banned ${nameOf(target)}`;
    case 'knock':
      return `${nameOf(target)} asked to join`;
    default:
      return null;
  }
}
