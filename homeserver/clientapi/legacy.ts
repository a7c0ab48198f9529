// The seed's endpoints that the current spec keeps as deprecated (old_sync.yaml,
// room_initial_sync.yaml, peeking_events.yaml): /initialSync, /events, /rooms/{id}/initialSync,
// /events/{eventId}. Served from the same rooms and sync services as /sync.
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, queryInt, queryString } from '../http/params.ts';
import { eventsStore } from '../storage/events-store.ts';
import { toClientEvent, toClientEvents } from '../rooms/client-event.ts';
import { roomsStore, accountDataStore } from '../storage/rooms-store.ts';
import { formatPaginationToken, parsePaginationToken } from '../sync/sync-token.ts';
import { checkedRoomId } from './rooms.ts';
import { clientGone } from './sync.ts';
import { stateIdsVisibleTo } from './room-events.ts';
import type { Requester } from '../http/auth.ts';

async function roomSnapshot(deps: ClientApiDeps, me: Requester, roomId: string, membership: string, limit: number) {
  const q = deps.rooms.db.reader;
  const m = await eventsStore.membershipOf(q, roomId, me.userId);
  const ceiling = m && m.membership !== 'join' ? m.stream_ordering : deps.rooms.position;
  const rows = await eventsStore.roomEventsBetween(q, roomId, 0, ceiling, limit, true);
  const events = (
    await deps.rooms.reader.getEvents(
      q,
      rows.map((x) => x.event_id),
    )
  ).reverse();
  const visible = await deps.visibility.filter(q, me.userId, events);
  const stateIds = await stateIdsVisibleTo(deps, roomId, me.userId);
  const room = await roomsStore.getRoom(q, roomId);
  const first = events[0];
  return {
    room_id: roomId,
    membership,
    visibility: room?.is_public ? 'public' : 'private',
    messages: {
      chunk: await toClientEvents(q, deps.rooms.reader, visible, { viewer: me }),
      start: formatPaginationToken(first ? first.streamOrdering - 1 : ceiling),
      end: formatPaginationToken(ceiling),
    },
    state: await toClientEvents(q, deps.rooms.reader, await deps.rooms.reader.getEvents(q, stateIds.values())),
    account_data: [] as unknown[],
  };
}

export const legacyRoutes: RouteGroup = (r, deps) => {
  r.get('/initialSync', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const limit = queryInt(ctx, 'limit', 10, 0, 100);
    const rooms = [];
    for (const m of await eventsStore.membershipsOfUser(deps.rooms.db.reader, me.userId)) {
      if (m.forgotten || (m.membership !== 'join' && m.membership !== 'invite' && m.membership !== 'leave')) continue;
      if (m.membership === 'invite') {
        const inv = await deps.rooms.reader.getEvent(deps.rooms.db.reader, m.event_id);
        rooms.push({ room_id: m.room_id, membership: 'invite', invite: inv ? await toClientEvent(deps.rooms.db.reader, deps.rooms.reader, inv) : undefined });
        continue;
      }
      rooms.push(await roomSnapshot(deps, me, m.room_id, m.membership, limit));
    }
    const accountData = (await accountDataStore.since(deps.rooms.db.reader, me.userId, 0))
      .filter((x) => x.room_id === '')
      .map((x) => ({ type: x.type, content: JSON.parse(x.content) }));
    ctx.body = { end: formatPaginationToken(deps.rooms.position), rooms, presence: [], account_data: accountData };
  });

  r.get('/rooms/:roomId/initialSync', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    const m = await eventsStore.membershipOf(deps.rooms.db.reader, roomId, me.userId);
    const snap = await roomSnapshot(deps, me, roomId, m?.membership ?? 'leave', queryInt(ctx, 'limit', 10, 0, 100));
    ctx.body = { ...snap, presence: [] };
  });

  r.get('/events', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const fromStr = queryString(ctx, 'from');
    let from = fromStr ? parsePaginationToken(fromStr) : deps.rooms.position;
    const timeout = Math.min(queryInt(ctx, 'timeout', 30_000), 60_000);
    const signal = clientGone(ctx);
    const deadline = Date.now() + timeout;
    for (;;) {
      const version = deps.notifier.changeVersion;
      const to = deps.rooms.position;
      const q = deps.rooms.db.reader;
      const roomIds = new Set(
        (await eventsStore.membershipsOfUser(q, me.userId)).filter((m) => m.membership === 'join' || m.stream_ordering > from).map((m) => m.room_id),
      );
      const chunk = [];
      for (const roomId of roomIds) {
        const rows = await eventsStore.roomEventsBetween(q, roomId, from, to, 100, false);
        const events = await deps.visibility.filter(
          q,
          me.userId,
          await deps.rooms.reader.getEvents(
            q,
            rows.map((x) => x.event_id),
          ),
        );
        chunk.push(...events);
      }
      chunk.sort((a, b) => a.streamOrdering - b.streamOrdering);
      if (chunk.length > 0 || Date.now() >= deadline || signal.aborted) {
        ctx.body = {
          start: formatPaginationToken(from),
          end: formatPaginationToken(to),
          chunk: await toClientEvents(q, deps.rooms.reader, chunk, { viewer: me }),
        };
        return;
      }
      if (deps.notifier.changeVersion === version) {
        await deps.notifier.wait(me.userId, deadline - Date.now(), signal);
        // Woken by nothing (timeout, client gone, or shutdown, where wait() returns at once):
        // answer the empty chunk now rather than spin until the deadline.
        if (deps.notifier.changeVersion === version) {
          ctx.body = { start: formatPaginationToken(from), end: formatPaginationToken(to), chunk: [] };
          return;
        }
      }
      from = to;
    }
  });

  r.get('/events/:eventId', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const ev = await deps.rooms.reader.getEvent(deps.rooms.db.reader, param(ctx, 'eventId'));
    if (!ev || !(await deps.visibility.canSee(deps.rooms.db.reader, me.userId, ev))) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found');
    ctx.body = await toClientEvent(deps.rooms.db.reader, deps.rooms.reader, ev, { viewer: me });
  });
};
