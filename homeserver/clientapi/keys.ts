// End-to-end encryption keys (keys.yaml, cross_signing.yaml): upload, query, claim, changes,
// cross-signing keys and signatures. Thin handlers over homeserver/e2ee/.
import type { RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { queryString } from '../http/params.ts';
import { parseSyncToken } from '../sync/sync-token.ts';
import { stageChecker } from './account.ts';
import { isRecord } from '../protocol/e2e-keys.ts';
import { claimRemoteKeys, DEFAULT_KEYS_TIMEOUT_MS, queryRemoteKeys, splitByServer } from '../federation/remote-device-keys.ts';

/** The body's `timeout` for asking remote servers, within sane bounds. */
function remoteTimeout(body: Record<string, unknown>): number {
  const t = body.timeout;
  return typeof t === 'number' && Number.isFinite(t) ? Math.min(60_000, Math.max(100, t)) : DEFAULT_KEYS_TIMEOUT_MS;
}

export const keysRoutes: RouteGroup = (r, deps) => {
  r.post('/keys/upload', deps.auth, async (ctx) => {
    const me = requester(ctx);
    ctx.body = { one_time_key_counts: await deps.e2ee.keys.upload(me.userId, me.deviceId, bodyObject(ctx)) };
  });

  // Both check the whole request and answer for local users (remote ones have no keys here); with
  // federation, the remote users' part is asked of their servers and merged in.
  r.post('/keys/query', deps.auth, async (ctx) => {
    const me = requester(ctx).userId;
    const body = bodyObject(ctx);
    const answer = await deps.e2ee.keys.query(me, body);
    const fed = deps.federation;
    if (fed && isRecord(body.device_keys)) {
      const { remote } = splitByServer(body.device_keys as Record<string, string[]>, fed.serverName);
      if (remote.size > 0) {
        const got = await queryRemoteKeys(fed, me, remote, remoteTimeout(body));
        for (const k of ['failures', 'device_keys', 'master_keys', 'self_signing_keys'] as const) Object.assign(answer[k] as object, got[k]);
      }
    }
    ctx.body = answer;
  });

  r.post('/keys/claim', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const answer = await deps.e2ee.keys.claim(body);
    const fed = deps.federation;
    if (fed && isRecord(body.one_time_keys)) {
      const { remote } = splitByServer(body.one_time_keys as Record<string, Record<string, string>>, fed.serverName);
      if (remote.size > 0) {
        const got = await claimRemoteKeys(fed, remote, remoteTimeout(body));
        Object.assign(answer.failures as object, got.failures);
        Object.assign(answer.one_time_keys as object, got.one_time_keys);
      }
    }
    ctx.body = answer;
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
        checkStage: stageChecker(deps, ctx, me.userId),
      });
    });
    ctx.body = {};
  });

  r.post('/keys/signatures/upload', deps.auth, async (ctx) => {
    ctx.body = await deps.e2ee.crossSigning.uploadSignatures(requester(ctx).userId, bodyObject(ctx));
  });
};
