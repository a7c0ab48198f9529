// Checks the inbound EDU handlers share.
import { parseUserId } from '../../protocol/identifiers.ts';
import { eventsStore } from '../../storage/events-store.ts';
import type { Queryable } from '../../storage/sqlite.ts';

/** Whether `userId` is a valid user id of `origin`: a server speaks only for its own users. */
export function isUserOf(userId: unknown, origin: string): userId is string {
  return typeof userId === 'string' && parseUserId(userId)?.serverName === origin;
}

/** Whether `userId` is joined to `roomId` in this server's view of the room. */
export async function isJoined(q: Queryable, roomId: string, userId: string): Promise<boolean> {
  return (await eventsStore.membershipOf(q, roomId, userId))?.membership === 'join';
}
