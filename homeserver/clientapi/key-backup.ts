// Server-side key backups (key_backup.yaml): backup versions and the keys stored in them.
import type { Context } from 'koa';
import type { RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param, queryString } from '../http/params.ts';
import { isRecord, type BackupKeyData } from '../protocol/e2e-keys.ts';
import type { BackupKeyUpload } from '../e2ee/key-backup.ts';

/** The keys of a `{sessions: {...}}` body for one room. */
function sessionsOf(roomId: string, body: unknown, where: string): BackupKeyUpload[] {
  if (!isRecord(body) || !isRecord(body.sessions)) throw new MatrixError(400, 'M_BAD_JSON', `${where} must be an object with 'sessions'`);
  return Object.entries(body.sessions).map(([sessionId, data]) => ({ roomId, sessionId, data: data as BackupKeyData }));
}

export const keyBackupRoutes: RouteGroup = (r, deps) => {
  const backup = deps.e2ee.backup;
  const me = (ctx: Context) => requester(ctx).userId;
  const version = (ctx: Context) => queryString(ctx, 'version');

  r.post('/room_keys/version', deps.auth, async (ctx) => {
    ctx.body = { version: await backup.createVersion(me(ctx), bodyObject(ctx)) };
  });
  r.get('/room_keys/version', deps.auth, async (ctx) => {
    ctx.body = await backup.getVersion(me(ctx));
  });
  r.get('/room_keys/version/:version', deps.auth, async (ctx) => {
    ctx.body = await backup.getVersion(me(ctx), param(ctx, 'version'));
  });
  r.put('/room_keys/version/:version', deps.auth, async (ctx) => {
    await backup.updateVersion(me(ctx), param(ctx, 'version'), bodyObject(ctx));
    ctx.body = {};
  });
  r.delete('/room_keys/version/:version', deps.auth, async (ctx) => {
    await backup.deleteVersion(me(ctx), param(ctx, 'version'));
    ctx.body = {};
  });

  r.put('/room_keys/keys', deps.auth, async (ctx) => {
    const rooms = bodyObject(ctx).rooms;
    if (!isRecord(rooms)) throw new MatrixError(400, 'M_BAD_JSON', "'rooms' must be an object");
    const keys = Object.entries(rooms).flatMap(([roomId, room]) => sessionsOf(roomId, room, `'rooms.${roomId}'`));
    ctx.body = await backup.putKeys(me(ctx), version(ctx), keys);
  });
  r.put('/room_keys/keys/:roomId', deps.auth, async (ctx) => {
    ctx.body = await backup.putKeys(me(ctx), version(ctx), sessionsOf(param(ctx, 'roomId'), bodyObject(ctx), 'The body'));
  });
  r.put('/room_keys/keys/:roomId/:sessionId', deps.auth, async (ctx) => {
    const key = { roomId: param(ctx, 'roomId'), sessionId: param(ctx, 'sessionId'), data: bodyObject(ctx) as unknown as BackupKeyData };
    ctx.body = await backup.putKeys(me(ctx), version(ctx), [key]);
  });

  r.get('/room_keys/keys', deps.auth, async (ctx) => {
    ctx.body = await backup.getKeys(me(ctx), version(ctx), {});
  });
  r.get('/room_keys/keys/:roomId', deps.auth, async (ctx) => {
    ctx.body = await backup.getKeys(me(ctx), version(ctx), { roomId: param(ctx, 'roomId') });
  });
  r.get('/room_keys/keys/:roomId/:sessionId', deps.auth, async (ctx) => {
    ctx.body = await backup.getKeys(me(ctx), version(ctx), { roomId: param(ctx, 'roomId'), sessionId: param(ctx, 'sessionId') });
  });

  r.delete('/room_keys/keys', deps.auth, async (ctx) => {
    ctx.body = await backup.deleteKeys(me(ctx), version(ctx), {});
  });
  r.delete('/room_keys/keys/:roomId', deps.auth, async (ctx) => {
    ctx.body = await backup.deleteKeys(me(ctx), version(ctx), { roomId: param(ctx, 'roomId') });
  });
  r.delete('/room_keys/keys/:roomId/:sessionId', deps.auth, async (ctx) => {
    ctx.body = await backup.deleteKeys(me(ctx), version(ctx), { roomId: param(ctx, 'roomId'), sessionId: param(ctx, 'sessionId') });
  });
};
