// unread_notifications in /sync (client-server-api "Receiving notifications"): events after the
// user's read receipt that notify, and those that highlight. Until push rules are evaluated per
// event this follows the default ruleset's outcome for common cases: messages and encrypted
// events from others notify; a mention of the user's id, localpart or display name highlights.
import type { Queryable } from '../storage/sqlite.ts';
import type { EventReader } from '../rooms/event-reader.ts';
import { receiptsStore } from '../storage/edus-store.ts';
import type { JsonObject } from '../protocol/types.ts';

const NOTIFYING_TYPES = new Set(['m.room.message', 'm.room.encrypted', 'm.sticker', 'm.call.invite', 'm.room.message.feedback']);
/** Unread counting stops here: a badge saying 999+ needs no exact figure. */
const MAX_COUNTED = 1000;

export async function unreadCounts(q: Queryable, reader: EventReader, roomId: string, userId: string, upTo: number): Promise<JsonObject> {
  const read = await receiptsStore.latestRead(q, roomId, userId);
  let after = 0;
  if (read) after = (await reader.getEvent(q, read.event_id))?.streamOrdering ?? 0;
  // The user's own latest event also marks what they have seen.
  const own = await q.get<{ s: number | null }>('SELECT MAX(stream_ordering) AS s FROM events WHERE room_id = ? AND sender = ? AND stream_ordering <= ?', roomId, userId, upTo);
  after = Math.max(after, own?.s ?? 0);
  const rows = await q.all<{ type: string; json: string }>(
    'SELECT type, json FROM events WHERE room_id = ? AND stream_ordering > ? AND stream_ordering <= ? AND sender != ? ORDER BY stream_ordering LIMIT ?',
    roomId, after, upTo, userId, MAX_COUNTED,
  );
  let notification = 0;
  let highlight = 0;
  const localpart = userId.slice(1, userId.indexOf(':'));
  for (const r of rows) {
    if (!NOTIFYING_TYPES.has(r.type) || r.type === 'm.room.message.feedback') continue;
    notification++;
    if (r.type === 'm.room.message') {
      const content = (JSON.parse(r.json) as { content?: { body?: unknown; 'm.mentions'?: { user_ids?: unknown; room?: unknown } } }).content ?? {};
      const mentions = content['m.mentions'];
      const body = typeof content.body === 'string' ? content.body : '';
      if (Array.isArray(mentions?.user_ids) && mentions.user_ids.includes(userId)) highlight++;
      else if (!mentions && (body.includes(userId) || new RegExp(`(^|\\W)${escapeRegExp(localpart)}(\\W|$)`, 'i').test(body))) highlight++;
    }
  }
  return { notification_count: notification, highlight_count: highlight };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
