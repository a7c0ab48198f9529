// Sending and reading room events (room_send.yaml, room_state.yaml, rooms.yaml, redaction.yaml,
// message_pagination.yaml, event_context.yaml, room_event_by_timestamp.yaml).
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { bodyObject, parseJsonText } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, queryInt, queryString } from '../http/params.ts';
import { checkedRoomId } from './rooms.ts';
import { eventsStore, type ClientTxn, type RoomOrderBound } from '../storage/events-store.ts';
import { readPage } from './message-pages.ts';
import { toClientEvent, toClientEvents } from '../rooms/client-event.ts';
import { checkNewRelation } from '../rooms/relations.ts';
import type { LoadedEvent } from '../rooms/event-reader.ts';
import type { JsonObject } from '../protocol/types.ts';
import { stateKey as sk } from '../protocol/types.ts';
import { parseFilter, eventMatches, type RoomEventFilter } from '../sync/filters.ts';
import { formatPaginationToken, formatRoomOrderToken, parsePaginationToken, parseRoomPaginationToken } from '../sync/sync-token.ts';
import { nullObject } from '../protocol/null-object.ts';
import { eventClosestToTimestamp, parseTimestampQuery } from '../rooms/event-by-timestamp.ts';

const MAX_FIELD_BYTES = 255;

/** The user's current membership, required to read a room's live data. */
async function membershipOf(deps: ClientApiDeps, roomId: string, userId: string) {
  return eventsStore.membershipOf(deps.rooms.db.reader, roomId, userId);
}

async function requireRoomKnown(deps: ClientApiDeps, roomId: string): Promise<void> {
  if (!(await deps.rooms.roomVersion(roomId))) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
}

/**
 * A request's transaction: its id, scoped to the requester's device and to the endpoint with its
 * path parameters (client-server-api/_index.md "Transaction identifiers"), e.g. 'send/<room>/<type>'.
 */
function clientTxn(ctx: Context, txnId: string, scope: string): ClientTxn {
  const me = requester(ctx);
  return { userId: me.userId, deviceId: me.deviceId, txnId, scope };
}

/** Sends an event through the room service; a repeat of `txn` is answered with the first send's event. */
function sendEvent(ctx: Context, deps: ClientApiDeps, roomId: string, type: string, txn: ClientTxn | undefined, stateKey?: string): Promise<string> {
  if (txn === undefined) return sendNew(ctx, deps, roomId, type, undefined, stateKey);
  // A repeat of a recent send (or of one under way) gets its event.
  const earlier = deps.rooms.txns.get(txn);
  if (earlier !== undefined) return Promise.resolve(earlier);
  const send = sendNew(ctx, deps, roomId, type, txn, stateKey);
  deps.rooms.txns.track(txn, send);
  return send;
}

async function sendNew(ctx: Context, deps: ClientApiDeps, roomId: string, type: string, txn: ClientTxn | undefined, stateKey?: string): Promise<string> {
  const me = requester(ctx);
  const content = bodyObject(ctx) as JsonObject;
  if (Buffer.byteLength(type) > MAX_FIELD_BYTES) throw new MatrixError(400, 'M_INVALID_PARAM', 'Event type is longer than 255 bytes');
  if (stateKey !== undefined && Buffer.byteLength(stateKey) > MAX_FIELD_BYTES)
    throw new MatrixError(400, 'M_INVALID_PARAM', 'State key is longer than 255 bytes');
  // An unknown room is the room service's 404 (no head): no extra lookup on every send.
  try {
    const e = await deps.rooms.send(roomId, {
      type,
      sender: me.userId,
      content,
      stateKey,
      redacts: type === 'm.room.redaction' && typeof content.redacts === 'string' ? content.redacts : undefined,
      txn,
      precheck: (tx) => checkNewRelation(tx, deps.rooms.reader, roomId, me.userId, type, content),
    });
    await seedFeedbackReceipt(deps, roomId, me.userId, type, content);
    return e.eventId;
  } catch (err) {
    // The txnId was used before this process started (rooms/recent-transactions.ts): the unique
    // index refused the second event; the answer is the first one's.
    if (txn !== undefined && /UNIQUE constraint failed: events\.txn/.test(String((err as Error).message))) {
      const seen = await eventsStore.getEventByTxn(deps.rooms.db.reader, txn);
      if (seen) return seen.event_id;
    }
    throw err;
  }
}

