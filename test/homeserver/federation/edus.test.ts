// Ephemeral data and E2EE changes across two real Hearth servers sharing a room (bob of B joined
// alice's room on A over federation): typing, receipts, presence, device list and signing key
// updates, and to-device messages travel as EDUs through the outbound queue and PUT /send; the
// receiving side applies only what the origin may speak for. Client responses are validated
// against the client-server OpenAPI, federation ones against the server-server OpenAPI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';
import { serverServerValidator } from '../../helpers/openapi.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { remoteDeviceListStore } from '../../../homeserver/storage/federation-edus-store.ts';
import { crossSigningSet, oneTimeKeys, signAs, testDevice, type TestDevice } from '../e2ee/e2ee-helpers.ts';
import { assertNoValidationFailures, validationCounts } from '../../helpers/openapi.ts';
import { eventually } from '../../helpers/federation.ts';

const validator = serverServerValidator();
const PASSWORD = 'correct horse battery staple';

/** A /sync stream for one user: `until` syncs on from the last token until `pick` finds something. */
function syncer(server: TestServer, user: TestUser) {
  let since: string | undefined;
  return {
    async catchUp(): Promise<void> {
      const r = await checked(server, user, 'GET', `/sync?timeout=0${since ? `&since=${encodeURIComponent(since)}` : ''}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      since = r.body.next_batch;
    },
    async until<T>(what: string, pick: (body: any) => T | undefined, timeoutMs = 15_000): Promise<T> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const r = await checked(server, user, 'GET', `/sync?timeout=500${since ? `&since=${encodeURIComponent(since)}` : ''}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        since = r.body.next_batch;
        const v = pick(r.body);
        if (v !== undefined) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      }
    },
  };
}

const ephemeral = (body: any, roomId: string, type: string): any[] => (body.rooms?.join?.[roomId]?.ephemeral?.events ?? []).filter((e: any) => e.type === type);

