// The web client's start-up prefetch (renderer/src/lib/prefetch.ts) against the real
// matrix-js-sdk and a real homeserver: the requests the page sends before the client bundle is
// compiled must be exactly the ones the SDK then makes, or they are wasted and the start-up
// waterfall is back. Every response is checked against the spec's OpenAPI.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClientEvent } from 'matrix-js-sdk/lib/client.js';
import { startTestServer, registerUser, call, type TestServer, type TestUser } from '../helpers/server.ts';
import { clientServerValidator, validatingFetch, assertNoValidationFailures } from '../helpers/openapi.ts';
// Also unrefs the SDK's long /sync timers, which would otherwise hold the process open.
import { waitFor } from '../helpers/sdk.ts';
import { prefetchStartup } from '../../renderer/src/lib/prefetch.ts';
import { makeClient, START_OPTIONS } from '../../renderer/src/lib/sdk.ts';

let server: TestServer;
let alice: TestUser;
const realFetch = globalThis.fetch;
/** Every request that reached the network, as "METHOD path?query-without-cache-buster". */
const sent: string[] = [];

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  const { status } = await call(server, alice, 'POST', '/createRoom', { name: 'Prefetched' });
  assert.equal(status, 200);
  const validating = validatingFetch(clientServerValidator({ allowUnknownPaths: [/^\/_matrix\/client\/unstable\//] }), { fetch: realFetch });
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    url.searchParams.delete('_cacheBuster');
    sent.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    return validating(input, init);
  }) as typeof fetch;
});

after(async () => {
  globalThis.fetch = realFetch;
  await server.stop();
});

test('a signed-in start sends versions, push rules, the filter and the initial sync once each: the SDK takes the prefetched answers', async () => {
  const session = { baseUrl: server.url, ...alice };
  prefetchStartup(session);
  const prefetched = sent.splice(0);
  assert.equal(prefetched.length, 4, `prefetched: ${prefetched.join(', ')}`);

  const client = makeClient(session.baseUrl, session);
  const prepared = new Promise<void>((resolve) => client.on(ClientEvent.Sync, (state) => state === 'PREPARED' && resolve()));
  await client.startClient({ ...START_OPTIONS });
  await prepared;
  // The later, incremental syncs name the filter the prefetched POST created.
  const incremental = await waitFor('the first incremental sync', () => sent.find((r) => r.startsWith('GET /_matrix/client/v3/sync?') && r.includes('since=')));
  client.stopClient();
  assert.match(new URL(incremental.slice(4), server.url).searchParams.get('filter') ?? '', /^[^{]+$/, 'an incremental sync uses a filter ID');

  const startUp = sent.filter((r) => !r.includes('since=') && /\/(versions|pushrules\/|filter|sync)(\?|$)/.test(r));
  assert.deepEqual(startUp, [], `the SDK sent again what was prefetched: ${startUp.join(', ')}`);
  assert.deepEqual(
    client.getRooms().map((r) => r.name),
    ['Prefetched'],
    'the first sync the SDK processed is the prefetched one',
  );
  assertNoValidationFailures();
});
