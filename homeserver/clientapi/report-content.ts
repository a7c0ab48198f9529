// Reporting content (report_content.yaml, modules/report_content.md): reports of rooms, events and
// users are stored for the server admin, who reads them with `hearth reports`.
import type { Context } from 'koa';
import type { ClientApiDeps, RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError, invalidParam } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param } from '../http/params.ts';
import { isValidEventId, isValidRoomId, isValidUserId } from '../protocol/identifiers.ts';
import { reportsStore, type NewReport } from '../storage/reports-store.ts';

/**
 * Reports one user may file in a day. A person reporting a wave of abuse files a few dozen; a
 * script filing thousands would only fill the table the admin has to read.
 */
export const REPORTS_PER_USER_PER_DAY = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A reason longer than this is refused: a page of text says why; more is a way to fill the disk. */
export const REPORT_REASON_MAX_BYTES = 4096;

function reasonOf(ctx: Context, required: boolean): string {
  const reason = bodyObject(ctx).reason;
  if (reason === undefined && !required) return '';
  if (typeof reason !== 'string') throw new MatrixError(400, required && reason === undefined ? 'M_MISSING_PARAM' : 'M_BAD_JSON', "'reason' must be a string");
  if (Buffer.byteLength(reason) > REPORT_REASON_MAX_BYTES)
    throw new MatrixError(413, 'M_TOO_LARGE', `'reason' is longer than ${REPORT_REASON_MAX_BYTES} bytes`);
  return reason;
}

/** Stores a report unless its reporter has filed REPORTS_PER_USER_PER_DAY in the last day. */
async function store(deps: ClientApiDeps, report: NewReport): Promise<void> {
  const now = Date.now();
  await deps.rooms.db.write(async (tx) => {
    const { n, oldest } = await reportsStore.countSince(tx, report.reporter, now - DAY_MS);
    if (n >= REPORTS_PER_USER_PER_DAY) {
      throw new MatrixError(429, 'M_LIMIT_EXCEEDED', `You have filed ${REPORTS_PER_USER_PER_DAY} reports today`, {
        retry_after_ms: Math.max(1, (oldest ?? now) + DAY_MS - now),
      });
    }
    await reportsStore.insert(tx, report, now);
  });
}

async function isJoined(deps: ClientApiDeps, roomId: string, userId: string): Promise<boolean> {
  const member = await deps.rooms.currentStateEvent(roomId, 'm.room.member', userId);
  return member?.pdu.content.membership === 'join';
}

export const reportContentRoutes: RouteGroup = (r, deps) => {
  // A room report is accepted whether or not the reporter is joined, and whether or not this
  // server knows the room (modules/report_content.md, v1.13: users meet rooms through directories
  // and invites). Answering 200 for unknown rooms too does not tell the caller which rooms exist.
  r.post('/rooms/:roomId/report', deps.auth, async (ctx) => {
    const roomId = param(ctx, 'roomId');
    if (!isValidRoomId(roomId)) throw invalidParam('Invalid room id');
    const reason = reasonOf(ctx, true);
    await store(deps, { kind: 'room', reporter: requester(ctx).userId, roomId, reason });
    ctx.body = {};
  });

  // An event report MUST come from a user joined to the room (v1.8). Not joined, no such event,
  // or an event the reporter cannot see: one 404, so the answer shows nothing the caller could
  // not read anyway.
  r.post('/rooms/:roomId/report/:eventId', deps.auth, async (ctx) => {
    const roomId = param(ctx, 'roomId');
    const eventId = param(ctx, 'eventId');
    const reporter = requester(ctx).userId;
    const reason = reasonOf(ctx, false);
    const notFound = new MatrixError(404, 'M_NOT_FOUND', 'The event was not found or you are not joined to the room');
    if (!isValidRoomId(roomId) || !isValidEventId(eventId)) throw notFound;
    if (!(await isJoined(deps, roomId, reporter))) throw notFound;
    const ev = await deps.rooms.reader.getEvent(deps.rooms.db.reader, eventId);
    if (!ev || ev.roomId !== roomId || !(await deps.visibility.canSee(deps.rooms.db.reader, reporter, ev))) throw notFound;
    await store(deps, { kind: 'event', reporter, roomId, eventId, targetUserId: ev.pdu.sender, reason });
    ctx.body = {};
  });

  // User reports: no shared room needed (v1.14), and 200 for unknown users as for unknown rooms.
  r.post('/users/:userId/report', deps.auth, async (ctx) => {
    const userId = param(ctx, 'userId');
    if (!isValidUserId(userId)) throw invalidParam('Invalid user id');
    const reason = reasonOf(ctx, true);
    await store(deps, { kind: 'user', reporter: requester(ctx).userId, targetUserId: userId, reason });
    ctx.body = {};
  });
};
