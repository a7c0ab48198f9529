// A room's server ACL covers the EDUs about that room (server-server-api.md "Server Access Control
// Lists (ACLs)", since v1.13 / MSC4163): a typing EDU from a denied server is ignored, and so are
// all its receipts for that room, while the same server's EDUs about a room whose ACL allows it
// still reach local clients. Two real servers: alice of A created two rooms that bob of B joined;
// then "closed" got an ACL denying A's host and "open" one allowing it. A sends EDUs for both rooms
// in one transaction, the denied room's first, so once the allowed room's EDU shows in bob's /sync
// the denied one has been processed too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';
import { assertNoValidationFailures, serverServerValidator, validationCounts } from '../../helpers/openapi.ts';
import { eventually } from '../../helpers/federation.ts';

const validator = serverServerValidator();

/** The ephemeral events of one type for one room in a /sync answer. */
const ephemeral = (body: any, roomId: string, type: string): any[] => (body.rooms?.join?.[roomId]?.ephemeral?.events ?? []).filter((e: any) => e.type === type);

describe("the room's server ACL applied to inbound typing and receipt EDUs", () => {
  let a: TestServer, b: TestServer;
  let A: string, B: string;
  let alice: TestUser, bob: TestUser;
  let closed: string, open: string;
  let txn = 0;

  /** PUT /send from A to B carrying `edus`, signed by A's own federation client; the answer is validated. */
  async function sendEdusToB(edus: unknown[]): Promise<void> {
    const path = `/_matrix/federation/v1/send/edu-acl-${Date.now()}-${txn++}`;
    const r = await a.hs.federation!.client.request(B, 'PUT', path, { origin: A, origin_server_ts: Date.now(), pdus: [], edus });
    validator.validateResponse('PUT', path, 200, r);
  }

  /** Syncs bob on B until `pick` finds something, keeping every answer seen since `start`. */
  function bobSync() {
    let since: string | undefined;
    const seen: any[] = [];
    const get = async (timeout: number) => {
      const r = await checked(b, bob, 'GET', `/sync?timeout=${timeout}${since ? `&since=${encodeURIComponent(since)}` : ''}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      since = r.body.next_batch;
      return r.body;
    };
    return {
      seen,
      async start(): Promise<void> {
        await get(0);
      },
      async until<T>(what: string, pick: (body: any) => T | undefined): Promise<T> {
        return eventually(what, async () => {
          const body = await get(500);
          seen.push(body);
          return pick(body);
        });
      },
    };
  }

  async function setAcl(roomId: string, content: Record<string, unknown>): Promise<void> {
    const r = await call(a, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/state/m.room.server_acl/`, content);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await eventually(`the ACL of ${roomId} on B`, async () => {
      const got = await call(b, bob, 'GET', `/rooms/${encodeURIComponent(roomId)}/state/m.room.server_acl/`);
      return got.status === 200 && JSON.stringify(got.body.deny) === JSON.stringify(content.deny) ? true : undefined;
    });
  }

  before(async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    A = `127.0.0.1:${pa}`;
    B = `127.0.0.1:${pb}`;
    a = await startFederatedTestServer(pa, { trustSelfSigned: [B] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [A] });
    alice = await registerUser(a, 'alice');
    bob = await registerUser(b, 'bob');
    const rooms: string[] = [];
    for (const alias of ['closed', 'open']) {
      const created = await call(a, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: alias });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      rooms.push(created.body.room_id);
      const joined = await call(b, bob, 'POST', `/join/${encodeURIComponent(`#${alias}:${A}`)}`, {});
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
    }
    [closed, open] = rooms as [string, string];
    // ACL globs see the name without its port: '127.0.0.1' denies A (and B, which does not matter
    // here: B never checks its own events, and only B's view of the ACL is under test).
    await setAcl(closed, { allow: ['*'], deny: ['127.0.0.1'], allow_ip_literals: true });
    await setAcl(open, { allow: ['*'], deny: ['evil.example'], allow_ip_literals: true });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test("typing from a server the room's ACL denies never reaches /sync; its typing in a room whose ACL allows it does", async () => {
    const s = bobSync();
    await s.start();
    await sendEdusToB([
      { edu_type: 'm.typing', content: { room_id: closed, user_id: alice.userId, typing: true } },
      { edu_type: 'm.typing', content: { room_id: open, user_id: alice.userId, typing: true } },
    ]);
    await s.until('alice typing in the open room on B', (body) =>
      ephemeral(body, open, 'm.typing').some((e) => e.content.user_ids.includes(alice.userId)) ? true : undefined,
    );
    const leaked = s.seen.flatMap((body) => ephemeral(body, closed, 'm.typing')).filter((e) => e.content.user_ids.includes(alice.userId));
    assert.deepEqual(leaked, [], 'the denied room shows no typing from A');
    const now = await checked(b, bob, 'GET', '/sync?timeout=0');
    assert.deepEqual(
      ephemeral(now.body, closed, 'm.typing').flatMap((e) => e.content.user_ids),
      [],
      'a full /sync shows nobody typing in the denied room',
    );
    await sendEdusToB([{ edu_type: 'm.typing', content: { room_id: open, user_id: alice.userId, typing: false } }]);
  });

  test("all of a denied server's receipts for the room are ignored; its receipts for another room of the same EDU apply", async () => {
    const probe = async (roomId: string, txnId: string) => {
      const r = await checked(b, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`, { msgtype: 'm.text', body: 'probe' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.event_id as string;
    };
    const [closedEvent, openEvent] = [await probe(closed, 'probe-closed'), await probe(open, 'probe-open')];
    const s = bobSync();
    await s.start();
    const receipt = (eventId: string, ts: number) => ({ 'm.read': { [alice.userId]: { event_ids: [eventId], data: { ts } } } });
    // One EDU, the denied room first: the spec drops that room's part, not the whole EDU.
    await sendEdusToB([{ edu_type: 'm.receipt', content: { [closed]: receipt(closedEvent, 1), [open]: receipt(openEvent, 2) } }]);
    const got = await s.until('alice receipt in the open room on B', (body) =>
      ephemeral(body, open, 'm.receipt')
        .map((e) => e.content[openEvent]?.['m.read']?.[alice.userId])
        .find(Boolean),
    );
    assert.equal(got.ts, 2);
    const leaked = s.seen.flatMap((body) => ephemeral(body, closed, 'm.receipt'));
    assert.deepEqual(leaked, [], 'the denied room shows no receipt from A');
    const now = await checked(b, bob, 'GET', '/sync?timeout=0');
    const closedReceipts = ephemeral(now.body, closed, 'm.receipt').flatMap((e) => Object.values(e.content).map((c: any) => c['m.read'] ?? {}));
    assert.ok(
      closedReceipts.every((r) => r[alice.userId] === undefined),
      `a full /sync shows no receipt of alice in the denied room: ${JSON.stringify(closedReceipts)}`,
    );
  });

  test('every federation response the servers received matched the server-server OpenAPI', () => {
    assert.ok(validationCounts().validated > 0, 'federation responses were validated');
    assertNoValidationFailures();
  });
});
