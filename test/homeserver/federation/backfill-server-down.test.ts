// Backfill asks the room's servers in turn: one that is down (a member's server stopped) must not
// keep the joiner from the history another server holds. Nor may a gap nobody can fill: the join
// of the stopped server's user, signed by a server whose key the joiner cannot get, is right below
// the joiner's own join, and asking /backfill from both gaps at once answered only events near the
// top (known ones, and that join), so paging stopped after the first 100 messages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { eventually } from '../../helpers/federation.ts';

const enc = encodeURIComponent;

describe('backfill while one of the room servers is down', () => {
  let a: TestServer, down: TestServer, c: TestServer;
  let alice: TestUser, carol: TestUser;

  before(async () => {
    const [pa, pd, pc] = [await freePort(), await freePort(), await freePort()];
    const names = [pa, pd, pc].map((p) => `127.0.0.1:${p}`);
    a = await startFederatedTestServer(pa, { trustSelfSigned: names });
    down = await startFederatedTestServer(pd, { trustSelfSigned: names });
    c = await startFederatedTestServer(pc, { trustSelfSigned: names });
    alice = await registerUser(a, 'alice');
    carol = await registerUser(c, 'carol');
  });
  after(async () => {
    await Promise.all([a?.stop(), down?.stop(), c?.stop()]);
  });

  test('a joiner pages back through 150 messages from A while the server of the member who joined last is stopped', async () => {
    const created = await call(a, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'downroom', history_visibility: 'shared' });
    const roomId: string = created.body.room_id;
    const sent: string[] = [];
    for (let i = 0; i < 150; i++) {
      sent.push(`m ${i}`);
      await call(a, alice, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/m${i}`, { msgtype: 'm.text', body: `m ${i}` });
    }
    const dave = await registerUser(down, 'dave');
    assert.equal((await call(down, dave, 'POST', `/join/${enc(`#downroom:${a.serverName}`)}`, {})).status, 200);
    await eventually("dave's join on A", async () =>
      (await call(a, alice, 'GET', `/rooms/${enc(roomId)}/joined_members`)).body.joined?.[dave.userId] ? true : undefined,
    );
    await down.stop();
    assert.equal((await call(c, carol, 'POST', `/join/${enc(`#downroom:${a.serverName}`)}`, {})).status, 200);
    const seen: string[] = [];
    let from: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await call(c, carol, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=100${from ? `&from=${enc(from)}` : ''}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      for (const e of r.body.chunk) if (e.type === 'm.room.message') seen.push(e.content.body);
      if (!r.body.end) break;
      from = r.body.end;
    }
    assert.deepEqual(seen.reverse(), sent);
  });
});
