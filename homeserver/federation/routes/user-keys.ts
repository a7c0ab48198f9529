// POST /_matrix/federation/v1/user/keys/query and /user/keys/claim (user_keys.yaml): device keys,
// cross-signing keys and one-time keys of this server's users, for other servers' clients
// (server-server-api.md "End-to-End Encryption"). "Requested users must be local to the receiving
// homeserver": others are left out of the answer.
import type Router from '@koa/router';
import type { FederationServices } from '../services.ts';
import { bodyObject } from '../../http/json-body.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { isRecord } from '../../protocol/e2e-keys.ts';
import { parseUserId } from '../../protocol/identifiers.ts';

/** The entries of a user-keyed map that name users of this server. */
function localOnly(s: FederationServices, field: string, v: unknown): Record<string, unknown> {
  if (!isRecord(v)) throw new MatrixError(400, 'M_BAD_JSON', `'${field}' must be an object`);
  return Object.fromEntries(Object.entries(v).filter(([user]) => parseUserId(user)?.serverName === s.serverName));
}

export function userKeysRoutes(s: FederationServices) {
  return (router: Router): void => {
    router.post('/_matrix/federation/v1/user/keys/query', async (ctx) => {
      const wanted = localOnly(s, 'device_keys', bodyObject(ctx).device_keys);
      // No requester: no user-signing keys, and only owners' signatures on master keys.
      const r = await s.e2ee.keys.query('', { device_keys: wanted });
      ctx.body = { device_keys: r.device_keys, master_keys: r.master_keys, self_signing_keys: r.self_signing_keys };
    });

    router.post('/_matrix/federation/v1/user/keys/claim', async (ctx) => {
      const wanted = localOnly(s, 'one_time_keys', bodyObject(ctx).one_time_keys);
      const r = await s.e2ee.keys.claim({ one_time_keys: wanted });
      ctx.body = { one_time_keys: r.one_time_keys };
    });
  };
}