/**
 * The seed's m.room.message.feedback with `type: read` said "I have read this message": it moves
 * the sender's read receipt, as the current spec's m.read receipt does.
 */
async function seedFeedbackReceipt(deps: ClientApiDeps, roomId: string, userId: string, type: string, content: JsonObject): Promise<void> {
  if (type !== 'm.room.message.feedback' || content.type !== 'read' || typeof content.target_event_id !== 'string') return;
  const target = await deps.rooms.reader.getEvent(deps.rooms.db.reader, content.target_event_id);
  if (target && target.roomId === roomId) await deps.edus.receipts.setReceipt(roomId, userId, 'm.read', target.eventId);
}

export const roomEventRoutes: RouteGroup = (r, deps) => {
  r.put('/rooms/:roomId/send/:eventType/:txnId', deps.auth, async (ctx) => {
    const type = param(ctx, 'eventType');
    if (type === 'm.room.redaction') throw new MatrixError(400, 'M_INVALID_PARAM', 'Use the /redact endpoint to redact events');
    const roomId = checkedRoomId(ctx);
    ctx.body = { event_id: await sendEvent(ctx, deps, roomId, type, clientTxn(ctx, param(ctx, 'txnId'), `send/${roomId}/${type}`)) };
  });
  // The seed's POST /send/{type} without a transaction id: every call sends a new event.
  r.post('/rooms/:roomId/send/:eventType', deps.auth, async (ctx) => {
    ctx.body = { event_id: await sendEvent(ctx, deps, checkedRoomId(ctx), param(ctx, 'eventType'), undefined) };
  });

  const putState = async (ctx: Context) => {
    const type = param(ctx, 'eventType');
    const stateKey = (ctx.params as Record<string, string | undefined>).stateKey ?? '';
    const roomId = checkedRoomId(ctx);
    // Spec: a state event identical to the current one is not sent again; the current event id is returned.
    const current = await deps.rooms.currentStateEvent(roomId, type, stateKey);
    const me = requester(ctx);
    const content = bodyObject(ctx);
    if (current && current.pdu.sender === me.userId && JSON.stringify(current.pdu.content) === JSON.stringify(content)) {
      ctx.body = { event_id: current.eventId };
      return;
    }
    ctx.body = { event_id: await sendEvent(ctx, deps, roomId, type, undefined, stateKey) };
  };
  r.put('/rooms/:roomId/state/:eventType/:stateKey', deps.auth, putState);
  r.put('/rooms/:roomId/state/:eventType', deps.auth, putState);

  const getState = async (ctx: Context) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    const type = param(ctx, 'eventType');
    const stateKey = (ctx.params as Record<string, string | undefined>).stateKey ?? '';
    const ev = await stateVisibleTo(deps, roomId, me.userId, type, stateKey);
    if (!ev) throw new MatrixError(404, 'M_NOT_FOUND', `No ${type} state with key '${stateKey}'`);
    ctx.body = queryString(ctx, 'format') === 'event' ? await toClientEvent(deps.rooms.db.reader, deps.rooms.reader, ev) : ev.pdu.content;
  };
  r.get('/rooms/:roomId/state/:eventType/:stateKey', deps.auth, getState);
  r.get('/rooms/:roomId/state/:eventType', deps.auth, getState);

  r.get('/rooms/:roomId/state', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const state = await stateIdsVisibleTo(deps, roomId, requester(ctx).userId);
    const events = await deps.rooms.reader.getEvents(deps.rooms.db.reader, state.values());
    ctx.body = await toClientEvents(deps.rooms.db.reader, deps.rooms.reader, events);
  });

  r.get('/rooms/:roomId/members', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    let state: Map<string, string>;
    const at = queryString(ctx, 'at');
    if (at) {
      // A departed user sees no membership after their leave, whatever the token (as Synapse).
      const m = await membershipOf(deps, roomId, me.userId);
      const left = m && (m.membership === 'leave' || m.membership === 'ban');
      const pos = left ? Math.min(parsePaginationToken(at), m.stream_ordering) : parsePaginationToken(at);
      const row = await deps.rooms.db.reader.get<{ event_id: string }>(
        'SELECT event_id FROM events WHERE room_id = ? AND stream_ordering <= ? ORDER BY stream_ordering DESC LIMIT 1',
        roomId,
        pos,
      );
      const ev = row ? await deps.rooms.reader.getEvent(deps.rooms.db.reader, row.event_id) : undefined;
      await stateIdsVisibleTo(deps, roomId, me.userId); // access check
      state = ev ? await deps.rooms.reader.stateAfter(deps.rooms.db.reader, ev) : new Map();
    } else {
      state = await stateIdsVisibleTo(deps, roomId, me.userId);
    }
    const membership = queryString(ctx, 'membership');
    const notMembership = queryString(ctx, 'not_membership');
    const ids = [...state].filter(([k]) => k.startsWith('m.room.member\u0000')).map(([, id]) => id);
    const events = (await deps.rooms.reader.getEvents(deps.rooms.db.reader, ids)).filter((e) => {
      const m = e.pdu.content.membership;
      return (!membership || m === membership) && (!notMembership || m !== notMembership);
    });
    ctx.body = { chunk: await toClientEvents(deps.rooms.db.reader, deps.rooms.reader, events) };
  });

  r.get('/rooms/:roomId/joined_members', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    const m = await membershipOf(deps, roomId, me.userId);
    if (m?.membership !== 'join') throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
    const joined: Record<string, JsonObject> = nullObject();
    for (const row of await eventsStore.membersOfRoom(deps.rooms.db.reader, roomId)) {
      if (row.membership !== 'join') continue;
      const ev = await deps.rooms.reader.getEvent(deps.rooms.db.reader, row.event_id);
      const c = ev?.pdu.content ?? {};
      // rooms.yaml: display_name and avatar_url are strings when present; a member without one has no key.
      const member: JsonObject = nullObject();
      if (typeof c.displayname === 'string') member.display_name = c.displayname;
      if (typeof c.avatar_url === 'string') member.avatar_url = c.avatar_url;
      joined[row.user_id] = member;
    }
    ctx.body = { joined };
  });

  r.get('/rooms/:roomId/messages', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    await requireRoomKnown(deps, roomId);
    const m = await membershipOf(deps, roomId, me.userId);
    if (!m && !(await worldReadable(deps, roomId))) throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
    const dir = queryString(ctx, 'dir') ?? 'b';
    if (dir !== 'b' && dir !== 'f') throw new MatrixError(400, 'M_INVALID_PARAM', "dir must be 'b' or 'f'");
    const limit = queryInt(ctx, 'limit', 10, 0, 1000);
    const fromStr = queryString(ctx, 'from');
    const toStr = queryString(ctx, 'to');
    // Nothing past the committed position; a user who left sees nothing after their leave.
    const ceiling: RoomOrderBound[] = [{ op: '<=', stream: deps.rooms.position }];
    if (m && m.membership !== 'join') {
      ceiling.push({ op: '<=', stream: m.stream_ordering });
      const leave = await deps.rooms.reader.getEvent(deps.rooms.db.reader, m.event_id);
      if (leave) ceiling.push({ op: '<=', key: { depth: leave.pdu.depth, stream: leave.streamOrdering } });
    }
    const filterStr = queryString(ctx, 'filter');
    const filter: RoomEventFilter | undefined = filterStr ? parseFilter({ room: { timeline: inlineFilterJson(filterStr) } }).room!.timeline : undefined;
    const { rows, filled } = await readPage(deps.rooms.db.reader, deps.federation, {
      roomId,
      dir,
      limit,
      from: fromStr ? parseRoomPaginationToken(fromStr) : undefined,
      to: toStr ? parseRoomPaginationToken(toStr) : undefined,
      ceiling,
    });
    const events = await deps.rooms.reader.getEvents(
      deps.rooms.db.reader,
      rows.map((x) => x.event_id),
    );
    const visible = (await deps.visibility.filter(deps.rooms.db.reader, me.userId, events)).filter((e) =>
      eventMatches(filter, { type: e.pdu.type, sender: e.pdu.sender, content: e.pdu.content }),
    );
    const chunk = await toClientEvents(deps.rooms.db.reader, deps.rooms.reader, visible, { viewer: me });
    const body: Record<string, unknown> = { start: fromStr ?? formatPaginationToken(dir === 'b' ? deps.rooms.position : 0), chunk };
    const last = rows[rows.length - 1];
    // After a backfill there may be more history still: the client's next page asks again.
    if ((rows.length === limit || filled) && last) {
      body.end = formatRoomOrderToken({ depth: last.depth, stream: dir === 'b' ? last.stream_ordering - 1 : last.stream_ordering });
    }
    if (filter?.lazy_load_members) {
      const senders = new Set(visible.map((e) => e.pdu.sender));
      // The members as this user may see them: as of their leave, if they left.
      const departed = m?.membership === 'leave' || m?.membership === 'ban';
      const state = departed ? await stateIdsVisibleTo(deps, roomId, me.userId) : await deps.rooms.currentStateIds(roomId);
      const members = [...senders].map((s) => state.get(sk('m.room.member', s))).filter((x): x is string => !!x);
      body.state = await toClientEvents(deps.rooms.db.reader, deps.rooms.reader, await deps.rooms.reader.getEvents(deps.rooms.db.reader, members));
    }
    ctx.body = body;
  });

  r.get('/rooms/:roomId/event/:eventId', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const ev = await visibleEvent(deps, roomId, param(ctx, 'eventId'), requester(ctx).userId);
    ctx.body = await toClientEvent(deps.rooms.db.reader, deps.rooms.reader, ev, { viewer: requester(ctx) });
  });

  r.get('/rooms/:roomId/context/:eventId', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    const ev = await visibleEvent(deps, roomId, param(ctx, 'eventId'), me.userId);
    const limit = queryInt(ctx, 'limit', 10, 0, 100);
    const q = deps.rooms.db.reader;
    const beforeN = Math.floor(limit / 2);
    const afterN = limit - beforeN;
    // Neighbours in the room's order (depth, then position), as /messages pages: history filled in
    // later (backfill, a gap while this server had no member) sits where it belongs.
    const at = { depth: ev.pdu.depth, stream: ev.streamOrdering };
    const committed: RoomOrderBound = { op: '<=', stream: deps.rooms.position };
    const before = await deps.rooms.reader.getEvents(
      q,
      (await eventsStore.roomEventsInOrder(q, roomId, [committed, { op: '<=', key: { ...at, stream: at.stream - 1 } }], beforeN, true)).map((x) => x.event_id),
    );
    const after = await deps.rooms.reader.getEvents(
      q,
      (await eventsStore.roomEventsInOrder(q, roomId, [committed, { op: '>', key: at }], afterN, false)).map((x) => x.event_id),
    );
    const vb = await deps.visibility.filter(q, me.userId, before);
    const va = await deps.visibility.filter(q, me.userId, after);
    const lastAfter = after[after.length - 1];
    const firstBefore = before[before.length - 1];
    const state = await deps.rooms.reader.getEvents(q, (await deps.rooms.reader.stateOfGroup(q, ev.stateGroup)).values());
    ctx.body = {
      event: await toClientEvent(q, deps.rooms.reader, ev, { viewer: me }),
      events_before: await toClientEvents(q, deps.rooms.reader, vb, { viewer: me }),
      events_after: await toClientEvents(q, deps.rooms.reader, va, { viewer: me }),
      start: formatRoomOrderToken(firstBefore ? { depth: firstBefore.pdu.depth, stream: firstBefore.streamOrdering - 1 } : { ...at, stream: at.stream - 1 }),
      end: formatRoomOrderToken(lastAfter ? { depth: lastAfter.pdu.depth, stream: lastAfter.streamOrdering } : at),
      state: await toClientEvents(q, deps.rooms.reader, state),
    };
  });

  r.put('/rooms/:roomId/redact/:eventId/:txnId', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    const targetId = param(ctx, 'eventId');
    const body = bodyObject(ctx);
    const target = await deps.rooms.reader.getEvent(deps.rooms.db.reader, targetId);
    // Redacting someone else's event needs the room's redact level (client-server "Redactions").
    if (target && target.roomId === roomId && target.pdu.sender !== me.userId) {
      const p = await deps.rooms.powerOf(roomId, me.userId);
      if (p.level < p.redact) throw new MatrixError(403, 'M_FORBIDDEN', "You may not redact other users' events");
    }
    const content: JsonObject = { redacts: targetId };
    if (typeof body.reason === 'string') content.reason = body.reason;
    ctx.request.json = content;
    ctx.body = { event_id: await sendEvent(ctx, deps, roomId, 'm.room.redaction', clientTxn(ctx, param(ctx, 'txnId'), `redact/${roomId}/${targetId}`)) };
  });

  r.get('/rooms/:roomId/timestamp_to_event', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const query = parseTimestampQuery(queryString(ctx, 'ts'), queryString(ctx, 'dir'));
    await stateIdsVisibleTo(deps, roomId, requester(ctx).userId);
    ctx.body = await eventClosestToTimestamp(deps.rooms, roomId, query);
  });
  void randomBytes;
};

