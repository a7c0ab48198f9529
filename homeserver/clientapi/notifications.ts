// GET /notifications (notifications.yaml): the events the user's push rules made notify, newest
// first, each marked read when a read receipt (or the user's own later event) covers it.
import type { RouteGroup } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { queryInt, queryString } from '../http/params.ts';
import { notificationOf, pushStore } from '../storage/push-store.ts';
import { toClientEvent } from '../rooms/client-event.ts';
import type { JsonObject } from '../protocol/types.ts';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

export const notificationRoutes: RouteGroup = (r, deps) => {
  r.get('/notifications', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const from = queryString(ctx, 'from');
    if (from !== undefined && !/^\d+$/.test(from)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid 'from' token`);
    const limit = queryInt(ctx, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT);
    const onlyHighlight = queryString(ctx, 'only') === 'highlight';
    const q = deps.rooms.db.reader;
    const rows = await pushStore.page(q, me.userId, from === undefined ? Number.MAX_SAFE_INTEGER : Number(from), limit + 1, onlyHighlight);
    const page = rows.slice(0, limit);
    const marks = new Map<string, Map<string, number>>();
    const notifications: JsonObject[] = [];
    for (const row of page) {
      const mine = notificationOf(row, me.userId);
      if (!mine) continue;
      const event = await deps.rooms.reader.getEvent(q, row.event_id);
      if (!event) continue;
      let roomMarks = marks.get(row.room_id);
      if (!roomMarks) marks.set(row.room_id, (roomMarks = await pushStore.readMarks(q, row.room_id, me.userId)));
      // An unthreaded receipt covers every thread; a threaded one (or 'main') only its own.
      const readUpTo = Math.max(roomMarks.get('') ?? 0, roomMarks.get(row.thread_id) ?? 0);
      notifications.push({
        actions: mine.actions as JsonObject[],
        event: (await toClientEvent(q, deps.rooms.reader, event, { viewer: me, omitRoomId: true })) as unknown as JsonObject,
        read: row.stream_ordering <= readUpTo,
        room_id: row.room_id,
        ts: event.pdu.origin_server_ts,
      });
    }
    const body: JsonObject = { notifications };
    const last = page[page.length - 1];
    if (rows.length > limit && last) body.next_token = String(last.stream_ordering);
    ctx.body = body;
  });
};
