// The seed's endpoints that the current spec keeps as deprecated (old_sync.yaml,
// room_initial_sync.yaml, peeking_events.yaml): /initialSync, /events, /rooms/{id}/initialSync,
// /events/{eventId}. Served from the same rooms and sync services as /sync. The seed's event
// stream and initial sync carry presence besides room events ("Syncing rooms": "presence events
// will also be returned"), so their tokens hold a presence position too.
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, queryInt, queryString } from '../http/params.ts';
import { eventsStore } from '../storage/events-store.ts';
import { toClientEvent, toClientEvents } from '../rooms/client-event.ts';
import { roomsStore, accountDataStore } from '../storage/rooms-store.ts';
import { formatPaginationToken, formatSyncToken, parsePaginationToken, parseSyncToken } from '../sync/sync-token.ts';
import { joinedMembers } from '../edus/room-members.ts';
import { checkedRoomId } from './rooms.ts';
import { clientGone } from './sync.ts';
import { stateIdsVisibleTo } from './room-events.ts';
import type { Requester } from '../http/auth.ts';
import type { JsonObject } from '../protocol/types.ts';

/** A position in the seed's event stream: the sync token's shape, with its events and presence parts. */
function streamToken(events: number, presence: number): string {
  return formatSyncToken({ events, accountData: 0, receipts: 0, typing: 0, presence, deviceLists: 0, toDevice: 0 });
}

/**
 * Where an /events `from` token points in both streams. A bare `s<n>` (from /messages, or a token
 * from before presence was carried) names no presence position: it starts at the present one
 * rather than replaying every user's presence.
 */
function parseStreamToken(token: string, presenceNow: number): { events: number; presence: number } {
  if (/^s\d+(?:_\d+){4,}$/.test(token)) {
    const t = parseSyncToken(token);
    return { events: t.events, presence: Math.min(t.presence, presenceNow) };
  }
  return { events: parsePaginationToken(token), presence: presenceNow };
}

/** The presence events `viewer` may see (a shared room, or their presence list), optionally only of `among`. */
async function presenceFor(deps: ClientApiDeps, viewer: string, since: number | undefined, upTo: number, among?: string[]): Promise<JsonObject[]> {
  const events = await deps.edus.presence.eventsFor(deps.rooms.db.reader, viewer, since, upTo);
  if (!among) return events;
  const set = new Set(among);
  return events.filter((e) => set.has(String(e.sender)));
}

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
    const presenceAt = deps.edus.presence.currentPosition;
    ctx.body = {
      end: streamToken(deps.rooms.position, presenceAt),
      rooms,
      presence: await presenceFor(deps, me.userId, undefined, presenceAt),
      account_data: accountData,
    };
  });

  r.get('/rooms/:roomId/initialSync', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    const m = await eventsStore.membershipOf(deps.rooms.db.reader, roomId, me.userId);
    const snap = await roomSnapshot(deps, me, roomId, m?.membership ?? 'leave', queryInt(ctx, 'limit', 10, 0, 100));
    // The room's joined members' presence (a member who left sees none: they share nothing now).
    const members = m?.membership === 'join' ? await joinedMembers(deps.rooms.db.reader, roomId) : [];
    ctx.body = { ...snap, presence: await presenceFor(deps, me.userId, undefined, deps.edus.presence.currentPosition, members) };
  });

  r.get('/events', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const fromStr = queryString(ctx, 'from');
    const timeout = Math.min(queryInt(ctx, 'timeout', 30_000), 60_000);
    // The seed's "online": "The default state when the user is connected to an event stream."
    // Before the start is read, so that a stream opened without `from` does not begin with it.
    await deps.edus.presence.touch(me.userId, undefined);
    const start = fromStr ? parseStreamToken(fromStr, deps.edus.presence.currentPosition) : undefined;
    let from = start?.events ?? deps.rooms.position;
    let presenceFrom = start?.presence ?? deps.edus.presence.currentPosition;
    const signal = clientGone(ctx);
    const deadline = Date.now() + timeout;
    for (;;) {
      const version = deps.notifier.changeVersion;
      const to = deps.rooms.position;
      const presenceTo = deps.edus.presence.currentPosition;
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
      const presence = await presenceFor(deps, me.userId, presenceFrom, presenceTo);
      if (chunk.length > 0 || presence.length > 0 || Date.now() >= deadline || signal.aborted) {
        ctx.body = {
          start: streamToken(from, presenceFrom),
          end: streamToken(to, presenceTo),
          chunk: [...(await toClientEvents(q, deps.rooms.reader, chunk, { viewer: me })), ...presence],
        };
        return;
      }
      if (deps.notifier.changeVersion === version) {
        await deps.notifier.wait(me.userId, deadline - Date.now(), signal);
        // Woken by nothing (timeout, client gone, or shutdown, where wait() returns at once):
        // answer the empty chunk now rather than spin until the deadline.
        if (deps.notifier.changeVersion === version) {
          ctx.body = { start: streamToken(from, presenceFrom), end: streamToken(to, presenceTo), chunk: [] };
          return;
        }
      }
      from = to;
      presenceFrom = presenceTo;
    }
  });

  r.get('/events/:eventId', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const ev = await deps.rooms.reader.getEvent(deps.rooms.db.reader, param(ctx, 'eventId'));
    if (!ev || !(await deps.visibility.canSee(deps.rooms.db.reader, me.userId, ev))) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found');
    ctx.body = await toClientEvent(deps.rooms.db.reader, deps.rooms.reader, ev, { viewer: me });
  });
};
