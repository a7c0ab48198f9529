// Pushers (pusher.yaml) and the HTTP pusher (push-gateway-api.md), against a push gateway run in
// the test: a plain node:http server on loopback that records what it is sent and answers as
// each test tells it. Clients set pushers through matrix-js-sdk (setPusher / getPushers), every
// answer checked against the spec's OpenAPI, and every /notify body against push_notifier.yaml.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import { call, registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { fetchFn, quietLogger, waitForAsync } from '../../helpers/sdk.ts';
import { SpecStore } from '../../helpers/openapi/spec-store.ts';
import { matrixSpecDir } from '../../helpers/openapi.ts';
import { GatewayPolicy, postToGateway } from '../../../homeserver/push/gateway-request.ts';
import sqlite3 from 'sqlite3';

/** Statements run on a stopped server's database file, one after another. */
function sqlRun(file: string, statements: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READWRITE, (err) => {
      if (err) return reject(err);
      db.exec(statements.join(';\n'), (err2) => db.close(() => (err2 ? reject(err2) : resolve())));
    });
  });
}

/** What the gateway does with the next request; after the list runs out it answers `{rejected: []}`. */
type Answer = 'drop' | 503 | { rejected: string[] };

interface Gateway {
  url: string;
  received: Array<{ notification: Record<string, any> }>;
  answers: Answer[];
  close(): Promise<void>;
}

async function startGateway(): Promise<Gateway> {
  const gw: Gateway = { url: '', received: [], answers: [], close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const answer = gw.answers.shift() ?? { rejected: [] };
      if (answer === 'drop') return void req.socket.destroy();
      gw.received.push(JSON.parse(text));
      if (answer === 503) return void res.writeHead(503).end('{}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  gw.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_matrix/push/v1/notify`;
  gw.close = () => new Promise((r) => server.close(() => r()));
  return gw;
}

const store = new SpecStore();
const notifyFile = resolve(matrixSpecDir(), 'data/api/push-gateway/push_notifier.yaml');
store.load(notifyFile);
const validateNotify = store.validatorAt(notifyFile, '/paths/~1notify/post/requestBody/content/application~1json/schema');

function assertValidNotify(body: unknown): void {
  assert.ok(validateNotify(body), `not a push_notifier.yaml body: ${JSON.stringify(validateNotify.errors)}\n${JSON.stringify(body)}`);
}

function sdkFor(server: TestServer, user: TestUser): MatrixClient {
  return createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: user.userId, accessToken: user.accessToken, deviceId: user.deviceId });
}

const pusherOf = (url: string, pushkey: string, extra: Record<string, unknown> = {}) => ({
  kind: 'http',
  app_id: 'org.example.hearth.test',
  pushkey,
  app_display_name: 'Hearth Test',
  device_display_name: "Bob's phone",
  lang: 'en',
  data: { url, custom: 'kept', ...extra },
});

