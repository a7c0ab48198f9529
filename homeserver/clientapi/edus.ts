// Receipts, read markers, typing, presence and the seed's presence list (receipts.yaml,
// read_markers.yaml, typing.yaml, presence.yaml).
import type { Context } from 'koa';
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, stringField } from '../http/params.ts';
import { checkedRoomId } from './rooms.ts';
import { eventsStore } from '../storage/events-store.ts';
import { accountDataStore } from '../storage/rooms-store.ts';
import { presenceStore } from '../storage/edus-store.ts';
import { isValidUserId, parseUserId } from '../protocol/identifiers.ts';
import { MAX_STATUS_MSG_BYTES, normalisePresence } from '../edus/presence.ts';

async function requireJoined(deps: ClientApiDeps, roomId: string, userId: string): Promise<void> {
  const m = await eventsStore.membershipOf(deps.rooms.db.reader, roomId, userId);
  if (m?.membership !== 'join') throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
}

async function requireEventInRoom(deps: ClientApiDeps, roomId: string, eventId: string): Promise<void> {
  const e = await deps.rooms.reader.getEvent(deps.rooms.db.reader, eventId);
  if (!e || e.roomId !== roomId) throw new MatrixError(404, 'M_NOT_FOUND', `Event ${eventId} not found in this room`);
}

async function setFullyRead(deps: ClientApiDeps, userId: string, roomId: string, eventId: string): Promise<void> {
  await deps.accountData.put(userId, roomId, 'm.fully_read', { event_id: eventId });
}

export const eduRoutes: RouteGroup = (r, deps) => {
  r.post('/rooms/:roomId/receipt/:receiptType/:eventId', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    const type = param(ctx, 'receiptType');
    const eventId = param(ctx, 'eventId');
    const body = bodyObject(ctx);
    const threadId = stringField(body, 'thread_id');
    if (!['m.read', 'm.read.private', 'm.fully_read'].includes(type)) throw new MatrixError(400, 'M_INVALID_PARAM', `Unknown receipt type ${type}`);
    if (type === 'm.fully_read' && threadId !== undefined) throw new MatrixError(400, 'M_INVALID_PARAM', 'm.fully_read cannot be threaded');
    await requireJoined(deps, roomId, me.userId);
    await requireEventInRoom(deps, roomId, eventId);
    // receipts.yaml: thread_id is "main" or a thread root's event id. Checked, so that a member
    // cannot store receipts under any number of made-up thread ids (each a row every member's
    // /sync would carry).
    if (threadId !== undefined && threadId !== 'main') {
      const root = await deps.rooms.reader.getEvent(deps.rooms.db.reader, threadId);
      if (!root || root.roomId !== roomId)
        throw new MatrixError(400, 'M_INVALID_PARAM', 'thread_id must be "main" or the event id of a thread root in this room');
    }
    if (type === 'm.fully_read') await setFullyRead(deps, me.userId, roomId, eventId);
    else await deps.edus.receipts.setReceipt(roomId, me.userId, type, eventId, threadId);
    ctx.body = {};
  });

  r.post('/rooms/:roomId/read_markers', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    const body = bodyObject(ctx);
    const fullyRead = stringField(body, 'm.fully_read');
    const read = stringField(body, 'm.read');
    const readPrivate = stringField(body, 'm.read.private');
    await requireJoined(deps, roomId, me.userId);
    for (const id of [fullyRead, read, readPrivate]) if (id) await requireEventInRoom(deps, roomId, id);
    if (fullyRead) await setFullyRead(deps, me.userId, roomId, fullyRead);
    if (read) await deps.edus.receipts.setReceipt(roomId, me.userId, 'm.read', read);
    if (readPrivate) await deps.edus.receipts.setReceipt(roomId, me.userId, 'm.read.private', readPrivate);
    ctx.body = {};
  });

  r.put('/rooms/:roomId/typing/:userId', deps.auth, async (ctx) => {
    const roomId = checkedRoomId(ctx);
    const me = requester(ctx);
    if (param(ctx, 'userId') !== me.userId) throw new MatrixError(403, 'M_FORBIDDEN', 'You may only set your own typing state');
    const body = bodyObject(ctx);
    if (typeof body.typing !== 'boolean') throw new MatrixError(400, 'M_BAD_JSON', "'typing' must be a boolean");
    if (body.timeout !== undefined && (typeof body.timeout !== 'number' || body.timeout < 0))
      throw new MatrixError(400, 'M_BAD_JSON', "'timeout' must be a non-negative number");
    await requireJoined(deps, roomId, me.userId);
    await deps.edus.typing.setTyping(roomId, me.userId, body.typing, typeof body.timeout === 'number' ? body.timeout : 30_000);
    ctx.body = {};
  });

  r.get('/presence/:userId/status', deps.auth, async (ctx) => {
    const target = param(ctx, 'userId');
    if (!isValidUserId(target)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id '${target}'`);
    const me = requester(ctx);
    if (!(await deps.edus.presence.canSee(deps.rooms.db.reader, me.userId, target))) {
      throw new MatrixError(403, 'M_FORBIDDEN', "You may not see this user's presence");
    }
    const row = await deps.edus.presence.get(target);
    if (!row) {
      if (!(await deps.users.getUser(target))) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown user');
      ctx.body = { presence: 'offline' };
      return;
    }
    ctx.body = deps.edus.presence.content(row);
  });

  r.put('/presence/:userId/status', deps.auth, async (ctx) => {
    const me = requester(ctx);
    if (param(ctx, 'userId') !== me.userId) throw new MatrixError(403, 'M_FORBIDDEN', "You may not set another user's presence");
    const body = bodyObject(ctx);
    const presence = stringField(body, 'presence', true);
    if (!normalisePresence(presence)) throw new MatrixError(400, 'M_INVALID_PARAM', `Unknown presence '${presence}'`);
    const msg = body.status_msg;
    if (msg !== undefined && msg !== null && typeof msg !== 'string') throw new MatrixError(400, 'M_BAD_JSON', "'status_msg' must be a string");
    if (typeof msg === 'string' && Buffer.byteLength(msg) > MAX_STATUS_MSG_BYTES)
      throw new MatrixError(413, 'M_TOO_LARGE', `'status_msg' is limited to ${MAX_STATUS_MSG_BYTES} bytes`);
    await deps.edus.presence.setPresence(me.userId, presence, msg as string | null | undefined);
    ctx.body = {};
  });

  // The seed's presence list ("Presence List", "Presence and Permissions"): a user sees the
  // presence of those on their list only once each allowed it. `invite` asks the target, like a
  // room invite; the target consents by inviting back (the seed's reverse subscription, which
  // accepts both), or declines with `drop`, which also ends a consent given before.
  r.get('/presence/list/:userId', deps.auth, async (ctx) => {
    const owner = param(ctx, 'userId');
    if (owner !== requester(ctx).userId) throw new MatrixError(403, 'M_FORBIDDEN', "You may not read another user's presence list");
    const q = deps.rooms.db.reader;
    const out: Array<Record<string, unknown>> = [];
    for (const target of await presenceStore.list(q, owner)) {
      const row = await deps.edus.presence.get(target);
      out.push({ type: 'm.presence', content: { user_id: target, ...(row ? deps.edus.presence.content(row) : { presence: 'offline' }) } });
    }
    // Requests waiting for this user's consent, named as Synapse's federation named them.
    for (const from of await presenceStore.requestsTo(q, owner)) out.push({ type: 'm.presence_invite', sender: from, content: { user_id: from } });
    ctx.body = out;
  });
  r.post('/presence/list/:userId', deps.auth, async (ctx) => {
    const owner = param(ctx, 'userId');
    if (owner !== requester(ctx).userId) throw new MatrixError(403, 'M_FORBIDDEN', "You may not change another user's presence list");
    const body = bodyObject(ctx);
    const list = (k: string) => {
      const v = body[k];
      if (v === undefined) return [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !isValidUserId(x)))
        throw new MatrixError(400, 'M_BAD_JSON', `'${k}' must be an array of user ids`);
      return v as string[];
    };
    const invite = list('invite').filter((t) => t !== owner);
    const drop = list('drop');
    for (const t of invite) {
      // Consent would have to travel over federation, which has no such request yet.
      if (parseUserId(t)?.serverName !== deps.config.serverName)
        throw new MatrixError(400, 'M_INVALID_PARAM', `${t} is on another server: presence list requests reach only users of this server`);
      if (!(await deps.users.getUser(t))) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown user ${t}`);
    }
    await deps.rooms.db.write(async (tx) => {
      for (const t of invite) await presenceStore.addToList(tx, owner, t);
      for (const t of drop) await presenceStore.dropFromList(tx, owner, t);
    });
    deps.notifier.notifyUsers([owner, ...invite, ...drop]);
    ctx.body = {};
  });
};

