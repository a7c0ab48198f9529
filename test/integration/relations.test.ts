// Edits, reactions, replies and threads: the relations endpoints and the bundled aggregations
// under unsigned["m.relations"] on /messages, /event, /context and /sync, as matrix-js-sdk reads
// them; plus the refusals the spec asks for (duplicate annotation, relation to nothing).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, RelationType, type MatrixClient } from 'matrix-js-sdk';
import { startTestServer, call, type TestServer, type TestUser } from '../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures } from '../helpers/openapi.ts';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitFor } from '../helpers/sdk.ts';

describe('relations: edits, reactions, threads and their bundled aggregations', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let bobSdk: MatrixClient;
  let roomId: string;
  let rootId: string;
  const room = () => encodeURIComponent(roomId);

  before(async () => {
    clearValidationFailures();
    server = await startTestServer();
    alice = await registerWithSdk(server, 'alice');
    bob = await registerWithSdk(server, 'bob');
    roomId = (await call(server, alice, 'POST', '/createRoom', { preset: 'public_chat' })).body.room_id;
    assert.equal((await call(server, bob, 'POST', `/join/${room()}`, {})).status, 200);
    rootId = (await call(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/root`, { msgtype: 'm.text', body: 'cake?' })).body.event_id;
    bobSdk = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: bob.userId, accessToken: bob.accessToken, deviceId: bob.deviceId });
  });

  after(async () => {
    bobSdk?.stopClient();
    await server?.stop();
  });

  test('an edit is bundled as m.replace on the original, whose content stays intact', async () => {
    const edit = await call(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/edit1`, {
      msgtype: 'm.text',
      body: '* chocolate cake?',
      'm.new_content': { msgtype: 'm.text', body: 'chocolate cake?' },
      'm.relates_to': { rel_type: 'm.replace', event_id: rootId },
    });
    assert.equal(edit.status, 200);
    const ev = await call(server, bob, 'GET', `/rooms/${room()}/event/${encodeURIComponent(rootId)}`);
    assert.equal(ev.body.content.body, 'cake?', 'the server never rewrites the original content');
    assert.equal(ev.body.unsigned['m.relations']['m.replace'].event_id, edit.body.event_id);
    assert.equal(ev.body.unsigned['m.relations']['m.replace'].content['m.new_content'].body, 'chocolate cake?');
  });

  test("bob may not edit alice's message", async () => {
    const res = await call(server, bob, 'PUT', `/rooms/${room()}/send/m.room.message/badedit`, {
      msgtype: 'm.text',
      body: '* mine',
      'm.new_content': { msgtype: 'm.text', body: 'mine' },
      'm.relates_to': { rel_type: 'm.replace', event_id: rootId },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.errcode, 'M_INVALID_PARAM');
  });

  test('a reaction is listed by /relations; the same reaction twice is M_DUPLICATE_ANNOTATION; after redaction it may be sent again', async () => {
    const path = (txn: string) => `/rooms/${room()}/send/m.reaction/${txn}`;
    const reaction = { 'm.relates_to': { rel_type: 'm.annotation', event_id: rootId, key: '👍' } };
    const first = await call(server, bob, 'PUT', path('r1'), reaction);
    assert.equal(first.status, 200);
    const dup = await call(server, bob, 'PUT', path('r2'), reaction);
    assert.equal(dup.status, 400);
    assert.equal(dup.body.errcode, 'M_DUPLICATE_ANNOTATION');
    const list = await call(server, alice, 'GET', `/rooms/${room()}/relations/${encodeURIComponent(rootId)}/m.annotation`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.chunk.map((e: { event_id: string }) => e.event_id),
      [first.body.event_id],
    );
    assert.equal((await call(server, bob, 'PUT', `/rooms/${room()}/redact/${encodeURIComponent(first.body.event_id)}/red1`, {})).status, 200);
    const after = await call(server, alice, 'GET', `/rooms/${room()}/relations/${encodeURIComponent(rootId)}/m.annotation`);
    assert.deepEqual(after.body.chunk, [], 'a redacted reaction no longer relates');
    assert.equal((await call(server, bob, 'PUT', path('r3'), reaction)).status, 200);
  });

  test('a reaction to an event that does not exist is refused with a standard error', async () => {
    const res = await call(server, bob, 'PUT', `/rooms/${room()}/send/m.reaction/ghost`, {
      'm.relates_to': { rel_type: 'm.annotation', event_id: '$doesnotexist000000000000000000000000000000', key: '👍' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.errcode, 'M_INVALID_PARAM');
  });

  test('thread replies bundle as m.thread (count, latest_event, participation) and list the root under /threads', async () => {
    const thread = (txn: string, who: TestUser, body: string) =>
      call(server, who, 'PUT', `/rooms/${room()}/send/m.room.message/${txn}`, {
        msgtype: 'm.text',
        body,
        'm.relates_to': { rel_type: 'm.thread', event_id: rootId, is_falling_back: true, 'm.in_reply_to': { event_id: rootId } },
      });
    assert.equal((await thread('t1', bob, 'in thread 1')).status, 200);
    const last = await thread('t2', alice, 'in thread 2');
    assert.equal(last.status, 200);
    const ctx = await call(server, bob, 'GET', `/rooms/${room()}/context/${encodeURIComponent(rootId)}?limit=2`);
    const agg = ctx.body.event.unsigned['m.relations']['m.thread'];
    assert.equal(agg.count, 2);
    assert.equal(agg.latest_event.event_id, last.body.event_id);
    assert.equal(agg.current_user_participated, true);
    const threads = await call(server, bob, 'GET', `/rooms/${room()}/threads`);
    assert.deepEqual(
      threads.body.chunk.map((e: { event_id: string }) => e.event_id),
      [rootId],
    );
    const nested = await call(server, bob, 'PUT', `/rooms/${room()}/send/m.room.message/t3`, {
      msgtype: 'm.text',
      body: 'thread off a thread',
      'm.relates_to': { rel_type: 'm.thread', event_id: last.body.event_id },
    });
    assert.equal(nested.status, 400, 'a thread cannot hang off an event that is itself in a thread');
  });

  test('matrix-js-sdk reads the aggregations: relations() and the thread summary in /messages', async () => {
    const res = await bobSdk.relations(roomId, rootId, RelationType.Thread);
    assert.equal(res.events.length, 2);
    const page = await call(server, bob, 'GET', `/rooms/${room()}/messages?dir=b&limit=50`);
    const root = page.body.chunk.find((e: { event_id: string }) => e.event_id === rootId);
    assert.equal(root.unsigned['m.relations']['m.thread'].count, 2);
    assert.ok(root.unsigned['m.relations']['m.replace'], 'the edit is bundled on /messages too');
  });

  test('bundled aggregations reach a syncing matrix-js-sdk client', async () => {
    await startSyncing(bobSdk, { timelineLimit: 50 });
    const ev = await waitFor('bob to have the root event', () => bobSdk.getRoom(roomId)?.findEventById(rootId));
    await waitFor('the SDK to apply the edit', () => ev.replacingEvent()?.getContent()['m.new_content']?.body === 'chocolate cake?');
  });

  test('every response matches the spec', () => {
    assertNoValidationFailures();
  });
});
