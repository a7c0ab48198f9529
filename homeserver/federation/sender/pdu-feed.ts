// Feeds our own users' events to the servers of a room: queued inside the write job that appends
// them, so that an event is never committed (and acknowledged) without its queue rows.
// Destinations are the servers with a joined member in the room's current state, plus, for a
// membership event, the server of the user it is about (so a kicked, banned or invited remote
// user's server hears of it), minus ourselves. Events from other servers are not forwarded: their
// origin sends them (server-server-api.md "Transactions"; full-mesh fan-out).
import type { LoadedEvent } from '../../rooms/event-reader.ts';
import { serverOfUser, serversInRoom } from '../../rooms/servers-in-room.ts';
import type { Queryable } from '../../storage/sqlite.ts';
import type { QueueEntry } from '../../storage/federation-queue-store.ts';
import { outgoingPdu } from './outgoing-pdu.ts';

/** The queue rows for our own users' events among `events` (read inside the events' write job). */
export async function pduQueueEntries(tx: Queryable, serverName: string, events: LoadedEvent[]): Promise<QueueEntry[]> {
  const ours = events.filter((e) => serverOfUser(e.pdu.sender) === serverName && !e.outlier);
  const servers = new Map<string, Set<string>>();
  const entries: QueueEntry[] = [];
  for (const e of ours) {
    let inRoom = servers.get(e.roomId);
    if (!inRoom) servers.set(e.roomId, (inRoom = await serversInRoom(tx, e.roomId)));
    const dests = new Set(inRoom);
    if (e.pdu.type === 'm.room.member' && typeof e.pdu.state_key === 'string') {
      const target = serverOfUser(e.pdu.state_key);
      if (target) dests.add(target);
    }
    dests.delete(serverName);
    if (dests.size === 0) continue;
    const json = JSON.stringify(outgoingPdu(e.pdu));
    for (const destination of dests) entries.push({ destination, kind: 'pdu', json });
  }
  return entries;
}
