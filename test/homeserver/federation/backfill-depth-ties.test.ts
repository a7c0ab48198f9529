// Issue 14, fault 2: backfill from a server that gives two events the same depth. An older Synapse
// gives a new room's first m.room.power_levels the depth of the creator's join; Hearth placed
// backfilled events by depth, then event id, so the power levels could come before the join they
// build on, and every later event was left out: the joiner saw none of the room's history. Depth
// is only a hint (server-server-api.md "Backfilling and retrieving missing events"): events are
// placed by their prev_events. The peer is crafted (test/helpers/crafted-peer.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertNoValidationFailures } from '../../helpers/openapi.ts';
import { startCraftedPeer, type CraftedEvent, type CraftedPeer } from '../../helpers/crafted-peer.ts';
import { topologicalOrder } from '../../../homeserver/rooms/backfilled-events.ts';

const enc = encodeURIComponent;

/**
 * A room as an older Synapse makes it: create (depth 1), the creator's join (depth 2), power
 * levels also at depth 2 (the tie), join rules, history visibility, then `messages` messages. The
 * power levels' timestamp is chosen so that its event id sorts before the join's: the order by
 * depth then id that Hearth used put it first, whatever the random keys.
 */
function craftRoom(peer: CraftedPeer, messages: number, forgedAt?: number): { creator: string; bodies: string[] } {
  const creator = `@creator:${peer.serverName}`;
  const create = peer.add({
    type: 'm.room.create',
    state_key: '',
    sender: creator,
    content: { creator, room_version: peer.version },
    depth: 1,
    prev_events: [],
    auth_events: [],
  });
  const join = peer.add({
    type: 'm.room.member',
    state_key: creator,
    sender: creator,
    content: { membership: 'join' },
    depth: 2,
    prev_events: [create.eventId],
    auth_events: [create.eventId],
  });
  let pl: CraftedEvent | undefined;
  for (let ts = Date.now(); !pl || pl.eventId > join.eventId; ts++) {
    if (pl) peer.events.pop();
    pl = peer.add({
      type: 'm.room.power_levels',
      state_key: '',
      sender: creator,
      content: { users: { [creator]: 100 }, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 },
      depth: 2,
      prev_events: [join.eventId],
      auth_events: [create.eventId, join.eventId],
      origin_server_ts: ts,
    });
  }
  const auth = [create.eventId, join.eventId, pl.eventId];
  const jr = peer.add({
    type: 'm.room.join_rules',
    state_key: '',
    sender: creator,
    content: { join_rule: 'public' },
    depth: 3,
    prev_events: [pl.eventId],
    auth_events: auth,
  });
  let prev = peer.add({
    type: 'm.room.history_visibility',
    state_key: '',
    sender: creator,
    content: { history_visibility: 'shared' },
    depth: 4,
    prev_events: [jr.eventId],
    auth_events: auth,
  });
  const bodies: string[] = [];
  for (let i = 0; i < messages; i++) {
    if (i === forgedAt) {
      // Sent by someone who never joined: the auth rules refuse it, and the next message cites it.
      prev = peer.add({
        type: 'm.room.message',
        sender: `@mallory:${peer.serverName}`,
        content: { msgtype: 'm.text', body: 'forged' },
        depth: prev.pdu.depth + 1,
        prev_events: [prev.eventId],
        auth_events: auth,
      });
    }
    bodies.push(`earlier ${i}`);
    prev = peer.add({
      type: 'm.room.message',
      sender: creator,
      content: { msgtype: 'm.text', body: `earlier ${i}` },
      depth: prev.pdu.depth + 1,
      prev_events: [prev.eventId],
      auth_events: auth,
    });
  }
  return { creator, bodies };
}

describe('backfill from a server whose events tie in depth (issue 14, fault 2)', () => {
  let peer: CraftedPeer;
  let b: TestServer;
  let bob: TestUser;

  before(async () => {
    const [pp, pb] = [await freePort(), await freePort()];
    peer = await startCraftedPeer(pp);
    b = await startFederatedTestServer(pb, { trustSelfSigned: [peer.serverName] });
    bob = await registerUser(b, 'bob');
  });
  after(async () => {
    await Promise.all([b?.stop(), peer?.stop()]);
  });

  test('the DAG order puts an event after the ones it cites, whatever their depths say', () => {
    const ev = (id: string, depth: number, prev: string[], auth: string[] = []) => ({
      eventId: id,
      pdu: { depth, prev_events: prev, auth_events: auth } as never,
    });
    // $b (depth 2) cites $a (depth 2): the tie, with ids that sort the wrong way round.
    const { ordered, cyclic } = topologicalOrder([ev('$c', 3, ['$b']), ev('$b', 2, ['$a'], ['$a']), ev('$a', 2, ['$0']), ev('$z', 1, [])]);
    assert.deepEqual(
      ordered.map((e) => e.eventId),
      ['$z', '$a', '$b', '$c'],
    );
    assert.deepEqual(cyclic, []);
    const loop = topologicalOrder([ev('$x', 1, ['$y']), ev('$y', 1, ['$x'])]);
    assert.deepEqual(loop.ordered, []);
    assert.equal(loop.cyclic.length, 2, 'events on a cycle are set apart, not placed');
  });

  test("the joiner's /messages shows all 50 earlier messages of a room whose power levels tie in depth with the creator's join", async () => {
    const { bodies } = craftRoom(peer, 50);
    const joined = await call(b, bob, 'POST', `/join/${enc(peer.roomId)}?server_name=${enc(peer.serverName)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    const r = await call(b, bob, 'GET', `/rooms/${enc(peer.roomId)}/messages?dir=b&limit=100`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const chunk = [...r.body.chunk].reverse();
    assert.deepEqual(
      chunk.filter((e: any) => e.type === 'm.room.message').map((e: any) => e.content.body),
      bodies,
    );
    assert.deepEqual(
      chunk.slice(0, 5).map((e: any) => e.type),
      ['m.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.join_rules', 'm.room.history_visibility'],
      'the room starts with its creation, in the DAG order',
    );
  });

  test('every federation response from the crafted peer matched the server-server OpenAPI', () => {
    assertNoValidationFailures();
  });
});

describe('backfill past an event the auth rules refuse', () => {
  let peer: CraftedPeer;
  let b: TestServer;
  let bob: TestUser;

  before(async () => {
    const [pp, pb] = [await freePort(), await freePort()];
    peer = await startCraftedPeer(pp);
    b = await startFederatedTestServer(pb, { trustSelfSigned: [peer.serverName] });
    bob = await registerUser(b, 'bob');
  });
  after(async () => {
    await Promise.all([b?.stop(), peer?.stop()]);
  });

  test('a message from a non-member is left out, and the 40 messages around it are all shown (the state after it fetched from the peer)', async () => {
    const { bodies } = craftRoom(peer, 40, 20);
    const joined = await call(b, bob, 'POST', `/join/${enc(peer.roomId)}?server_name=${enc(peer.serverName)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    const r = await call(b, bob, 'GET', `/rooms/${enc(peer.roomId)}/messages?dir=b&limit=100`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      [...r.body.chunk]
        .reverse()
        .filter((e: any) => e.type === 'm.room.message')
        .map((e: any) => e.content.body),
      bodies,
    );
  });
});
