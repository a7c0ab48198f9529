// GET /backfill and POST /get_missing_events (backfill.yaml), asked by a second real server over
// signed HTTPS: which events of the DAG they walk to, in what order, and which they leave out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, createRoom, enc, fed, idOfPdu, remoteJoin, send, setState, startPair, type Pair } from './room-data-helpers.ts';

const WORLD_READABLE = [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'world_readable' } }];

describe('federation: backfill and get_missing_events', () => {
  let p: Pair;
  let roomId: string;
  /** m[0..11]: twelve messages in a world_readable room, one after the other. */
  const m: string[] = [];

  before(async () => {
    p = await startPair();
    roomId = await createRoom(p, { preset: 'public_chat', initial_state: WORLD_READABLE });
    for (let i = 0; i < 12; i++) m.push(await send(p, roomId, `m${i}`));
  });
  after(() => p?.stop());

  const ids = (pdus: any[], room = roomId) => Promise.all(pdus.map((e) => idOfPdu(p, room, e)));
  const backfill = (room: string, v: string[], limit: number | string) =>
    fed(p, 'GET', `/_matrix/federation/v1/backfill/${enc(room)}?${v.map((id) => `v=${enc(id)}`).join('&')}&limit=${limit}`);
  const missing = (room: string, body: Record<string, unknown>) => fed(p, 'POST', `/_matrix/federation/v1/get_missing_events/${enc(room)}`, body);

  test('backfill answers the given event and the ones before it, newest first, up to limit', async () => {
    const r = await backfill(roomId, [m[11]!], 5);
    assert.equal(r.status, 200);
    assert.equal(r.body.origin, p.aName);
    assert.deepEqual(await ids(r.body.pdus), [m[11], m[10], m[9], m[8], m[7]]);
    for (const e of r.body.pdus) assert.equal(e.event_id, undefined);
  });

  test('backfill from two events walks both and answers each event once', async () => {
    const r = await backfill(roomId, [m[11]!, m[9]!], 4);
    assert.deepEqual(await ids(r.body.pdus), [m[11], m[10], m[9], m[8]]);
  });

  test('backfill walks to the start of the room but, for a server not in it, answers nothing from before it became world_readable', async () => {
    const r = await backfill(roomId, [m[0]!], 50);
    const types = r.body.pdus.map((e: any) => e.type);
    // The room's first events had no history_visibility yet ("shared"): B, with no member, may not see them.
    assert.equal(types.at(-1), 'm.room.history_visibility');
    assert.ok(!types.includes('m.room.create'));
    assert.equal(new Set(await ids(r.body.pdus)).size, r.body.pdus.length);
  });

  test('backfill caps limit at 100; limit 0 answers nothing', async () => {
    const big = await createRoom(p, { preset: 'public_chat', initial_state: WORLD_READABLE });
    let last = '';
    for (let i = 0; i < 110; i++) last = await send(p, big, `n${i}`);
    assert.equal((await backfill(big, [last], 1000)).body.pdus.length, 100);
    assert.deepEqual((await backfill(big, [last], 0)).body.pdus, []);
  });

  test('backfill without v or limit is 400; from unknown events 404; of an unknown room 404', async () => {
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/backfill/${enc(roomId)}?limit=3`), 400, 'M_MISSING_PARAM');
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/backfill/${enc(roomId)}?v=${enc(m[3]!)}`), 400, 'M_MISSING_PARAM');
    assertError(await backfill(roomId, [m[3]!], 'x'), 400, 'M_INVALID_PARAM');
    // Unknown events cannot show the room world_readable: to a server not in the room, that is 403.
    assertError(await backfill(roomId, ['$unknown'], 3), 403, 'M_FORBIDDEN');
    assertError(await backfill('!unknown:nowhere', [m[3]!], 3), 404, 'M_NOT_FOUND');
  });

  test('get_missing_events walks back from latest_events to earliest_events, both excluded, oldest first', async () => {
    const r = await missing(roomId, { earliest_events: [m[3]], latest_events: [m[10]], limit: 10 });
    assert.equal(r.status, 200);
    assert.deepEqual(await ids(r.body.events), [m[4], m[5], m[6], m[7], m[8], m[9]]);
  });

  test('get_missing_events stops at limit (the events nearest latest_events) and leaves out what is below min_depth', async () => {
    const limited = await missing(roomId, { earliest_events: [m[0]], latest_events: [m[10]], limit: 2 });
    assert.deepEqual(await ids(limited.body.events), [m[8], m[9]]);
    const m6 = (await fed(p, 'GET', `/_matrix/federation/v1/event/${enc(m[6]!)}`)).body.pdus[0];
    const deep = await missing(roomId, { earliest_events: [], latest_events: [m[10]], limit: 50, min_depth: m6.depth });
    assert.deepEqual(await ids(deep.body.events), [m[6], m[7], m[8], m[9]]);
  });

  test('get_missing_events defaults limit to 10 and refuses a body without latest_events', async () => {
    const r = await missing(roomId, { earliest_events: [], latest_events: [m[11]] });
    assert.equal(r.body.events.length, 10);
    assertError(await missing(roomId, { earliest_events: [] }), 400, 'M_MISSING_PARAM');
    assertError(await missing(roomId, { earliest_events: 'x', latest_events: [] }), 400, 'M_BAD_JSON');
  });

  test('in a room B is not in, backfill and get_missing_events are 403 M_FORBIDDEN', async () => {
    const closed = await createRoom(p, { preset: 'private_chat' });
    const a = await send(p, closed, 'a');
    const b = await send(p, closed, 'b');
    assertError(await backfill(closed, [b], 5), 403, 'M_FORBIDDEN');
    assertError(await missing(closed, { earliest_events: [a], latest_events: [b] }), 403, 'M_FORBIDDEN');
  });

  test('when a room stops being world_readable, B gets what it could see: the change itself and what came before', async () => {
    const room = await createRoom(p, { preset: 'public_chat', initial_state: WORLD_READABLE });
    const early = await send(p, room, 'public');
    const change = await setState(p, room, 'm.room.history_visibility', { history_visibility: 'joined' });
    const late = await send(p, room, 'members only');
    // From an event B may not see, B (not in the room) gets nothing.
    assertError(await backfill(room, [late], 5), 403, 'M_FORBIDDEN');
    // The change is visible (world_readable before it), and so is everything before it.
    const r = await backfill(room, [change], 3);
    assert.deepEqual((await ids(r.body.pdus, room)).slice(0, 2), [change, early]);
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/event/${enc(late)}`), 403, 'M_FORBIDDEN');
  });

  test('a member server gets, of a joined-only room, only the events from its join on', async () => {
    const room = await createRoom(p, {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
    });
    const old = await send(p, room, 'before');
    const join = await remoteJoin(p, room, 'carol');
    const n1 = await send(p, room, 'after 1');
    const n2 = await send(p, room, 'after 2');
    const r = await backfill(room, [n2], 20);
    const got0 = await ids(r.body.pdus, room);
    assert.deepEqual(got0.slice(0, 3), [n2, n1, join]);
    assert.ok(!got0.includes(old), 'sent while the room was joined-only and B was not in it');
    // The room's creation came before history_visibility was set (so "shared"): B may see it.
    assert.deepEqual(
      r.body.pdus.slice(3).filter((e: any) => e.state_key === undefined),
      [],
    );
    assert.equal(r.body.pdus.at(-1).type, 'm.room.create');
    // A member asking from events nobody knows gets 404.
    assertError(await backfill(room, ['$unknown'], 3), 404, 'M_NOT_FOUND');
    const gme = await missing(room, { earliest_events: [], latest_events: [n2], limit: 20 });
    const got = await ids(gme.body.events, room);
    assert.deepEqual(got.slice(-2), [join, n1]);
    assert.ok(!got.includes(old));
    const since = await missing(room, { earliest_events: [old], latest_events: [n2], limit: 20 });
    assert.deepEqual(await ids(since.body.events, room), [join, n1]);
  });

  test('a member server gets, of a shared room, the history from before its join as well', async () => {
    const room = await createRoom(p, { preset: 'public_chat' });
    const old = await send(p, room, 'before');
    const join = await remoteJoin(p, room, 'dave');
    const n1 = await send(p, room, 'after');
    const got = await ids((await backfill(room, [n1], 4)).body.pdus, room);
    assert.deepEqual(got.slice(0, 3), [n1, join, old]);
  });
});
