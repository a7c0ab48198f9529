// Concurrent conflicting state across three servers (issue #6, "It must show" 3): on B, bob bans
// carol (of C) while, at the same moment on A, alice takes bob's power away. Each server first sees its own
// event, then the other's; state resolution v2 (and the soft-fail check against the resolved state)
// must bring all three to the same state, whichever event wins. Run for room versions 10 (v2) and
// 12 (v2.1), where the rules differ.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { assertNoValidationFailures, validationCounts } from '../../helpers/openapi.ts';
import { eventually } from '../../helpers/federation.ts';

const enc = encodeURIComponent;

describe('concurrent conflicting state on three servers', () => {
  let a: TestServer, b: TestServer, c: TestServer;
  let alice: TestUser, bob: TestUser, carol: TestUser, cora: TestUser;

  before(async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const names = ports.map((p) => `127.0.0.1:${p}`);
    [a, b, c] = await Promise.all(ports.map((p, i) => startFederatedTestServer(p, { trustSelfSigned: names.filter((_, j) => j !== i) })));
    alice = await registerUser(a, 'alice');
    bob = await registerUser(b, 'bob');
    carol = await registerUser(c, 'carol');
    // An observer on C who stays in the room whatever happens to carol.
    cora = await registerUser(c, 'cora');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  /** The room's state on a server, as the set of (type, state_key) -> event id. */
  async function stateOn(server: TestServer, user: TestUser, roomId: string): Promise<Record<string, string>> {
    const r = await call(server, user, 'GET', `/rooms/${enc(roomId)}/state`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const out: Record<string, string> = {};
    for (const e of r.body) out[`${e.type}|${e.state_key}`] = e.event_id;
    return out;
  }

  for (const version of ['10', '12']) {
    test(`room v${version}: a ban on B and a power change on A at once end in one state on all three`, async () => {
      const created = await call(a, alice, 'POST', '/createRoom', {
        room_version: version,
        preset: 'public_chat',
        room_alias_name: `duel${version}`,
        // v12: the creator's power is infinite and never listed in `users` (rooms/v12.md).
        power_level_content_override: { users: { ...(version === '12' ? {} : { [alice.userId]: 100 }), [bob.userId]: 90, [carol.userId]: 50 } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const roomId = created.body.room_id;
      for (const [server, user] of [
        [b, bob],
        [c, carol],
        [c, cora],
      ] as const) {
        const j = await call(server, user, 'POST', `/join/${enc(`#duel${version}:${a.serverName}`)}`, {});
        assert.equal(j.status, 200, JSON.stringify(j.body));
      }
      const everyone = [alice, bob, carol, cora].map((u) => u.userId).sort();
      for (const [server, user] of [
        [a, alice],
        [b, bob],
        [c, cora],
      ] as const) {
        await eventually(`all members on ${server.serverName}`, async () => {
          const m = await call(server, user, 'GET', `/rooms/${enc(roomId)}/joined_members`);
          return JSON.stringify(Object.keys(m.body.joined ?? {}).sort()) === JSON.stringify(everyone) ? true : undefined;
        });
      }
      const pl = (await call(a, alice, 'GET', `/rooms/${enc(roomId)}/state/m.room.power_levels/`)).body;

      // At once: bob bans carol on B, alice demotes bob on A.
      const [ban, demote] = await Promise.all([
        call(b, bob, 'POST', `/rooms/${enc(roomId)}/ban`, { user_id: carol.userId, reason: 'duel' }),
        call(a, alice, 'PUT', `/rooms/${enc(roomId)}/state/m.room.power_levels/`, { ...pl, users: { ...pl.users, [bob.userId]: 0 } }),
      ]);
      assert.equal(ban.status, 200, JSON.stringify(ban.body));
      assert.equal(demote.status, 200, JSON.stringify(demote.body));

      // Later traffic from every server, so each branch reaches everyone through events that are
      // not soft-failed (the spec's soft-fail rule keeps a server from building on the other branch).
      await new Promise((r) => setTimeout(r, 500));
      for (const [server, user, txn] of [
        [a, alice, 'a'],
        [b, bob, 'b'],
        [c, cora, 'c'],
      ] as const) {
        await call(server, user, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/after-${txn}${version}`, { msgtype: 'm.text', body: `after ${txn}` });
      }

      const final = await eventually('the same state on all three servers', async () => {
        const [sa, sb, sc] = await Promise.all([stateOn(a, alice, roomId), stateOn(b, bob, roomId), stateOn(c, cora, roomId)]);
        return JSON.stringify(sa) === JSON.stringify(sb) && JSON.stringify(sb) === JSON.stringify(sc) ? sa : undefined;
      });
      // The two events really were concurrent: neither was built on the other.
      const timeline = (await call(a, alice, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=50`)).body.chunk;
      const banId =
        timeline.find((e: any) => e.type === 'm.room.member' && e.state_key === carol.userId && e.content.membership === 'ban')?.event_id ??
        (await call(b, bob, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=50`)).body.chunk.find(
          (e: any) => e.type === 'm.room.member' && e.state_key === carol.userId && e.content.membership === 'ban',
        )?.event_id;
      assert.ok(banId, 'the ban is known');
      const pdu = async (id: string) => (await a.hs.federation!.client.request<any>(b.serverName, 'GET', `/_matrix/federation/v1/event/${enc(id)}`)).pdus[0];
      assert.ok(!(await pdu(banId)).prev_events.includes(demote.body.event_id), 'the ban was not built on the demotion');
      assert.ok(!(await pdu(demote.body.event_id)).prev_events.includes(banId), 'the demotion was not built on the ban');

      // Exactly one side won: the ban stands and the power levels are the old ones, or the reverse.
      const banWon = (await stateMembership(a, alice, roomId, carol.userId)) === 'ban';
      const demoteWon = final['m.room.power_levels|'] === demote.body.event_id;
      assert.notEqual(banWon, demoteWon, `exactly one of the conflicting events wins (ban ${banWon}, demotion ${demoteWon})`);
    });
  }

  async function stateMembership(server: TestServer, user: TestUser, roomId: string, target: string): Promise<string | undefined> {
    const r = await call(server, user, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(target)}`);
    return r.status === 200 ? r.body.membership : undefined;
  }

  test('every federation response the servers received matched the server-server OpenAPI', () => {
    assert.ok(validationCounts().validated > 0, 'federation responses were validated');
    assertNoValidationFailures();
  });
});
