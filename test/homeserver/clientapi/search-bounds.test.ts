// POST /search bounds. event_context: a client names how many events of context it wants around each
// result, and one request may hold up to 100 results; the server holds each side to a bound
// (clientapi/search.ts MAX_SEARCH_CONTEXT_EVENTS) instead of reading whatever was asked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, registerUser, call, type TestServer, type TestUser } from '../../helpers/server.ts';

/** clientapi/search.ts MAX_SEARCH_CONTEXT_EVENTS. */
const MAX_CONTEXT = 20;

describe('POST /search event_context bounds', () => {
  let server: TestServer;
  let alice: TestUser;
  let roomId: string;

  before(async () => {
    server = await startTestServer();
    alice = await registerUser(server, 'alice');
    roomId = (await call(server, alice, 'POST', '/createRoom', { preset: 'private_chat' })).body.room_id;
    const send = (i: number, body: string) =>
      call(server, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${i}`, { msgtype: 'm.text', body });
    for (let i = 0; i < MAX_CONTEXT + 10; i++) await send(i, `filler ${i}`);
    await send(1000, 'the needle');
    for (let i = 0; i < MAX_CONTEXT + 10; i++) await send(2000 + i, `filler after ${i}`);
  });
  after(async () => {
    await server?.stop();
  });

  const search = (eventContext: unknown) =>
    call(server, alice, 'POST', '/search', { search_categories: { room_events: { search_term: 'needle', event_context: eventContext } } });

  test('a million events of context before and after a result are held to the bound', async () => {
    const res = await search({ before_limit: 1_000_000, after_limit: 1_000_000 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [hit] = res.body.search_categories.room_events.results;
    assert.equal(hit.result.content.body, 'the needle');
    assert.equal(hit.context.events_before.length, MAX_CONTEXT);
    assert.equal(hit.context.events_after.length, MAX_CONTEXT);
  });

  test('limits under the bound are honoured as asked', async () => {
    const res = await search({ before_limit: 3, after_limit: 0 });
    assert.equal(res.status, 200);
    const [hit] = res.body.search_categories.room_events.results;
    assert.equal(hit.context.events_before.length, 3);
    assert.equal(hit.context.events_after.length, 0);
  });
});

// Matches the searcher may not see are looked at and dropped; with no bound one request would
// read the whole index for a term that only hidden history holds.
describe('POST /search over matches the user may not see', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  /** clientapi/search.ts: MAX_SEARCH_ROUNDS x ROUND matches looked at per request. */
  const SCANNED_PER_REQUEST = 5 * 50;

  before(async () => {
    server = await startTestServer();
    alice = await registerUser(server, 'alice');
    bob = await registerUser(server, 'bob');
    const roomId = (
      await call(server, alice, 'POST', '/createRoom', {
        preset: 'public_chat',
        initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
      })
    ).body.room_id;
    const room = encodeURIComponent(roomId);
    for (let i = 0; i < SCANNED_PER_REQUEST + 20; i++) {
      await call(server, alice, 'PUT', `/rooms/${room}/send/m.room.message/h${i}`, { msgtype: 'm.text', body: `hidden haystack ${i}` });
    }
    assert.equal((await call(server, bob, 'POST', `/rooms/${room}/join`, {})).status, 200);
    await call(server, bob, 'PUT', `/rooms/${room}/send/m.room.message/v1`, { msgtype: 'm.text', body: 'visible haystack' });
  });
  after(async () => {
    await server?.stop();
  });

  for (const orderBy of ['recent', 'rank']) {
    test(`order_by ${orderBy}: a page stops after a bounded number of hidden matches and gives a next_batch; paging on finds only what the user may see`, async () => {
      const bodies: string[] = [];
      let nextBatch: string | undefined;
      let pages = 0;
      do {
        const res = await call(server, bob, 'POST', `/search${nextBatch ? `?next_batch=${encodeURIComponent(nextBatch)}` : ''}`, {
          search_categories: { room_events: { search_term: 'haystack', order_by: orderBy } },
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const page = res.body.search_categories.room_events;
        bodies.push(...page.results.map((r: { result: { content: { body: string } } }) => r.result.content.body));
        nextBatch = page.next_batch;
        pages++;
        if (pages === 1) assert.ok(nextBatch, 'the first page stopped before reading every hidden match');
      } while (nextBatch && pages < 10);
      assert.equal(nextBatch, undefined, 'paging ends');
      assert.deepEqual(bodies, ['visible haystack']);
    });
  }
});