/** The `filter` query parameter of /messages; not JSON is M_NOT_JSON, as /sync answers an inline filter. */
function inlineFilterJson(text: string): unknown {
  return parseJsonText(text, 'filter');
}

async function worldReadable(deps: ClientApiDeps, roomId: string): Promise<boolean> {
  const hv = await deps.rooms.currentStateEvent(roomId, 'm.room.history_visibility', '');
  return hv?.pdu.content.history_visibility === 'world_readable';
}

/** Current state for members; state at the time they left for former members (client-server "GET state"). */
export async function stateIdsVisibleTo(deps: ClientApiDeps, roomId: string, userId: string): Promise<Map<string, string>> {
  await requireRoomKnown(deps, roomId);
  const m = await membershipOf(deps, roomId, userId);
  if (m?.membership === 'join' || (!m && (await worldReadable(deps, roomId)))) return deps.rooms.currentStateIds(roomId);
  // "If the user has left the room then the state returned is the state of the room at the time
  // they left" (client-server-api "Room state"): the state after their leave (or kick, or ban),
  // which holds that event itself. An event's state group is the state before it.
  if (m && (m.membership === 'leave' || m.membership === 'ban')) {
    const ev = await deps.rooms.reader.getEvent(deps.rooms.db.reader, m.event_id);
    if (ev) return deps.rooms.reader.stateAfter(deps.rooms.db.reader, ev);
  }
  if (await worldReadable(deps, roomId)) return deps.rooms.currentStateIds(roomId);
  throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
}

async function stateVisibleTo(deps: ClientApiDeps, roomId: string, userId: string, type: string, stateKey: string): Promise<LoadedEvent | undefined> {
  const state = await stateIdsVisibleTo(deps, roomId, userId);
  const id = state.get(sk(type, stateKey));
  return id ? deps.rooms.reader.getEvent(deps.rooms.db.reader, id) : undefined;
}

async function visibleEvent(deps: ClientApiDeps, roomId: string, eventId: string, userId: string): Promise<LoadedEvent> {
  const ev = await deps.rooms.reader.getEvent(deps.rooms.db.reader, eventId);
  if (!ev || ev.roomId !== roomId || !(await deps.visibility.canSee(deps.rooms.db.reader, userId, ev))) {
    throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found');
  }
  return ev;
}