/** Room tags (tags.yaml): kept as the room's m.tag account data, as /sync delivers them. */
export const tagRoutes: RouteGroup = (r, deps) => {
  const owner = (ctx: Context) => {
    const userId = param(ctx, 'userId');
    if (userId !== requester(ctx).userId) throw new MatrixError(403, 'M_FORBIDDEN', "You may not access another user's tags");
    return userId;
  };
  const readTags = async (userId: string, roomId: string): Promise<Record<string, unknown>> => {
    const row = await accountDataStore.get(deps.rooms.db.reader, userId, roomId, 'm.tag');
    return row ? ((JSON.parse(row.content) as { tags?: Record<string, unknown> }).tags ?? {}) : {};
  };
  const writeTags = async (userId: string, roomId: string, tags: Record<string, unknown>) => {
    await deps.accountData.put(userId, roomId, 'm.tag', { tags });
  };
  r.get('/user/:userId/rooms/:roomId/tags', deps.auth, async (ctx) => {
    ctx.body = { tags: await readTags(owner(ctx), param(ctx, 'roomId')) };
  });
  r.put('/user/:userId/rooms/:roomId/tags/:tag', deps.auth, async (ctx) => {
    const userId = owner(ctx);
    const roomId = param(ctx, 'roomId');
    const tag = param(ctx, 'tag');
    if (Buffer.byteLength(tag) > 255) throw new MatrixError(400, 'M_INVALID_PARAM', 'Tag is longer than 255 bytes');
    const body = bodyObject(ctx);
    if (body.order !== undefined && (typeof body.order !== 'number' || body.order < 0 || body.order > 1)) {
      throw new MatrixError(400, 'M_BAD_JSON', "'order' must be a number between 0 and 1");
    }
    const tags = await readTags(userId, roomId);
    tags[tag] = body;
    await writeTags(userId, roomId, tags);
    ctx.body = {};
  });
  r.delete('/user/:userId/rooms/:roomId/tags/:tag', deps.auth, async (ctx) => {
    const userId = owner(ctx);
    const roomId = param(ctx, 'roomId');
    const tags = await readTags(userId, roomId);
    delete tags[param(ctx, 'tag')];
    await writeTags(userId, roomId, tags);
    ctx.body = {};
  });
};
