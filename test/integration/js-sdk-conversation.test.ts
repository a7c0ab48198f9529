// matrix-js-sdk, a client nobody here wrote, holds a whole conversation with a started Hearth:
// register, sync, invite, join, 100 alternating messages through /sync, back-pagination to the
// room's creation, a rename, display names and a leave. Every response the SDK receives is
// validated against the spec's OpenAPI (test/helpers/openapi.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, Preset, Direction, RoomEvent, type MatrixClient, type MatrixEvent, type Room } from 'matrix-js-sdk';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures, validationCounts } from '../helpers/openapi.ts';
import { fetchFn, PASSWORD, quietLogger, registerWithSdk, startSyncing, waitFor } from '../helpers/sdk.ts';

const MESSAGES = 100;

function bodies(events: MatrixEvent[]): string[] {
  return events.filter((e) => e.getType() === 'm.room.message').map((e) => e.getContent().body as string);
}

const expectedBodies = Array.from({ length: MESSAGES }, (_, i) => `message ${i}`);

describe('matrix-js-sdk holds a conversation with Hearth', () => {
  let server: TestServer;
  let alice: MatrixClient;
  let bob: MatrixClient;
  let bobPhone: MatrixClient | undefined;
  let roomId: string;
  /** Messages each client received from the other, in the order its Room.timeline saw them live. */
  const liveFromOther = new Map<string, string[]>();

  before(async () => {
    clearValidationFailures();
    server = await startTestServer();
    const a = await registerWithSdk(server, 'alice');
    const b = await registerWithSdk(server, 'bob');
    alice = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, ...a });
    bob = createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, ...b });
    for (const client of [alice, bob]) {
      const me = client.getUserId()!;
      liveFromOther.set(me, []);
      client.on(RoomEvent.Timeline, (event, room, toStartOfTimeline, _removed, data) => {
        if (room?.roomId !== roomId || toStartOfTimeline || !data.liveEvent) return;
        if (event.getType() === 'm.room.message' && event.getSender() !== me) liveFromOther.get(me)!.push(event.getContent().body as string);
      });
    }
    await startSyncing(alice);
    await startSyncing(bob);
  });

  after(async () => {
    for (const c of [alice, bob, bobPhone]) c?.stopClient();
    await server?.stop();
  });

  test('an invite sent by alice reaches bob through /sync, and bob joins', async () => {
    ({ room_id: roomId } = await alice.createRoom({ name: 'Hearth kitchen', preset: Preset.PrivateChat }));
    await alice.invite(roomId, bob.getUserId()!);
    const invited = await waitFor('bob to see the invite', () => {
      const room = bob.getRoom(roomId);
      return room?.getMyMembership() === 'invite' ? room : undefined;
    });
    assert.equal(invited.getMember(bob.getUserId()!)?.events.member?.getSender(), alice.getUserId(), 'the invite names alice as inviter');
    assert.equal(invited.name, 'Hearth kitchen', 'the invite carries the room name in its stripped state');

    await bob.joinRoom(roomId);
    await waitFor('bob to be joined in his own view', () => bob.getRoom(roomId)?.getMyMembership() === 'join');
    await waitFor("alice to see bob's join", () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === 'join');
  });

  test(`${MESSAGES} alternating messages each arrive in send order on the other side through /sync`, async () => {
    for (let i = 0; i < MESSAGES; i++) {
      await (i % 2 === 0 ? alice : bob).sendTextMessage(roomId, `message ${i}`);
    }
    const fromBob = expectedBodies.filter((_, i) => i % 2 === 1);
    const fromAlice = expectedBodies.filter((_, i) => i % 2 === 0);
    await waitFor("alice to receive all of bob's messages", () => liveFromOther.get(alice.getUserId()!)!.length >= fromBob.length);
    await waitFor("bob to receive all of alice's messages", () => liveFromOther.get(bob.getUserId()!)!.length >= fromAlice.length);
    assert.deepEqual(liveFromOther.get(alice.getUserId()!), fromBob);
    assert.deepEqual(liveFromOther.get(bob.getUserId()!), fromAlice);
    // Bob's live timeline, built only from /sync, holds the whole conversation in server order,
    // once the remote echo of his own last message has come back through /sync too.
    await waitFor("bob's own last message to come back through /sync", () => bodies(bob.getRoom(roomId)!.getLiveTimeline().getEvents()).length >= MESSAGES);
    assert.deepEqual(bodies(bob.getRoom(roomId)!.getLiveTimeline().getEvents()), expectedBodies);
  });

  test('paging /messages backwards in pages of 7 reaches m.room.create and yields all messages in order', async () => {
    // Start from the latest sync token: a /sync next_batch is a valid /messages `from`.
    let from = bob.store.getSyncToken();
    assert.ok(from);
    const seen: Array<{ type: string; body?: string }> = [];
    let pages = 0;
    for (;;) {
      const res = await bob.createMessagesRequest(roomId, from, 7, Direction.Backward);
      pages++;
      for (const e of res.chunk) seen.push({ type: e.type, body: e.content.body as string | undefined });
      if (!res.end) break;
      assert.notEqual(res.end, from, 'each page moves the token');
      from = res.end;
      assert.ok(pages < 100, 'pagination terminates');
    }
    const chronological = seen.reverse();
    assert.equal(chronological[0]?.type, 'm.room.create', 'the last page ends at the room creation');
    assert.deepEqual(
      chronological.filter((e) => e.type === 'm.room.message').map((e) => e.body),
      expectedBodies,
    );
    assert.ok(pages > MESSAGES / 7, `took ${pages} pages`);
  });

  test("bob's second device starts with a short timeline and scrolls back to the room's creation", async () => {
    const login = await createClient({ baseUrl: server.url, fetchFn, logger: quietLogger }).loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'bob' },
      password: PASSWORD,
    });
    bobPhone = createClient({
      baseUrl: server.url,
      fetchFn,
      logger: quietLogger,
      userId: login.user_id,
      accessToken: login.access_token,
      deviceId: login.device_id,
    });
    await startSyncing(bobPhone, { initialSyncLimit: 5 });
    const room: Room = await waitFor('the room on the second device', () => bobPhone!.getRoom(roomId));
    const initial = bodies(room.getLiveTimeline().getEvents());
    assert.deepEqual(initial, expectedBodies.slice(-5), 'the initial sync holds only the last 5 messages');

    let rounds = 0;
    while (room.oldState.paginationToken !== null) {
      await bobPhone.scrollback(room, 15);
      assert.ok(++rounds < 50, 'scrollback terminates');
    }
    const events = room.getLiveTimeline().getEvents();
    assert.equal(events[0]?.getType(), 'm.room.create', 'the timeline starts at the room creation');
    assert.deepEqual(bodies(events), expectedBodies);
    const ids = events.map((e) => e.getId());
    assert.equal(new Set(ids).size, ids.length, 'no event appears twice');
  });

  test("a rename by alice shows as the new room name on bob's side", async () => {
    await alice.setRoomName(roomId, 'Hearth living room');
    await waitFor('bob to see the new room name', () => bob.getRoom(roomId)?.name === 'Hearth living room');
  });

  test('display name changes reach the other side as member events', async () => {
    await alice.setDisplayName('Alice Liddell');
    await bob.setDisplayName('Bob Builder');
    await waitFor("bob to see alice's display name", () => bob.getRoom(roomId)?.getMember(alice.getUserId()!)?.name === 'Alice Liddell');
    await waitFor("alice to see bob's display name", () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.name === 'Bob Builder');
    const ev = alice.getRoom(roomId)!.getMember(bob.getUserId()!)!.events.member!;
    assert.equal(ev.getContent().membership, 'join', 'a display name change keeps the membership');
    assert.equal(ev.getPrevContent().membership, 'join', 'prev_content is the join before the change');
    assert.notEqual(ev.getPrevContent().displayname, 'Bob Builder');
  });

  test("bob leaves; alice sees the leave and bob's own client moves the room to left", async () => {
    await bob.leave(roomId);
    await waitFor("alice to see bob's leave", () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === 'leave');
    await waitFor('bob to see himself as left', () => bob.getRoom(roomId)?.getMyMembership() === 'leave');
    assert.equal(alice.getRoom(roomId)!.getJoinedMemberCount(), 1);
  });

  test("every response the SDK received matches the spec's OpenAPI", () => {
    assertNoValidationFailures();
    const counts = validationCounts();
    // 100 sends, ~100 /sync responses, ~25 /messages pages, registration, login, filters, ...
    assert.ok(counts.validated > 2 * MESSAGES, `only ${counts.validated} responses were validated: ${JSON.stringify(counts)}`);
  });
});
