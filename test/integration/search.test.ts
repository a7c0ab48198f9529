// POST /search over real HTTP (and through matrix-js-sdk): hits in rooms the user may see,
// ordering by rank and recency, pagination, context, and nothing a user may not read.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'matrix-js-sdk';
import { startTestServer, call, type TestServer, type TestUser } from '../helpers/server.ts';
import { clientServerValidator } from '../helpers/openapi.ts';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';

const validator = clientServerValidator();

describe('server-side search', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let eve: TestUser;
  let roomId: string;
  const room = () => encodeURIComponent(roomId);

  async function search(user: TestUser, room_events: Record<string, unknown>, nextBatch?: string) {
    const res = await call(server, user, 'POST', `/search${nextBatch ? `?next_batch=${encodeURIComponent(nextBatch)}` : ''}`, {
      search_categories: { room_events },
    });
    assert.equal(validator.validateResponse('POST', '/_matrix/client/v3/search', res.status, res.body), 'validated');
    return res;
  }

  before(async () => {
    server = await startTestServer();
    alice = await registerWithSdk(server, 'alice');
    bob = await registerWithSdk(server, 'bob');
    eve = await registerWithSdk(server, 'eve');
    roomId = (
      await call(server, alice, 'POST', '/createRoom', { preset: 'private_chat', name: 'Baking club', topic: 'sourdough and rye', invite: [bob.userId] })
    ).body.room_id;
    await call(server, bob, 'POST', `/join/${room()}`, {});
    const lines = [
      'the sourdough starter is bubbling',
      'rye bread tonight',
      'pizza dough or sourdough?',
      'sourdough sourdough sourdough!',
      'nothing to see here',
    ];
    for (const [i, body] of lines.entries())
      await call(server, i % 2 ? bob : alice, 'PUT', `/rooms/${room()}/send/m.room.message/l${i}`, { msgtype: 'm.text', body });
  });

  after(async () => {
    await server?.stop();
  });

  test('a search term finds the messages containing it, most relevant first', async () => {
    const res = await search(bob, { search_term: 'sourdough' });
    assert.equal(res.status, 200);
    const re = res.body.search_categories.room_events;
    const bodies = re.results.map((r: { result: { content: { body?: string } } }) => r.result.content.body);
    assert.ok(bodies.includes('the sourdough starter is bubbling'));
    assert.ok(bodies.includes('pizza dough or sourdough?'));
    assert.equal(bodies[0], 'sourdough sourdough sourdough!', 'the message saying it three times ranks first');
    const ranks = re.results.map((r: { rank: number }) => r.rank);
    assert.deepEqual(
      [...ranks].sort((a, b) => b - a),
      ranks,
      'ranks decrease',
    );
    assert.deepEqual(re.highlights, ['sourdough']);
    assert.ok(re.count >= 3);
  });

  test('the room topic is searched too (content.topic), and keys restrict what is searched', async () => {
    const all = await search(bob, { search_term: 'rye' });
    const types = all.body.search_categories.room_events.results.map((r: { result: { type: string } }) => r.result.type).sort();
    assert.deepEqual(types, ['m.room.message', 'm.room.topic']);
    const bodiesOnly = await search(bob, { search_term: 'rye', keys: ['content.body'] });
    assert.deepEqual(
      bodiesOnly.body.search_categories.room_events.results.map((r: { result: { type: string } }) => r.result.type),
      ['m.room.message'],
    );
  });

  test('order_by recent pages through every hit newest first with next_batch', async () => {
    const seen: string[] = [];
    let next: string | undefined;
    for (let i = 0; i < 10; i++) {
      const res = await search(bob, { search_term: 'sourdough', order_by: 'recent', filter: { limit: 1 } }, next);
      const re = res.body.search_categories.room_events;
      seen.push(...re.results.map((r: { result: { event_id: string; content: { body?: string } } }) => r.result.content.body ?? '(topic)'));
      next = re.next_batch;
      if (!next) break;
    }
    assert.deepEqual(seen, ['sourdough sourdough sourdough!', 'pizza dough or sourdough?', 'the sourdough starter is bubbling', '(topic)']);
  });

  test('context and profile info come with each result when asked', async () => {
    const res = await search(bob, { search_term: 'pizza', event_context: { before_limit: 1, after_limit: 1, include_profile: true } });
    const [hit] = res.body.search_categories.room_events.results;
    assert.equal(hit.context.events_before[0].content.body, 'rye bread tonight');
    assert.equal(hit.context.events_after[0].content.body, 'sourdough sourdough sourdough!');
    assert.equal(hit.context.profile_info[alice.userId].displayname, 'alice');
  });

  test('a user outside the room finds nothing; a user who left finds nothing sent after the leave, nor counts it', async () => {
    const stranger = await search(eve, { search_term: 'sourdough' });
    assert.deepEqual(stranger.body.search_categories.room_events.results, []);
    await call(server, bob, 'POST', `/rooms/${room()}/leave`, {});
    await call(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/after`, { msgtype: 'm.text', body: 'secret sourdough recipe' });
    const res = await search(bob, { search_term: 'secret' });
    assert.deepEqual(res.body.search_categories.room_events.results, []);
    assert.equal(res.body.search_categories.room_events.count, 0, 'the count leaves out the message sent after the leave');
    const earlier = await search(bob, { search_term: 'bubbling' });
    assert.equal(earlier.body.search_categories.room_events.results.length, 1, 'events from before the leave stay searchable');
  });

  test('a redacted message is no longer found', async () => {
    const sent = await call(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/oops`, { msgtype: 'm.text', body: 'my password is hunter2' });
    assert.equal((await search(alice, { search_term: 'hunter2' })).body.search_categories.room_events.results.length, 1);
    await call(server, alice, 'PUT', `/rooms/${room()}/redact/${encodeURIComponent(sent.body.event_id)}/r1`, {});
    assert.equal((await search(alice, { search_term: 'hunter2' })).body.search_categories.room_events.results.length, 0);
  });

  test('query syntax in the term is treated as words, not as an FTS expression', async () => {
    for (const term of ['"', 'NEAR(', 'a OR', '*', 'sourdough"']) {
      const res = await search(alice, { search_term: term });
      assert.equal(res.status, 200, `term ${term}`);
    }
  });

  test('matrix-js-sdk finds a message with searchRoomEvents', async () => {
    const client = createClient({
      baseUrl: server.url,
      fetchFn,
      logger: quietLogger,
      userId: alice.userId,
      accessToken: alice.accessToken,
      deviceId: alice.deviceId,
    });
    const res = await client.searchRoomEvents({ term: 'bubbling' });
    assert.equal(res.results.length, 1);
    assert.equal(res.results[0]!.context.getEvent().getContent().body, 'the sourdough starter is bubbling');
  });
});
