// Issue 14, fault 3: history in the middle of a room's timeline. A user of server B leaves a room
// of server A, messages are sent while B has no member, and the user rejoins: B holds the events
// before the leave and after the rejoin, with a gap between them. /messages on B must find the gap
// (a backward extremity inside the timeline, not only before the oldest event), fill it from A,
// and return the events in the room's order; /event/{id} answers for them (history_visibility
// shared). Two real Hearth servers on loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertNoValidationFailures } from '../../helpers/openapi.ts';
import { eventually } from '../../helpers/federation.ts';

const enc = encodeURIComponent;

/** Every m.room.message body of the room as B's user pages back from `from`, `limit` at a time, oldest first. */
async function pageBack(server: TestServer, user: TestUser, roomId: string, from: string | undefined, limit: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let page = 0; page < 50; page++) {
    const r = await call(server, user, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=${limit}${from ? `&from=${enc(from)}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const e of r.body.chunk) if (e.type === 'm.room.message') bodies.push(e.content.body);
    if (!r.body.end) break;
    from = r.body.end;
  }
  return bodies.reverse();
}

describe('a gap in the middle of history (issue 14, fault 3)', () => {
  let a: TestServer, b: TestServer;
  let alice: TestUser, bob: TestUser;

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

  async function send(roomId: string, body: string): Promise<string> {
    const r = await call(a, alice, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/${enc(body)}`, { msgtype: 'm.text', body });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.event_id;
  }

  /** A room of A that bob of B joined, left, and rejoined, with `away` messages sent while B had no member. */
  async function roomWithGap(alias: string, away: number): Promise<{ roomId: string; expected: string[]; awayIds: string[] }> {
    const created = await call(a, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: alias, history_visibility: 'shared' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const roomId: string = created.body.room_id;
    assert.equal((await call(b, bob, 'POST', `/join/${enc(`#${alias}:${a.serverName}`)}`, {})).status, 200);
    const expected: string[] = [];
    for (let i = 0; i < 3; i++) expected.push(`${alias} before ${i}`);
    for (const m of expected) await send(roomId, m);
    await eventually('the messages before the leave on B', async () => ((await pageBack(b, bob, roomId, undefined, 100)).length === 3 ? true : undefined));
    assert.equal((await call(b, bob, 'POST', `/rooms/${enc(roomId)}/leave`, {})).status, 200);
    await eventually("bob's leave on A", async () => {
      const m = await call(a, alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`);
      return m.body.membership === 'leave' ? true : undefined;
    });
    const awayIds: string[] = [];
    for (let i = 0; i < away; i++) {
      expected.push(`${alias} away ${i}`);
      awayIds.push(await send(roomId, `${alias} away ${i}`));
    }
    assert.equal((await call(b, bob, 'POST', `/join/${enc(`#${alias}:${a.serverName}`)}`, {})).status, 200);
    expected.push(`${alias} after 0`);
    await send(roomId, `${alias} after 0`);
    await eventually('the message after the rejoin on B', async () => {
      const r = await call(b, bob, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=1`);
      return r.body.chunk?.[0]?.content?.body === `${alias} after 0` ? true : undefined;
    });
    return { roomId, expected, awayIds };
  }

  test('after a leave and a rejoin, /messages on B returns the messages sent while B had no member, in the room order', async () => {
    const { roomId, expected, awayIds } = await roomWithGap('gap', 5);
    assert.deepEqual(await pageBack(b, bob, roomId, undefined, 4), expected);
    const ev = await call(b, bob, 'GET', `/rooms/${enc(roomId)}/event/${enc(awayIds[2]!)}`);
    assert.equal(ev.status, 200, JSON.stringify(ev.body));
    assert.equal(ev.body.content.body, 'gap away 2');
  });

  test('paging forwards from the start of the room fills the gap too, in the room order', async () => {
    const { roomId, expected } = await roomWithGap('forward', 5);
    const bodies: string[] = [];
    let from: string | undefined;
    for (let page = 0; page < 20; page++) {
      const r = await call(b, bob, 'GET', `/rooms/${enc(roomId)}/messages?dir=f&limit=3${from ? `&from=${enc(from)}` : ''}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      for (const e of r.body.chunk) if (e.type === 'm.room.message') bodies.push(e.content.body);
      if (!r.body.end) break;
      from = r.body.end;
    }
    assert.deepEqual(bodies, expected);
  });

  test('/context of a message filled into the gap shows its neighbours in the room order', async () => {
    const { roomId, awayIds } = await roomWithGap('ctx', 5);
    await pageBack(b, bob, roomId, undefined, 10);
    const r = await call(b, bob, 'GET', `/rooms/${enc(roomId)}/context/${enc(awayIds[2]!)}?limit=4`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const bodies = (list: any[]) => list.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
    assert.deepEqual(bodies(r.body.events_before), ['ctx away 1', 'ctx away 0']);
    assert.deepEqual(bodies(r.body.events_after), ['ctx away 3', 'ctx away 4']);
    // Its tokens page on from there.
    const older = await call(b, bob, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=5&from=${enc(r.body.start)}`);
    assert.equal(older.body.chunk[0].type, 'm.room.member', "bob's leave, just before the first message sent while B was away");
    assert.deepEqual(bodies(older.body.chunk).slice(0, 1), ['ctx before 2']);
  });

  test("paging back from /sync's prev_batch fills a gap longer than one backfill request, in order", async () => {
    const { roomId, expected } = await roomWithGap('longgap', 130);
    const s = await call(b, bob, 'GET', `/sync?timeout=0&filter=${enc(JSON.stringify({ room: { timeline: { limit: 1 } } }))}`);
    const timeline = s.body.rooms.join[roomId].timeline;
    const newest = timeline.events.filter((e: any) => e.type === 'm.room.message').map((e: any) => e.content.body);
    const older = await pageBack(b, bob, roomId, timeline.prev_batch, 20);
    assert.deepEqual([...older, ...newest], expected);
  });

  test('every federation response the servers received matched the server-server OpenAPI', () => {
    assertNoValidationFailures();
  });
});