describe('pushers and the HTTP pusher', () => {
  let server: TestServer;
  let gateway: Gateway;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;

  before(async () => {
    gateway = await startGateway();
    // The test's gateway listens on loopback, which only a configured host may be reached at.
    server = await startTestServer({ pusherPrivateGateways: ['127.0.0.1'] });
    alice = await registerUser(server, 'alice');
    bob = await registerUser(server, 'bob');
    await call(server, bob, 'PUT', `/profile/${encodeURIComponent(bob.userId)}/displayname`, { displayname: 'Bob' });
    await call(server, alice, 'PUT', `/profile/${encodeURIComponent(alice.userId)}/displayname`, { displayname: 'Alice A.' });
    roomId = (await call(server, alice, 'POST', '/createRoom', { name: 'Tea time', invite: [bob.userId] })).body.room_id;
    assert.equal((await call(server, bob, 'POST', `/join/${encodeURIComponent(roomId)}`, {})).status, 200);
  });
  after(async () => {
    await server?.stop();
    await gateway?.close();
  });
  // What an earlier failing test left unanswered must not steer the next one.
  beforeEach(() => void (gateway.answers.length = 0));

  /** Sends a message as Alice and returns its event id. */
  const aliceSays = async (body: string) =>
    (await call(server, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${Math.random()}`, { msgtype: 'm.text', body })).body
      .event_id as string;
  const pushesFor = (eventId: string) => gateway.received.filter((r) => r.notification.event_id === eventId);

  test('setPusher and getPushers through matrix-js-sdk: a pusher is listed as set, replaced in place, and deleted by kind null', async () => {
    const sdk = sdkFor(server, bob);
    assert.deepEqual((await sdk.getPushers()).pushers, []);
    await sdk.setPusher({ ...pusherOf(gateway.url, 'key-listed'), profile_tag: 'tag1' } as any);
    let listed = (await sdk.getPushers()).pushers;
    assert.equal(listed.length, 1);
    // The SDK adds MSC3881's `enabled` flag (true) for servers that do not speak MSC3881.
    const { 'org.matrix.msc3881.enabled': _enabled, ...shown } = listed[0] as any;
    assert.deepEqual(shown, { ...pusherOf(gateway.url, 'key-listed'), profile_tag: 'tag1' });
    await sdk.setPusher({ ...pusherOf(gateway.url, 'key-listed'), device_display_name: 'renamed' } as any);
    listed = (await sdk.getPushers()).pushers;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.device_display_name, 'renamed');
    await sdk.removePusher('key-listed', 'org.example.hearth.test');
    assert.deepEqual((await sdk.getPushers()).pushers, []);
  });

  test('a message that notifies a user is POSTed to their gateway as push_gateway.yaml says: event fields, counts, devices minus url, tweaks, prio', async () => {
    const sdk = sdkFor(server, bob);
    await sdk.setPusher(pusherOf(gateway.url, 'key-full') as any);
    try {
      const eventId = await aliceSays('Is the kettle on?');
      const [push] = await waitForAsync('the push of the message', async () => (pushesFor(eventId).length > 0 ? pushesFor(eventId) : undefined));
      assertValidNotify(push);
      const n = push!.notification;
      assert.equal(n.room_id, roomId);
      assert.equal(n.type, 'm.room.message');
      assert.equal(n.sender, alice.userId);
      assert.equal(n.sender_display_name, 'Alice A.');
      assert.equal(n.room_name, 'Tea time');
      assert.deepEqual(n.content, { msgtype: 'm.text', body: 'Is the kettle on?' });
      assert.ok(n.counts.unread >= 1, `counts.unread: ${JSON.stringify(n.counts)}`);
      assert.equal(n.devices.length, 1);
      const device = n.devices[0];
      assert.equal(device.app_id, 'org.example.hearth.test');
      assert.equal(device.pushkey, 'key-full');
      assert.ok(Number.isInteger(device.pushkey_ts) && device.pushkey_ts < Date.now() / 1000 + 1, 'pushkey_ts in seconds');
      // pusher.yaml: the whole data object, custom keys included, but not url.
      assert.deepEqual(device.data, { custom: 'kept' });
      // A room of two is a one-to-one room: .m.rule.room_one_to_one sounds, so the push is high.
      assert.deepEqual(device.tweaks, { sound: 'default' });
      assert.equal(n.prio, 'high');
      // Bob's own messages never push to Bob (push.md: "MUST NOT notify ... events that the user has sent").
      const own = (await call(server, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/own1`, { msgtype: 'm.text', body: 'mine' })).body
        .event_id;
      const next = await aliceSays('after yours');
      await waitForAsync('the push after', async () => pushesFor(next).length > 0);
      assert.equal(pushesFor(own).length, 0);
    } finally {
      await sdk.removePusher('key-full', 'org.example.hearth.test');
    }
  });

  test('format event_id_only sends only event_id, room_id, counts, devices and prio: no content passes the gateway', async () => {
    const sdk = sdkFor(server, bob);
    await sdk.setPusher(pusherOf(gateway.url, 'key-id-only', { format: 'event_id_only' }) as any);
    try {
      const eventId = await aliceSays('a secret');
      const [push] = await waitForAsync('the push', async () => (pushesFor(eventId).length > 0 ? pushesFor(eventId) : undefined));
      assertValidNotify(push);
      assert.deepEqual(Object.keys(push!.notification).sort(), ['counts', 'devices', 'event_id', 'prio', 'room_id']);
      assert.deepEqual(push!.notification.devices[0].data, { custom: 'kept', format: 'event_id_only' });
      assert.ok(!JSON.stringify(push).includes('a secret'));
    } finally {
      await sdk.removePusher('key-id-only', 'org.example.hearth.test');
    }
  });

  test('a gateway that is down (connection dropped, then 503) gets the push again with backoff, and it is delivered once it answers', async () => {
    const sdk = sdkFor(server, bob);
    await sdk.setPusher(pusherOf(gateway.url, 'key-retry') as any);
    try {
      gateway.answers.push('drop', 503);
      const eventId = await aliceSays('are you there?');
      // The dropped attempt is never recorded; the 503 one is, and then the accepted one.
      await waitForAsync('the push delivered after retries', async () => pushesFor(eventId).length >= 2, 30_000);
      assert.equal(gateway.answers.length, 0, 'both failures were answered');
      for (const push of pushesFor(eventId)) assertValidNotify(push);
      // The gateway has the push before the pusher has read its answer: wait for the queue to empty.
      await waitForAsync('nothing left queued', async () => server.hs.pushers!.queued(bob.userId) === 0);
    } finally {
      await sdk.removePusher('key-retry', 'org.example.hearth.test');
    }
  });

  test("a pushkey the gateway answers as 'rejected' removes its pusher: no longer listed, no more pushes", async () => {
    const sdk = sdkFor(server, bob);
    await sdk.setPusher(pusherOf(gateway.url, 'key-rejected') as any);
    gateway.answers.push({ rejected: ['key-rejected'] });
    const first = await aliceSays('one');
    await waitForAsync('the pusher removed', async () => pushesFor(first).length === 1 && (await sdk.getPushers()).pushers.length === 0);
    // A pusher set now still gets pushes; the removed one gets none.
    await sdk.setPusher(pusherOf(gateway.url, 'key-after') as any);
    try {
      const second = await aliceSays('two');
      await waitForAsync('the push to the other pusher', async () => pushesFor(second).length > 0);
      assert.deepEqual(
        pushesFor(second).map((p) => p.notification.devices[0].pushkey),
        ['key-after'],
      );
    } finally {
      await sdk.removePusher('key-after', 'org.example.hearth.test');
    }
  });

  test('append false takes an app_id and pushkey from other users; append true shares it', async () => {
    await call(server, alice, 'POST', '/pushers/set', pusherOf(gateway.url, 'shared'));
    await call(server, bob, 'POST', '/pushers/set', { ...pusherOf(gateway.url, 'shared'), append: true });
    assert.equal((await call(server, alice, 'GET', '/pushers')).body.pushers.length, 1);
    await call(server, bob, 'POST', '/pushers/set', pusherOf(gateway.url, 'shared'));
    assert.equal((await call(server, alice, 'GET', '/pushers')).body.pushers.length, 0);
    await call(server, bob, 'POST', '/pushers/set', { kind: null, app_id: 'org.example.hearth.test', pushkey: 'shared' });
    await call(server, alice, 'POST', '/pushers/set', { kind: null, app_id: 'org.example.hearth.test', pushkey: 'shared' });
  });

  test('logging out the device that set a pusher deletes the pusher; other devices keep theirs', async () => {
    const login = async () =>
      (
        await call(server, undefined, 'POST', '/login', {
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: 'bob' },
          password: 'correct horse battery staple',
        })
      ).body;
    const phone = await login();
    const tablet = await login();
    const as = (b: any): TestUser => ({ userId: b.user_id, accessToken: b.access_token, deviceId: b.device_id });
    await call(server, as(phone), 'POST', '/pushers/set', pusherOf(gateway.url, 'phone'));
    await call(server, as(tablet), 'POST', '/pushers/set', pusherOf(gateway.url, 'tablet'));
    assert.equal((await call(server, as(phone), 'POST', '/logout', {})).status, 200);
    const left = (await call(server, bob, 'GET', '/pushers')).body.pushers.map((p: any) => p.pushkey).filter((k: string) => k === 'phone' || k === 'tablet');
    assert.deepEqual(left, ['tablet']);
    await call(server, as(tablet), 'POST', '/pushers/set', { kind: null, app_id: 'org.example.hearth.test', pushkey: 'tablet' });
  });

  test('bad pushers are refused with the spec errors, never a 500: missing keys, unknown kind, URL path, sizes, too many', async () => {
    const set = (body: unknown) => call(server, alice, 'POST', '/pushers/set', body);
    const expect = async (body: unknown, errcode: string) => {
      const res = await set(body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.errcode, errcode, JSON.stringify(res.body));
    };
    await expect({ kind: 'http', app_id: 'a' }, 'M_MISSING_PARAM');
    await expect({ ...pusherOf(gateway.url, 'k'), lang: undefined }, 'M_MISSING_PARAM');
    await expect({ ...pusherOf(gateway.url, 'k'), data: {} }, 'M_MISSING_PARAM');
    await expect({ ...pusherOf(gateway.url, 'k'), kind: 'carrier-pigeon' }, 'M_INVALID_PARAM');
    await expect({ ...pusherOf(gateway.url, 'k'), kind: 5 }, 'M_BAD_JSON');
    await expect(pusherOf(gateway.url.replace('/notify', '/other'), 'k'), 'M_INVALID_PARAM');
    await expect(pusherOf('ftp://example.org/_matrix/push/v1/notify', 'k'), 'M_INVALID_PARAM');
    await expect(pusherOf('not a url', 'k'), 'M_INVALID_PARAM');
    await expect(pusherOf(gateway.url, 'k'.repeat(513)), 'M_INVALID_PARAM');
    await expect({ ...pusherOf(gateway.url, 'k'), app_id: 'a'.repeat(65) }, 'M_INVALID_PARAM');
    await expect({ ...pusherOf(gateway.url, 'k'), app_display_name: 'n'.repeat(257) }, 'M_INVALID_PARAM');
    await expect(pusherOf(gateway.url, 'k', { big: 'x'.repeat(5000) }), 'M_INVALID_PARAM');
    await expect(pusherOf(gateway.url, 'k', { format: 'full' }), 'M_INVALID_PARAM');
    // The 33rd pusher of one user is refused; replacing an existing one still works.
    for (let i = 0; i < 32; i++) assert.equal((await set(pusherOf(gateway.url, `many-${i}`))).status, 200);
    await expect(pusherOf(gateway.url, 'many-32'), 'M_LIMIT_EXCEEDED');
    assert.equal((await set({ ...pusherOf(gateway.url, 'many-0'), lang: 'fr' })).status, 200);
    for (let i = 0; i < 32; i++) await set({ kind: null, app_id: 'org.example.hearth.test', pushkey: `many-${i}` });
    assert.deepEqual((await call(server, alice, 'GET', '/pushers')).body.pushers, []);
  });
});

