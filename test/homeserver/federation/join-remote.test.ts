// Two Hearth servers on loopback: a user of B joins a room made on A by its alias (make_join /
// send_join), messages flow both ways through /send, and an invite crosses servers (invite v2).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertNoValidationFailures, validationCounts } from '../../helpers/openapi.ts';
import { eventually } from '../../helpers/federation.ts';

async function messages(server: TestServer, user: TestUser, roomId: string): Promise<string[]> {
  const r = await call(server, user, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.chunk
    .filter((e: any) => e.type === 'm.room.message')
    .map((e: any) => e.content.body)
    .reverse();
}

describe('joining a room on another server', () => {
  let a: TestServer, b: TestServer;
  let alice: TestUser, bob: TestUser;
  let roomId: string;

  before(async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    a = await startFederatedTestServer(pa, { trustSelfSigned: [`127.0.0.1:${pb}`] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [`127.0.0.1:${pa}`] });
    alice = await registerUser(a, 'alice');
    bob = await registerUser(b, 'bob');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('a user of B joins a public room of A by its alias and sees its state', async () => {
    const created = await call(a, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'lobby', name: 'Lobby' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    roomId = created.body.room_id;
    await call(a, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, { msgtype: 'm.text', body: 'before bob' });
    const joined = await call(b, bob, 'POST', `/join/${encodeURIComponent(`#lobby:${a.serverName}`)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal(joined.body.room_id, roomId);
    const name = await call(b, bob, 'GET', `/rooms/${encodeURIComponent(roomId)}/state/m.room.name/`);
    assert.equal(name.status, 200, JSON.stringify(name.body));
    assert.equal(name.body.name, 'Lobby');
    const members = await call(b, bob, 'GET', `/rooms/${encodeURIComponent(roomId)}/joined_members`);
    assert.deepEqual(Object.keys(members.body.joined).sort(), [alice.userId, bob.userId].sort());
  });

  test("A learns of B's join, and messages cross both ways", async () => {
    await eventually("bob's join on A", async () => {
      const m = await call(a, alice, 'GET', `/rooms/${encodeURIComponent(roomId)}/joined_members`);
      return m.body.joined?.[bob.userId] ? true : undefined;
    });
    const sent = await call(b, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b1`, { msgtype: 'm.text', body: 'hello from B' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await eventually('B message on A', async () => ((await messages(a, alice, roomId)).includes('hello from B') ? true : undefined));
    await call(a, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/a2`, { msgtype: 'm.text', body: 'hello from A' });
    await eventually('A message on B', async () => ((await messages(b, bob, roomId)).includes('hello from A') ? true : undefined));
  });

  test('history from before the join is backfilled when B pages back through /messages', async () => {
    const created = await call(a, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'history', history_visibility: 'shared' });
    const hist = created.body.room_id;
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      sent.push(`old ${i}`);
      await call(a, alice, 'PUT', `/rooms/${encodeURIComponent(hist)}/send/m.room.message/h${i}`, { msgtype: 'm.text', body: `old ${i}` });
    }
    assert.equal((await call(b, bob, 'POST', `/join/${encodeURIComponent(`#history:${a.serverName}`)}`, {})).status, 200);
    // Page back 10 at a time, as a client scrolling up does, until the room's start.
    const seen: string[] = [];
    let from: string | undefined;
    const types: string[] = [];
    for (let page = 0; page < 20; page++) {
      const r = await call(b, bob, 'GET', `/rooms/${encodeURIComponent(hist)}/messages?dir=b&limit=10${from ? `&from=${from}` : ''}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      for (const e of r.body.chunk) {
        types.push(e.type);
        if (e.type === 'm.room.message') seen.push(e.content.body);
      }
      if (!r.body.end) break;
      from = r.body.end;
    }
    assert.deepEqual(seen.reverse(), sent);
    assert.equal(types[types.length - 1], 'm.room.create', 'paging back reaches the room creation');
  });

  test('rooms of every version from 6 to 12 are joined across servers', async () => {
    for (const version of ['6', '7', '8', '9', '10', '11', '12']) {
      const created = await call(a, alice, 'POST', '/createRoom', { preset: 'public_chat', room_version: version, room_alias_name: `v${version}` });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const joined = await call(b, bob, 'POST', `/join/${encodeURIComponent(`#v${version}:${a.serverName}`)}`, {});
      assert.equal(joined.status, 200, `v${version}: ${JSON.stringify(joined.body)}`);
      const create = await call(b, bob, 'GET', `/rooms/${encodeURIComponent(created.body.room_id)}/state/m.room.create/`);
      assert.equal(create.body.room_version, version);
    }
  });

  test("make_join for a server that supports none of the room's versions is 400 M_INCOMPATIBLE_ROOM_VERSION", async () => {
    const err = await b.hs
      .federation!.client.request(
        a.serverName,
        'GET',
        `/_matrix/federation/v1/make_join/${encodeURIComponent(roomId)}/${encodeURIComponent(bob.userId)}?ver=1&ver=5`,
      )
      .then(
        () => undefined,
        (e: any) => e,
      );
    assert.equal(err?.status, 400);
    assert.equal(err?.errcode, 'M_INCOMPATIBLE_ROOM_VERSION');
    assert.equal(err?.body?.room_version, '11');
  });

  test('an invite crosses servers: B sees it in /sync, joins, and both see each other', async () => {
    const dm = await call(a, alice, 'POST', '/createRoom', { preset: 'trusted_private_chat', is_direct: true, invite: [bob.userId] });
    assert.equal(dm.status, 200, JSON.stringify(dm.body));
    const dmId = dm.body.room_id;
    const invited = await eventually('the invite in B /sync', async () => {
      const s = await call(b, bob, 'GET', '/sync?timeout=0');
      return s.body.rooms?.invite?.[dmId];
    });
    assert.ok(invited.invite_state.events.some((e: any) => e.type === 'm.room.member' && e.state_key === bob.userId && e.content.membership === 'invite'));
    const joined = await call(b, bob, 'POST', `/rooms/${encodeURIComponent(dmId)}/join`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    await eventually("bob's DM join on A", async () => {
      const m = await call(a, alice, 'GET', `/rooms/${encodeURIComponent(dmId)}/joined_members`);
      return m.body.joined?.[bob.userId] ? true : undefined;
    });
  });

  test('a remote invite is rejected through make_leave/send_leave, and A sees the leave', async () => {
    const room = (await call(a, alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [bob.userId] })).body.room_id;
    await eventually('the invite on B', async () => (await call(b, bob, 'GET', '/sync?timeout=0')).body.rooms?.invite?.[room]);
    const left = await call(b, bob, 'POST', `/rooms/${encodeURIComponent(room)}/leave`, {});
    assert.equal(left.status, 200, JSON.stringify(left.body));
    await eventually('the rejection on A', async () => {
      const m = await call(a, alice, 'GET', `/rooms/${encodeURIComponent(room)}/state/m.room.member/${encodeURIComponent(bob.userId)}`);
      return m.body.membership === 'leave' ? true : undefined;
    });
    const s = await call(b, bob, 'GET', '/sync?timeout=0');
    assert.equal(s.body.rooms?.invite?.[room], undefined, 'the invite is gone from B');
  });

  test('a knock crosses servers (make_knock/send_knock): A sees it, invites, and B joins', async () => {
    const room = (
      await call(a, alice, 'POST', '/createRoom', {
        preset: 'private_chat',
        room_version: '10',
        room_alias_name: 'knocking',
        initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
      })
    ).body.room_id;
    const knocked = await call(b, bob, 'POST', `/knock/${encodeURIComponent(`#knocking:${a.serverName}`)}`, { reason: 'let me in' });
    assert.equal(knocked.status, 200, JSON.stringify(knocked.body));
    const onA = await call(a, alice, 'GET', `/rooms/${encodeURIComponent(room)}/state/m.room.member/${encodeURIComponent(bob.userId)}`);
    assert.equal(onA.body.membership, 'knock');
    const s = await eventually('the knock in B /sync', async () => (await call(b, bob, 'GET', '/sync?timeout=0')).body.rooms?.knock?.[room]);
    assert.ok(s.knock_state.events.some((e: any) => e.type === 'm.room.join_rules'));
    assert.equal((await call(a, alice, 'POST', `/rooms/${encodeURIComponent(room)}/invite`, { user_id: bob.userId })).status, 200);
    await eventually('the invite after the knock on B', async () => (await call(b, bob, 'GET', '/sync?timeout=0')).body.rooms?.invite?.[room]);
    assert.equal((await call(b, bob, 'POST', `/rooms/${encodeURIComponent(room)}/join`, {})).status, 200);
  });

  test('a user of B leaves, the room goes on without B, and a rejoin through A works', async () => {
    const room = (await call(a, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'again' })).body.room_id;
    assert.equal((await call(b, bob, 'POST', `/join/${encodeURIComponent(`#again:${a.serverName}`)}`, {})).status, 200);
    assert.equal((await call(b, bob, 'POST', `/rooms/${encodeURIComponent(room)}/leave`, {})).status, 200);
    await eventually("bob's leave on A", async () => {
      const m = await call(a, alice, 'GET', `/rooms/${encodeURIComponent(room)}/state/m.room.member/${encodeURIComponent(bob.userId)}`);
      return m.body.membership === 'leave' ? true : undefined;
    });
    await call(a, alice, 'PUT', `/rooms/${encodeURIComponent(room)}/send/m.room.message/gone`, { msgtype: 'm.text', body: 'while bob was away' });
    await call(a, alice, 'PUT', `/rooms/${encodeURIComponent(room)}/state/m.room.topic/`, { topic: 'changed without B' });
    const rejoined = await call(b, bob, 'POST', `/join/${encodeURIComponent(`#again:${a.serverName}`)}`, {});
    assert.equal(rejoined.status, 200, JSON.stringify(rejoined.body));
    const topic = await call(b, bob, 'GET', `/rooms/${encodeURIComponent(room)}/state/m.room.topic/`);
    assert.equal(topic.body.topic, 'changed without B');
  });

  test('every federation response the servers received matched the server-server OpenAPI', () => {
    assert.ok(validationCounts().validated > 0, 'federation responses were validated');
    assertNoValidationFailures();
  });
});
