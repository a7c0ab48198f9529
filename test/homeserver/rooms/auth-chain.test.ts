// authChain over rooms built by a real server (client API on loopback, SQLite in a temp dir):
// which events it returns, in which order, and that a long chain is walked without trouble.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, registerUser, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';
import { join } from 'node:path';
import { authChain } from '../../../homeserver/rooms/auth-chain.ts';
import { EventReader } from '../../../homeserver/rooms/event-reader.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';

describe('authChain', () => {
  let server: TestServer;
  let alice: TestUser, bob: TestUser;
  /** The server's own SQLite file, opened read-only beside it, with a fresh reader (no shared cache). */
  let db: Connection;
  let reader: EventReader;

  before(async () => {
    server = await startTestServer();
    alice = await registerUser(server, 'alice');
    bob = await registerUser(server, 'bob');
    db = await Connection.open(join(server.dataDir, 'hearth.sqlite'), true);
    reader = new EventReader();
  });
  after(async () => {
    await db?.close();
    await server?.stop();
  });

  async function stateId(roomId: string, type: string, key: string): Promise<string> {
    const row = await db.get<{ event_id: string }>('SELECT event_id FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?', roomId, type, key);
    assert.ok(row, `${type}/${key} in state`);
    return row.event_id;
  }

  async function ids(eventIds: string[]): Promise<string[]> {
    return (await authChain(reader, db, eventIds)).map((e) => e.eventId);
  }

  let txn = 0;
  /** A public room with alice and bob joined, a name and one message from bob. */
  async function room(version: string) {
    const roomId = (await checked(server, alice, 'POST', '/createRoom', { preset: 'public_chat', room_version: version, name: 'chain' })).body
      .room_id as string;
    assert.equal((await checked(server, bob, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {})).status, 200);
    const msg = (await checked(server, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body: 'hi' }))
      .body.event_id as string;
    return {
      roomId,
      msg,
      create: await stateId(roomId, 'm.room.create', ''),
      aliceJoin: await stateId(roomId, 'm.room.member', alice.userId),
      bobJoin: await stateId(roomId, 'm.room.member', bob.userId),
      power: await stateId(roomId, 'm.room.power_levels', ''),
      joinRules: await stateId(roomId, 'm.room.join_rules', ''),
      name: await stateId(roomId, 'm.room.name', ''),
    };
  }

  for (const version of ['10', '12']) {
    test(`room v${version}: a message's chain is its auth events and theirs, not itself and not unrelated state`, async () => {
      const r = await room(version);
      const chain = await ids([r.msg]);
      assert.ok(!chain.includes(r.msg), 'the given event is not in its own chain');
      for (const id of [r.create, r.aliceJoin, r.bobJoin, r.power, r.joinRules]) assert.ok(chain.includes(id), `chain has ${id}`);
      assert.ok(!chain.includes(r.name), 'the room name authorises nothing');
      assert.equal(new Set(chain).size, chain.length, 'no duplicates');
    });
  }

  test('the chain is ordered by depth then event id, and is the same for the same input in any order', async () => {
    const r = await room('12');
    const a = await authChain(reader, db, [r.msg, r.name]);
    for (let i = 1; i < a.length; i++) {
      const [p, c] = [a[i - 1]!, a[i]!];
      assert.ok(p.pdu.depth < c.pdu.depth || (p.pdu.depth === c.pdu.depth && p.eventId < c.eventId), `order at ${i}`);
    }
    assert.deepEqual(
      await ids([r.name, r.msg, r.msg]),
      a.map((e) => e.eventId),
    );
    // The create event (depth 1) comes first: nothing precedes it.
    assert.equal(a[0]!.eventId, r.create);
  });

  test('a given event that another given event cites is in the answer (as /state auth_chain expects)', async () => {
    const r = await room('12');
    const chain = await ids([r.bobJoin, r.power]);
    assert.ok(chain.includes(r.power), "bob's join cites the power levels");
    assert.ok(!chain.includes(r.bobJoin), 'nothing cites the join');
  });

  test('room v12: the create event, which no event lists in auth_events, is in every chain; its own chain is empty', async () => {
    const r = await room('12');
    const msg = await reader.getEvent(db, r.msg);
    assert.ok(msg && !msg.pdu.auth_events.includes(r.create), 'v12 leaves the create event out of auth_events');
    assert.ok((await ids([r.msg])).includes(r.create));
    assert.deepEqual(await ids([r.create]), []);
  });

  test('unknown ids and an empty input give an empty chain', async () => {
    assert.deepEqual(await ids([]), []);
    assert.deepEqual(await ids(['$nope']), []);
  });

  test('a chain 400 member events deep is walked in full', async () => {
    const roomId = (await checked(server, alice, 'POST', '/createRoom', { preset: 'private_chat' })).body.room_id as string;
    const path = `/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(alice.userId)}`;
    // Each of alice's member events cites her previous one.
    const n = 400;
    for (let i = 0; i < n; i++) {
      assert.equal((await checked(server, alice, 'PUT', path, { membership: 'join', displayname: `a${i}` })).status, 200);
    }
    const last = (await checked(server, alice, 'GET', path)).body;
    assert.equal(last.displayname, `a${n - 1}`);
    const lastId = await stateId(roomId, 'm.room.member', alice.userId);
    const started = performance.now();
    const chain = await authChain(reader, db, [lastId]);
    const ms = performance.now() - started;
    const members = chain.filter((e) => e.pdu.type === 'm.room.member');
    assert.equal(members.length, n, 'every earlier member event of alice (the first join included)');
    console.log(`# auth chain of ${chain.length} events in ${ms.toFixed(1)} ms`);
  });
});