/**
 * Alice and Bob in a room, Bob with a pusher to a gateway run by the test, on a server over a
 * data dir that outlives restarts: `restart()` stops the server and starts another on it.
 */
async function restartablePushServer(pushkey: string) {
  const gateway = await startGateway();
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-pushers-'));
  const start = () => startTestServer({ dataDir, pusherPrivateGateways: ['127.0.0.1'] });
  const f = {
    gateway,
    dataDir,
    server: await start(),
    alice: undefined as unknown as TestUser,
    bob: undefined as unknown as TestUser,
    roomId: '',
    async restart(beforeStart?: () => Promise<void>) {
      await f.server.stop();
      await beforeStart?.();
      f.server = await start();
    },
    /** Alice's message, its event id. */
    async say(txn: string, body: string) {
      return (await call(f.server, f.alice, 'PUT', `/rooms/${encodeURIComponent(f.roomId)}/send/m.room.message/${txn}`, { msgtype: 'm.text', body })).body
        .event_id as string;
    },
    /** How many times the gateway was sent this event. */
    pushes: (eventId: string) => gateway.received.filter((r) => r.notification.event_id === eventId).length,
    async close() {
      await f.server.stop();
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    f.alice = await registerUser(f.server, 'alice');
    f.bob = await registerUser(f.server, 'bob');
    f.roomId = (await call(f.server, f.alice, 'POST', '/createRoom', { invite: [f.bob.userId] })).body.room_id;
    await call(f.server, f.bob, 'POST', `/join/${encodeURIComponent(f.roomId)}`, {});
    await call(f.server, f.bob, 'POST', '/pushers/set', pusherOf(gateway.url, pushkey));
  } catch (err) {
    await f.close();
    throw err;
  }
  return f;
}

describe('pushers across a restart', () => {
  test('a pusher set before a restart is still listed and still pushes after it (pushers live in SQLite)', async () => {
    const f = await restartablePushServer('durable');
    try {
      await f.restart();
      assert.deepEqual(
        (await call(f.server, f.bob, 'GET', '/pushers')).body.pushers.map((p: any) => p.pushkey),
        ['durable'],
      );
      const eventId = await f.say('t1', 'still there?');
      await waitForAsync('the push after the restart', async () => f.pushes(eventId) > 0);
    } finally {
      await f.close();
    }
  });

  test('a push still queued for a failing gateway when the server stops is delivered after the restart; pushes already delivered are not sent again', async () => {
    const f = await restartablePushServer('queued');
    try {
      const queued = () => f.server.hs.pushers!.queued(f.bob.userId);
      const delivered = await f.say('t1', 'delivered before the stop');
      await waitForAsync('the first push delivered', async () => f.pushes(delivered) === 1 && queued() === 0);
      // The gateway fails from now on: the next push stays queued, retried with backoff.
      f.gateway.answers.push(...Array<Answer>(20).fill(503));
      const pending = await f.say('t2', 'queued when the server stopped');
      await waitForAsync('the second push tried and failing', async () => f.pushes(pending) >= 1);
      assert.equal(queued(), 1);
      let triedBefore = 0;
      await f.restart(async () => {
        f.gateway.answers.length = 0;
        triedBefore = f.pushes(pending);
      });
      await waitForAsync('the queued push delivered after the restart', async () => f.pushes(pending) === triedBefore + 1, 15_000);
      const next = await f.say('t3', 'after the restart');
      await waitForAsync('a new push after the restart', async () => f.pushes(next) === 1);
      assert.equal(f.pushes(delivered), 1, 'a push delivered before the stop is not sent again');
      assert.equal(f.pushes(pending), triedBefore + 1, 'the queued push is delivered once');
    } finally {
      await f.close();
    }
  });

  test('after a kill before the progress was written, the pushes sent again at the restart are not sent a third time at the next', async () => {
    const f = await restartablePushServer('kill');
    try {
      const queued = () => f.server.hs.pushers!.queued(f.bob.userId);
      const eventId = await f.say('k1', 'just before the kill');
      await waitForAsync('the push delivered', async () => f.pushes(eventId) === 1 && queued() === 0);
      // What a kill -9 inside the second between the delivery and the progress write leaves:
      // the last write from before the event was handed over.
      await f.restart(() =>
        sqlRun(join(f.dataDir, 'hearth.sqlite'), [
          'UPDATE pushers SET pending_from = NULL',
          `UPDATE push_dispatched SET through = (SELECT stream_ordering FROM events WHERE event_id = '${eventId}') - 1`,
        ]),
      );
      await waitForAsync('sent again after the "kill" (at least once, never lost)', async () => f.pushes(eventId) === 2 && queued() === 0);
      await f.restart();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(f.pushes(eventId), 2, 'a clean restart after that sends nothing again');
    } finally {
      await f.close();
    }
  });
});

describe('the push gateway address policy', () => {
  test('a gateway at a loopback address (literal or by name) is refused unless its host is configured, and is never contacted', async () => {
    const gateway = await startGateway();
    try {
      const body = { notification: { devices: [] } };
      const literal = await postToGateway(new GatewayPolicy([]), new URL(gateway.url), body);
      assert.equal(literal.ok, false);
      assert.ok(!literal.ok && literal.permanent && /not a public address/.test(literal.reason), JSON.stringify(literal));
      const byName = await postToGateway(new GatewayPolicy([]), new URL(gateway.url.replace('127.0.0.1', 'localhost')), body);
      assert.ok(!byName.ok && /not a public address/.test(byName.reason), JSON.stringify(byName));
      assert.equal(gateway.received.length, 0);
      const allowed = await postToGateway(new GatewayPolicy(['127.0.0.1']), new URL(gateway.url), body);
      assert.deepEqual(allowed, { ok: true, rejected: [] });
      assert.equal(gateway.received.length, 1);
    } finally {
      await gateway.close();
    }
  });
});
