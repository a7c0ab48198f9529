// /_matrix/key/v2/server (keys_server.yaml) and the notary API /_matrix/key/v2/query
// (keys_query.yaml). No authentication: anyone may ask for keys, so a query makes us fetch keys
// only for valid server names, and for a bounded number of them (issue #13, class 5).
import type Router from '@koa/router';
import { isValidServerName } from '../../protocol/identifiers.ts';
import type { SigningKey } from '../../protocol/signing-key.ts';
import { badJson } from '../../http/matrix-error.ts';
import { ourKeyDocument, isRecord } from '../keys.ts';
import type { RemoteKeys } from '../remote-keys.ts';

export interface KeyRouteDeps {
  serverName: string;
  signingKey: SigningKey;
  remoteKeys: RemoteKeys;
}

/**
 * Servers of one notary query (the first ones) whose keys we may fetch; the others are answered
 * from what we hold. One unauthenticated request must not become thousands of outbound ones, and a client
 * asking for more than 20 servers it has never seen is rare (a join asks for a room's few servers).
 */
export const MAX_FETCHES_PER_KEY_QUERY = 20;

export function keyRoutes(router: Router, deps: KeyRouteDeps): void {
  const own = () => ourKeyDocument(deps.serverName, deps.signingKey, Date.now());
  router.get('/_matrix/key/v2/server', (ctx) => {
    ctx.body = own();
  });
  // Deprecated form with a key id: the whole document regardless of the id, as Synapse does.
  router.get('/_matrix/key/v2/server/:keyId', (ctx) => {
    ctx.body = own();
  });

  router.get('/_matrix/key/v2/query/:serverName', async (ctx) => {
    const min = Number(ctx.query.minimum_valid_until_ts ?? Date.now());
    const serverName = ctx.params.serverName!;
    const doc = isValidServerName(serverName) ? await deps.remoteKeys.notaryDocument(serverName, Number.isFinite(min) ? min : Date.now()) : undefined;
    ctx.body = { server_keys: doc ? [doc] : [] };
  });

  router.post('/_matrix/key/v2/query', async (ctx) => {
    const body = ctx.request.json;
    if (!isRecord(body) || !isRecord(body.server_keys)) throw badJson('server_keys must be an object');
    const out: object[] = [];
    let fetches = 0;
    for (const [serverName, criteria] of Object.entries(body.server_keys)) {
      if (!isValidServerName(serverName)) continue;
      // The latest minimum asked for any of the server's keys; "the current time" when none.
      let min = Date.now();
      if (isRecord(criteria)) {
        for (const c of Object.values(criteria)) {
          if (isRecord(c) && typeof c.minimum_valid_until_ts === 'number') min = Math.max(min, c.minimum_valid_until_ts);
        }
      }
      const doc = await deps.remoteKeys.notaryDocument(serverName, min, fetches++ < MAX_FETCHES_PER_KEY_QUERY);
      if (doc) out.push(doc);
    }
    ctx.body = { server_keys: out };
  });
}
