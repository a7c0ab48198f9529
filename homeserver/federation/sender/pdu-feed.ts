// Feeds our own users' events to the servers of a room: called after each committed write job.
// Destinations are the servers with a joined member in the room's current state, plus, for a
// membership event, the server of the user it is about (so a kicked, banned or invited remote
// user's server hears of it), minus ourselves. Events from other servers are not forwarded: their
// origin sends them (server-server-api.md "Transactions"; full-mesh fan-out).
import type { Logger } from '../../http/errors.ts';
import type { LoadedEvent } from '../../rooms/event-reader.ts';
import { serverOfUser, serversInRoom } from '../../rooms/servers-in-room.ts';
import type { Queryable } from '../../storage/sqlite.ts';
import type { QueueEntry } from '../../storage/federation-queue-store.ts';
import { outgoingPdu } from './outgoing-pdu.ts';

export type Enqueue = (build: (tx: Queryable) => Promise<QueueEntry[]>) => Promise<void>;

export function pduFeed(serverName: string, enqueue: Enqueue, log: Logger): (events: LoadedEvent[]) => void {
  return (events) => {
    const ours = events.filter((e) => serverOfUser(e.pdu.sender) === serverName);
    if (ours.length === 0) return;
    // Destinations are read inside the queue's write job: jobs run in commit order, so the queue
    // keeps the rooms' order even when several commits land at once.
    enqueue(async (tx) => {
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
    }).catch((err: unknown) => log('federation sender: could not queue events', err));
  };
}
