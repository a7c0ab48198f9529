// GET /event, /state, /state_ids (events.yaml) and /event_auth (event_auth.yaml), asked by a
// second real server over signed HTTPS: what they answer, and whom they refuse.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, createRoom, currentStateId, enc, fed, idOfPdu, remoteJoin, send, setState, startPair, type Pair } from './room-data-helpers.ts';

describe('federation: events, state and auth chains served to another server', () => {
  let p: Pair;
  /** A world_readable room: a message, a rename, a second message. */
  let open: { roomId: string; m1: string; rename: string; m2: string };
  /** A room with the default (shared) history that B has no member in. */
  let closed: { roomId: string; m1: string };

  before(async () => {
    p = await startPair();
    const roomId = await createRoom(p, {
      preset: 'public_chat',
      name: 'first',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'world_readable' } }],
    });
    const m1 = await send(p, roomId, 'one');
    const rename = await setState(p, roomId, 'm.room.name', { name: 'second' });
    const m2 = await send(p, roomId, 'two');
    open = { roomId, m1, rename, m2 };
    const closedId = await createRoom(p, { preset: 'private_chat' });
    closed = { roomId: closedId, m1: await send(p, closedId, 'secret') };
  });
  after(() => p?.stop());

  test('/event answers a transaction with the PDU as signed: no event_id, no unsigned, hashing to the asked id', async () => {
    const r = await fed(p, 'GET', `/_matrix/federation/v1/event/${enc(open.m1)}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.origin, p.aName);
    assert.ok(Math.abs(r.body.origin_server_ts - Date.now()) < 60_000);
    assert.equal(r.body.pdus.length, 1);
    const pdu = r.body.pdus[0];
    assert.equal(pdu.event_id, undefined);
    assert.equal(pdu.unsigned, undefined);
    assert.equal(pdu.content.body, 'one');
    assert.ok(pdu.signatures[p.aName], "A's signature is kept");
    assert.equal(await idOfPdu(p, open.roomId, pdu), open.m1);
  });

  test('/event of an unknown event is 404 M_NOT_FOUND', async () => {
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/event/${enc('$nope')}`), 404, 'M_NOT_FOUND');
  });

  test('/event of a room whose history B may not see (shared, no member of B) is 403 M_FORBIDDEN', async () => {
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/event/${enc(closed.m1)}`), 403, 'M_FORBIDDEN');
  });

  test('/state_ids is the state BEFORE the event: at the rename, the old name; at the next message, the new one', async () => {
    const oldName = await fed(p, 'GET', `/_matrix/federation/v1/state_ids/${enc(open.roomId)}?event_id=${enc(open.rename)}`);
    assert.equal(oldName.status, 200);
    assert.ok(!oldName.body.pdu_ids.includes(open.rename), 'the rename is not in the state before itself');
    const after = await fed(p, 'GET', `/_matrix/federation/v1/state_ids/${enc(open.roomId)}?event_id=${enc(open.m2)}`);
    assert.ok(after.body.pdu_ids.includes(open.rename));
    // Exactly the room's current state (nothing changed after the rename).
    const current = (await p.aDb.all<{ event_id: string }>('SELECT event_id FROM current_state WHERE room_id = ?', open.roomId)).map((r) => r.event_id);
    assert.deepEqual([...after.body.pdu_ids].sort(), current.sort());
    // The auth chain of that state reaches the create event and every member and power event.
    for (const id of [await currentStateId(p, open.roomId, 'm.room.create'), await currentStateId(p, open.roomId, 'm.room.power_levels')]) {
      assert.ok(after.body.auth_chain_ids.includes(id));
    }
    assert.ok(!after.body.auth_chain_ids.includes(open.rename), 'the name authorises nothing');
  });

  test('/state answers the same events as /state_ids, as PDUs', async () => {
    const ids = await fed(p, 'GET', `/_matrix/federation/v1/state_ids/${enc(open.roomId)}?event_id=${enc(open.m2)}`);
    const full = await fed(p, 'GET', `/_matrix/federation/v1/state/${enc(open.roomId)}?event_id=${enc(open.m2)}`);
    assert.equal(full.status, 200);
    const pduIds = await Promise.all(full.body.pdus.map((e: any) => idOfPdu(p, open.roomId, e)));
    const chainIds = await Promise.all(full.body.auth_chain.map((e: any) => idOfPdu(p, open.roomId, e)));
    assert.deepEqual(pduIds, ids.body.pdu_ids);
    assert.deepEqual(chainIds, ids.body.auth_chain_ids);
    const name = full.body.pdus.find((e: any) => e.type === 'm.room.name');
    assert.equal(name.content.name, 'second');
    for (const e of [...full.body.pdus, ...full.body.auth_chain]) assert.equal(e.event_id, undefined);
  });

  test('/state_ids of an unknown room, or of an event of another room, is 404; without event_id 400', async () => {
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/state_ids/${enc('!nope:elsewhere')}?event_id=${enc(open.m1)}`), 404, 'M_NOT_FOUND');
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/state_ids/${enc(open.roomId)}?event_id=${enc(closed.m1)}`), 404, 'M_NOT_FOUND');
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/state/${enc(open.roomId)}`), 400, 'M_MISSING_PARAM');
  });

  test('/event_auth is the auth chain of the event: its auth events and theirs, without itself', async () => {
    const r = await fed(p, 'GET', `/_matrix/federation/v1/event_auth/${enc(open.roomId)}/${enc(open.m2)}`);
    assert.equal(r.status, 200);
    const ids = await Promise.all(r.body.auth_chain.map((e: any) => idOfPdu(p, open.roomId, e)));
    assert.ok(!ids.includes(open.m2));
    assert.ok(!ids.includes(open.rename));
    assert.ok(ids.includes(await currentStateId(p, open.roomId, 'm.room.create')));
    assert.ok(ids.includes(await currentStateId(p, open.roomId, 'm.room.member', p.alice.userId)));
    // Parents come first: depth never decreases.
    const depths = r.body.auth_chain.map((e: any) => e.depth);
    assert.deepEqual(
      depths,
      [...depths].sort((x: number, y: number) => x - y),
    );
  });

  test('state, state_ids and event_auth of a room B is not in (and not world_readable) are 403 M_FORBIDDEN', async () => {
    for (const path of [
      `/_matrix/federation/v1/state/${enc(closed.roomId)}?event_id=${enc(closed.m1)}`,
      `/_matrix/federation/v1/state_ids/${enc(closed.roomId)}?event_id=${enc(closed.m1)}`,
      `/_matrix/federation/v1/event_auth/${enc(closed.roomId)}/${enc(closed.m1)}`,
    ])
      assertError(await fed(p, 'GET', path), 403, 'M_FORBIDDEN');
  });

  test("a room's m.room.server_acl denying B makes every route 403 M_FORBIDDEN, world_readable or not", async () => {
    const roomId = await createRoom(p, {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'world_readable' } }],
    });
    const m = await send(p, roomId, 'hello');
    const paths = [
      `/_matrix/federation/v1/event/${enc(m)}`,
      `/_matrix/federation/v1/state_ids/${enc(roomId)}?event_id=${enc(m)}`,
      `/_matrix/federation/v1/event_auth/${enc(roomId)}/${enc(m)}`,
    ];
    for (const path of paths) assert.equal((await fed(p, 'GET', path)).status, 200, path);
    // The ACL ignores ports: "127.0.0.1" covers B (and A, whose own sends it does not stop).
    await setState(p, roomId, 'm.room.server_acl', { allow: ['*'], deny: ['127.0.0.1'] });
    for (const path of paths) assertError(await fed(p, 'GET', path), 403, 'M_FORBIDDEN');
    // allow_ip_literals: false refuses an IP-literal server name as well.
    await setState(p, roomId, 'm.room.server_acl', { allow: ['*'], allow_ip_literals: false });
    assertError(await fed(p, 'GET', paths[1]!), 403, 'M_FORBIDDEN');
    await setState(p, roomId, 'm.room.server_acl', { allow: ['127.0.0.*'] });
    assert.equal((await fed(p, 'GET', paths[1]!)).status, 200);
  });

  test('once a user of B has joined, B may read a joined-only room from its join on, and its state', async () => {
    const roomId = await createRoom(p, {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
    });
    const before = await send(p, roomId, 'before B');
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/state_ids/${enc(roomId)}?event_id=${enc(before)}`), 403, 'M_FORBIDDEN');
    const join = await remoteJoin(p, roomId, 'bob');
    const later = await send(p, roomId, 'after B');
    assert.equal((await fed(p, 'GET', `/_matrix/federation/v1/event/${enc(later)}`)).status, 200);
    assert.equal((await fed(p, 'GET', `/_matrix/federation/v1/event/${enc(join)}`)).status, 200, "B's own join");
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/event/${enc(before)}`), 403, 'M_FORBIDDEN');
    // In the room, B may ask for the state at any event (it needs it to follow the DAG).
    const ids = await fed(p, 'GET', `/_matrix/federation/v1/state_ids/${enc(roomId)}?event_id=${enc(later)}`);
    assert.equal(ids.status, 200);
    assert.ok(ids.body.pdu_ids.includes(join));
  });
});
