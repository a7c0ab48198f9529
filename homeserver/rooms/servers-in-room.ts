// The servers taking part in a room: those with at least one joined member in its current state
// (server-server-api.md: a server sends a room's events to the servers of its joined members).
import { eventsStore } from '../storage/events-store.ts';
import type { Queryable } from '../storage/sqlite.ts';

/** The server name of a user id: everything after its first ':' (it may hold a port). */
export function serverOfUser(userId: string): string | undefined {
  const colon = userId.indexOf(':');
  return colon > 0 ? userId.slice(colon + 1) : undefined;
}

/** Server names with a joined member in `roomId`'s current state (ours included if we have one). */
export async function serversInRoom(q: Queryable, roomId: string): Promise<Set<string>> {
  const servers = new Set<string>();
  for (const m of await eventsStore.membersOfRoom(q, roomId)) {
    if (m.membership !== 'join') continue;
    const server = serverOfUser(m.user_id);
    if (server) servers.add(server);
  }
  return servers;
}
