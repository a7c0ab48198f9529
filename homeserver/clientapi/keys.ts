// End-to-end encryption keys (keys.yaml, cross_signing.yaml): upload, query, claim, changes,
// cross-signing keys and signatures. Thin handlers over homeserver/e2ee/.
import type { RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { queryString } from '../http/params.ts';
import { parseSyncToken } from '../sync/sync-token.ts';
import { stageChecker } from './account.ts';

export const keysRoutes: RouteGroup = (r, deps) => {
  r.post('/keys/upload', deps.auth, async (ctx) => {
    const me = requester(ctx);
    ctx.body = { one_time_key_counts: await deps.e2ee.keys.upload(me.userId, me.deviceId, bodyObject(ctx)) };
  });

  r.post('/keys/query', deps.auth, async (ctx) => {
    ctx.body = await deps.e2ee.keys.query(requester(ctx).userId, bodyObject(ctx));
  });

  r.post('/keys/claim', deps.auth, async (ctx) => {
    ctx.body = await deps.e2ee.keys.claim(bodyObject(ctx));
  });

  r.get('/keys/changes', deps.auth, async (ctx) => {
    const from = queryString(ctx, 'from');
    const to = queryString(ctx, 'to');
    if (!from || !to) throw new MatrixError(400, 'M_MISSING_PARAM', "'from' and 'to' are required");
    ctx.body = await deps.e2ee.deviceLists.changes(deps.rooms.db.reader, requester(ctx).userId, parseSyncToken(from), parseSyncToken(to));
  });

  r.post('/keys/device_signing/upload', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const body = bodyObject(ctx);
    await deps.e2ee.crossSigning.upload(me.userId, body, async () => {
      await deps.uia.require({
        auth: body.auth,
        flows: [{ stages: ['m.login.password'] }],
        fingerprint: `device_signing_upload:${me.userId}`,
        checkStage: stageChecker(deps, me.userId),
      });
    });
    ctx.body = {};
  });

  r.post('/keys/signatures/upload', deps.auth, async (ctx) => {
    ctx.body = await deps.e2ee.crossSigning.uploadSignatures(requester(ctx).userId, bodyObject(ctx));
  });
};
