// Checks the inbound EDU handlers share.
import { parseUserId } from '../../protocol/identifiers.ts';
import { eventsStore } from '../../storage/events-store.ts';
import type { Queryable } from '../../storage/sqlite.ts';
import { roomAclAllows } from '../../rooms/server-visibility.ts';
import type { FederationServices } from '../services.ts';

/** Whether `userId` is a valid user id of `origin`: a server speaks only for its own users. */
export function isUserOf(userId: unknown, origin: string): userId is string {
  return typeof userId === 'string' && parseUserId(userId)?.serverName === origin;
}

/** Whether `userId` is joined to `roomId` in this server's view of the room. */
export async function isJoined(q: Queryable, roomId: string, userId: string): Promise<boolean> {
  return (await eventsStore.membershipOf(q, roomId, userId))?.membership === 'join';
}

/**
 * Whether the room's server ACL lets `origin` send EDUs about it. Since v1.13 (MSC4163) the ACL
 * covers EDUs local to a room as well as PDUs: a denied server's typing EDU is ignored, and so are
 * all its receipts for that room (server-server-api.md "Server Access Control Lists (ACLs)").
 */
export function aclAllowsEdu(s: FederationServices, roomId: string, origin: string): Promise<boolean> {
  return roomAclAllows(s.rooms.reader, s.db.reader, roomId, origin);
}