describe('EDUs between two servers sharing a room', () => {
  let a: TestServer, b: TestServer;
  let A: string, B: string;
  let alice: TestUser, bob: TestUser;
  let roomId: string;
  let bobDevice: TestDevice;

  /** PUT /send from A to B with these EDUs (signed by A's real client), validated. */
  let txnCounter = 0;
  async function sendEdusToB(edus: unknown[]): Promise<void> {
    const path = `/_matrix/federation/v1/send/edus-test-${Date.now()}-${txnCounter++}`;
    const r = await a.hs.federation!.client.request(B, 'PUT', path, { origin: A, origin_server_ts: Date.now(), pdus: [], edus });
    validator.validateResponse('PUT', path, 200, r);
  }

  async function cachedAt(server: TestServer, userId: string) {
    const conn = await Connection.open(join(server.dataDir, 'hearth.sqlite'));
    try {
      const row = await remoteDeviceListStore.get(conn, userId);
      return row ? { row, devices: await remoteDeviceListStore.devices(conn, userId) } : undefined;
    } finally {
      await conn.close();
    }
  }

  async function login(server: TestServer, user: string): Promise<TestUser> {
    const r = await checked(server, undefined, 'POST', '/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password: PASSWORD });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return { userId: r.body.user_id, accessToken: r.body.access_token, deviceId: r.body.device_id };
  }

  before(async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    A = `127.0.0.1:${pa}`;
    B = `127.0.0.1:${pb}`;
    a = await startFederatedTestServer(pa, { trustSelfSigned: [B] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [A] });
    alice = await registerUser(a, 'alice', PASSWORD);
    bob = await registerUser(b, 'bob', PASSWORD);
    bobDevice = testDevice(bob);
    assert.equal((await checked(b, bob, 'POST', '/keys/upload', { device_keys: bobDevice.deviceKeys })).status, 200);
    const created = await call(a, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'edus' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    roomId = created.body.room_id;
    const joined = await call(b, bob, 'POST', `/join/${encodeURIComponent(`#edus:${A}`)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    await eventually("bob's join on A", async () => {
      const m = await call(a, alice, 'GET', `/rooms/${encodeURIComponent(roomId)}/joined_members`);
      return m.body.joined?.[bob.userId] ? true : undefined;
    });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test("typing on B shows in alice's /sync on A, and so does its end", async () => {
    const s = syncer(a, alice);
    await s.catchUp();
    assert.equal(
      (await checked(b, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(bob.userId)}`, { typing: true, timeout: 20_000 })).status,
      200,
    );
    await s.until('bob typing on A', (body) => (ephemeral(body, roomId, 'm.typing').some((e) => e.content.user_ids.includes(bob.userId)) ? true : undefined));
    await checked(b, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(bob.userId)}`, { typing: false });
    await s.until('bob stopped typing on A', (body) =>
      ephemeral(body, roomId, 'm.typing').some((e) => !e.content.user_ids.includes(bob.userId)) ? true : undefined,
    );
  });

  test("typing on A shows in bob's /sync on B", async () => {
    const s = syncer(b, bob);
    await s.catchUp();
    await checked(a, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(alice.userId)}`, { typing: true, timeout: 20_000 });
    await s.until('alice typing on B', (body) =>
      ephemeral(body, roomId, 'm.typing').some((e) => e.content.user_ids.includes(alice.userId)) ? true : undefined,
    );
    await checked(a, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(alice.userId)}`, { typing: false });
  });

  test("bob's public read receipt reaches A with its time; his private one stays on B", async () => {
    const sent = await checked(a, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/r1`, { msgtype: 'm.text', body: 'read me' });
    const eventId = sent.body.event_id;
    await eventually('the message on B', async () =>
      (await call(b, bob, 'GET', `/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`)).status === 200 ? true : undefined,
    );
    const s = syncer(a, alice);
    await s.catchUp();
    assert.equal((await checked(b, bob, 'POST', `/rooms/${encodeURIComponent(roomId)}/receipt/m.read.private/${encodeURIComponent(eventId)}`, {})).status, 200);
    assert.equal((await checked(b, bob, 'POST', `/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(eventId)}`, {})).status, 200);
    const receipt = await s.until('bob receipt on A', (body) =>
      ephemeral(body, roomId, 'm.receipt')
        .map((e) => e.content[eventId])
        .find((c) => c?.['m.read']?.[bob.userId]),
    );
    assert.equal(typeof receipt['m.read'][bob.userId].ts, 'number');
    assert.equal(receipt['m.read.private'], undefined, 'a private receipt never leaves its server');
  });

  test("bob's presence and status message reach A", async () => {
    assert.equal(
      (await checked(b, bob, 'PUT', `/presence/${encodeURIComponent(bob.userId)}/status`, { presence: 'online', status_msg: 'cooking' })).status,
      200,
    );
    const got = await eventually('bob presence on A', async () => {
      const r = await checked(a, alice, 'GET', `/presence/${encodeURIComponent(bob.userId)}/status`);
      return r.status === 200 && r.body.status_msg === 'cooking' ? r.body : undefined;
    });
    assert.equal(got.presence, 'online');
  });

  test('a to-device message from alice reaches the device of bob named, and `*` reaches all of them', async () => {
    const s = syncer(b, bob);
    await s.catchUp();
    const r = await checked(a, alice, 'PUT', '/sendToDevice/org.example.hello/td1', { messages: { [bob.userId]: { [bob.deviceId]: { n: 1 } } } });
    assert.equal(r.status, 200);
    await checked(a, alice, 'PUT', '/sendToDevice/org.example.hello/td2', { messages: { [bob.userId]: { '*': { n: 2 } } } });
    const got: any[] = [];
    await s.until('both to-device messages on B', (body) => {
      got.push(...(body.to_device?.events ?? []));
      return got.length >= 2 ? true : undefined;
    });
    assert.deepEqual(
      got.map((e) => [e.sender, e.type, e.content.n]),
      [
        [alice.userId, 'org.example.hello', 1],
        [alice.userId, 'org.example.hello', 2],
      ],
    );
  });

  test("bob's new device and cross-signing keys: alice sees bob in device_lists.changed, A's cache follows the EDUs, /keys/query shows them", async () => {
    // A's first query fills its cache (bob shares a room with alice).
    const first = await checked(a, alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [] } });
    assert.deepEqual(Object.keys(first.body.device_keys[bob.userId]), [bob.deviceId]);
    const cached = await cachedAt(a, bob.userId);
    assert.ok(cached, 'the list of a user sharing a room is cached');
    const s = syncer(a, alice);
    await s.catchUp();

    const phone = await login(b, 'bob');
    const phoneDevice = testDevice(phone);
    assert.equal(
      (await checked(b, phone, 'POST', '/keys/upload', { device_keys: phoneDevice.deviceKeys, one_time_keys: oneTimeKeys(phoneDevice, 1) })).status,
      200,
    );
    await s.until('bob in device_lists.changed', (body) => (body.device_lists?.changed?.includes(bob.userId) ? true : undefined));
    // Applied from the EDU (its prev_id continued the cached stream), not by fetching again.
    const after = await cachedAt(a, bob.userId);
    assert.ok(after);
    assert.equal(after.row.stream_id, cached.row.stream_id + 1);
    assert.deepEqual(after.devices.map((d) => d.device_id).sort(), [bob.deviceId, phone.deviceId].sort());
    const second = await checked(a, alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [] } });
    assert.deepEqual(second.body.device_keys[bob.userId][phone.deviceId], phoneDevice.deviceKeys);

    const cross = crossSigningSet(bob.userId);
    assert.equal((await checked(b, bob, 'POST', '/keys/device_signing/upload', cross.body)).status, 200);
    await eventually("the master key in A's cache", async () => ((await cachedAt(a, bob.userId))?.row.master_key ? true : undefined));
    const third = await checked(a, alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [] } });
    assert.deepEqual(third.body.master_keys[bob.userId], cross.body.master_key);
    assert.deepEqual(third.body.self_signing_keys[bob.userId], cross.body.self_signing_key);

    // The phone signs out: its deletion reaches A too.
    assert.equal((await checked(b, phone, 'POST', '/logout', {})).status, 200);
    await eventually("the phone gone from A's cache", async () => ((await cachedAt(a, bob.userId))?.devices.length === 1 ? true : undefined));
    const fourth = await checked(a, alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [] } });
    assert.deepEqual(Object.keys(fourth.body.device_keys[bob.userId]), [bob.deviceId]);
  });

  test("alice signs bob's master key (cached from B) with her user-signing key; only her own /keys/query shows that signature", async () => {
    const aliceCross = crossSigningSet(alice.userId);
    assert.equal((await checked(a, alice, 'POST', '/keys/device_signing/upload', aliceCross.body)).status, 200);
    const q = await checked(a, alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [] } });
    const master = q.body.master_keys[bob.userId];
    const masterId = Object.values(master.keys)[0] as string;
    const signed = signAs(master, alice.userId, aliceCross.userSigning.publicKey, aliceCross.userSigning);
    const up = await checked(a, alice, 'POST', '/keys/signatures/upload', { [bob.userId]: { [masterId]: signed } });
    assert.equal(up.status, 200);
    assert.deepEqual(up.body.failures, {});
    const after = await checked(a, alice, 'POST', '/keys/query', { device_keys: { [bob.userId]: [] } });
    assert.equal(
      after.body.master_keys[bob.userId].signatures[alice.userId][`ed25519:${aliceCross.userSigning.publicKey}`],
      signed.signatures[alice.userId][`ed25519:${aliceCross.userSigning.publicKey}`],
    );
    const carol = await registerUser(a, 'carol', PASSWORD);
    const theirs = await checked(a, carol, 'POST', '/keys/query', { device_keys: { [bob.userId]: [] } });
    assert.equal(theirs.body.master_keys[bob.userId].signatures?.[alice.userId], undefined);
  });

  describe('what B accepts in a transaction from A', () => {
    test("typing for a user of another server, or of A but not in the room, is dropped; alice's is applied", async () => {
      const s = syncer(b, bob);
      await s.catchUp();
      await sendEdusToB([
        // bob is joined: only the origin check keeps A from speaking for him.
        { edu_type: 'm.typing', content: { room_id: roomId, user_id: bob.userId, typing: true } },
        { edu_type: 'm.typing', content: { room_id: roomId, user_id: `@ghost:${A}`, typing: true } },
        { edu_type: 'm.typing', content: { room_id: roomId, user_id: alice.userId, typing: true } },
      ]);
      const ids = await s.until('typing on B', (body) => ephemeral(body, roomId, 'm.typing')[0]?.content.user_ids);
      assert.deepEqual(ids, [alice.userId]);
      await sendEdusToB([{ edu_type: 'm.typing', content: { room_id: roomId, user_id: alice.userId, typing: false } }]);
    });

    test('a to-device message is delivered once per message_id, and never for a sender of another server', async () => {
      const s = syncer(b, bob);
      await s.catchUp();
      const edu = (sender: string, n: number, messageId: string) => ({
        edu_type: 'm.direct_to_device',
        content: { sender, type: 'org.example.dedupe', message_id: messageId, messages: { [bob.userId]: { [bob.deviceId]: { n } } } },
      });
      await sendEdusToB([edu(alice.userId, 1, 'm1'), edu(`@mallory:${B}`, 2, 'm2')]);
      await sendEdusToB([edu(alice.userId, 1, 'm1'), edu(alice.userId, 3, 'm3')]);
      const got: any[] = [];
      await s.until('to-device n=3', (body) => {
        got.push(...(body.to_device?.events ?? []).filter((e: any) => e.type === 'org.example.dedupe'));
        return got.some((e) => e.content.n === 3) ? true : undefined;
      });
      assert.deepEqual(
        got.map((e) => e.content.n),
        [1, 3],
      );
    });

    test('receipts and presence for users not of A are dropped', async () => {
      const sent = await checked(b, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/p1`, { msgtype: 'm.text', body: 'probe' });
      const eventId = sent.body.event_id;
      const s = syncer(b, bob);
      await s.catchUp();
      await sendEdusToB([
        { edu_type: 'm.presence', content: { push: [{ user_id: bob.userId, presence: 'offline', last_active_ago: 0 }] } },
        {
          edu_type: 'm.receipt',
          content: {
            [roomId]: { 'm.read': { [bob.userId]: { event_ids: [eventId], data: { ts: 1 } }, [alice.userId]: { event_ids: [eventId], data: { ts: 2 } } } },
          },
        },
      ]);
      const receipt = await s.until('alice receipt on B', (body) =>
        ephemeral(body, roomId, 'm.receipt')
          .map((e) => e.content[eventId]?.['m.read'])
          .find((r) => r?.[alice.userId]),
      );
      assert.deepEqual(Object.keys(receipt), [alice.userId]);
      assert.equal(receipt[alice.userId].ts, 2);
      const presence = await checked(b, bob, 'GET', `/presence/${encodeURIComponent(bob.userId)}/status`);
      assert.equal(presence.body.status_msg, 'cooking', "A cannot set bob's presence");
    });

    test("a device list update whose prev_id B does not know drops B's cached list; the next query fetches it again", async () => {
      await checked(b, bob, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } });
      const before = await cachedAt(b, alice.userId);
      assert.ok(before, "B caches alice's list");
      const s = syncer(b, bob);
      await s.catchUp();
      await sendEdusToB([
        {
          edu_type: 'm.device_list_update',
          content: { user_id: alice.userId, device_id: 'LOST', stream_id: before.row.stream_id + 10, prev_id: [before.row.stream_id + 9] },
        },
      ]);
      await s.until('alice in device_lists.changed', (body) => (body.device_lists?.changed?.includes(alice.userId) ? true : undefined));
      assert.equal(await cachedAt(b, alice.userId), undefined);
      const again = await checked(b, bob, 'POST', '/keys/query', { device_keys: { [alice.userId]: [] } });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body.failures, {});
      assert.equal((await cachedAt(b, alice.userId))?.row.stream_id, before.row.stream_id);
    });
  });

  test('every federation response the servers received matched the server-server OpenAPI', () => {
    assert.ok(validationCounts().validated > 0, 'federation responses were validated');
    assertNoValidationFailures();
  });
});
