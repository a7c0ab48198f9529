// The bytes of one /sync batch and the /sync requests running at once are bounded (issue #13: a
// 72 MB to-device queue made every /sync of its device 72 MB, and 20 of them at once took the
// process past 5 GB). To-device messages come in batches of at most 1 MiB (at least one message),
// a timeline at most 100 events whatever the filter, and a new /sync of a device ends the older
// one's long-poll.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';
import { SyncLimiter } from '../../../homeserver/sync/sync-limiter.ts';
import { TO_DEVICE_BATCH_BYTES } from '../../../homeserver/e2ee/to-device.ts';
import { MAX_SYNC_TIMELINE_LIMIT } from '../../../homeserver/sync/filters.ts';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  bob = await registerUser(server, 'bob');
});
after(() => server?.stop());

type SyncBody = { next_batch: string; to_device: { events: Array<{ content: { i: number } }> }; rooms: { join: Record<string, any> } };
const sync = async (user: TestUser, query: string): Promise<SyncBody> => {
  const res = await checked(server, user, 'GET', `/sync?${query}`);
  assert.equal(res.status, 200);
  return res.body as SyncBody;
};

describe('/sync batch bounds', () => {
  test('a to-device queue of 5 x 400 kB comes in batches of at most 1 MiB, in order, none lost', async () => {
    const big = 'z'.repeat(400_000);
    for (let i = 0; i < 5; i++) {
      const res = await checked(server, alice, 'PUT', `/sendToDevice/m.test/big${i}`, { messages: { [bob.userId]: { [bob.deviceId]: { big, i } } } });
      assert.equal(res.status, 200);
    }
    const batches: number[][] = [];
    let since = '';
    for (let round = 0; round < 10; round++) {
      const body = await sync(bob, `timeout=0${since ? `&since=${encodeURIComponent(since)}` : ''}`);
      const ids = body.to_device.events.map((e) => e.content.i);
      const bytes = Buffer.byteLength(JSON.stringify(body.to_device.events));
      assert.ok(ids.length <= 1 || bytes <= TO_DEVICE_BATCH_BYTES + 1_000, `a batch of ${bytes} bytes`);
      if (ids.length === 0 && since) break;
      batches.push(ids);
      since = body.next_batch;
    }
    assert.deepEqual(batches, [[0, 1], [2, 3], [4]]);
  });

  test('a single message larger than the batch bound still comes, alone', async () => {
    const huge = 'h'.repeat(TO_DEVICE_BATCH_BYTES - 1_000);
    for (let i = 0; i < 2; i++)
      await checked(server, alice, 'PUT', `/sendToDevice/m.test/huge${i}`, { messages: { [bob.userId]: { [bob.deviceId]: { huge, i } } } });
    const start = await sync(bob, 'timeout=0');
    assert.deepEqual(
      start.to_device.events.map((e) => e.content.i),
      [0],
    );
    const next = await sync(bob, `timeout=0&since=${encodeURIComponent(start.next_batch)}`);
    assert.deepEqual(
      next.to_device.events.map((e) => e.content.i),
      [1],
    );
    await sync(bob, `timeout=0&since=${encodeURIComponent(next.next_batch)}`);
  });

  test(`a timeline filter of limit 100000 gets at most ${MAX_SYNC_TIMELINE_LIMIT} events, marked limited`, async () => {
    const carol = await registerUser(server, 'carol');
    const room = await checked(server, carol, 'POST', '/createRoom', {});
    const roomId = room.body.room_id as string;
    for (let i = 0; i < MAX_SYNC_TIMELINE_LIMIT + 20; i++) {
      await checked(server, carol, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/m${i}`, { msgtype: 'm.text', body: `${i}` });
    }
    const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 100_000 } } }));
    const body = await sync(carol, `timeout=0&filter=${filter}`);
    const timeline = body.rooms.join[roomId].timeline;
    assert.equal(timeline.events.length, MAX_SYNC_TIMELINE_LIMIT);
    assert.equal(timeline.limited, true);
  });

  test('a new /sync of a device ends the long-poll of its older one, which answers without waiting for its timeout', async () => {
    const start = await sync(alice, 'timeout=0');
    const since = encodeURIComponent(start.next_batch);
    // A 60 s long-poll: were it not ended, this test would time out waiting for it.
    let settled = false;
    const older = sync(alice, `timeout=60000&since=${since}`).finally(() => (settled = true));
    // Newer requests of the same device (a different request: timeout=0) until the older ends;
    // each one supersedes whatever /sync of the device is running.
    for (let i = 0; i < 200 && !settled; i++) await sync(alice, `timeout=0&since=${since}`);
    const body = await older;
    assert.equal(body.next_batch.length > 0, true);
    assert.deepEqual(body.to_device.events, []);
  });
});

describe('SyncLimiter', () => {
  const req = (deviceId: string, requestKey: string, initial = false, signal?: AbortSignal) => ({ userId: '@u:x', deviceId, requestKey, initial, signal });

  test('20 identical requests of one device share one computation and one answer', async () => {
    const limiter = new SyncLimiter();
    let computed = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      computed++;
      await gate;
      return { next_batch: 's1' };
    };
    const answers = Array.from({ length: 20 }, () => limiter.run(req('D', 'k'), compute));
    release();
    const all = await Promise.all(answers);
    assert.equal(computed, 1);
    assert.ok(all.every((a) => a === all[0]));
    assert.equal(limiter.devicesSyncing, 0);
  });

  test('a different request of the same device aborts the older long-poll; other devices are untouched', async () => {
    const limiter = new SyncLimiter();
    const signals: Record<string, AbortSignal> = {};
    const longPoll = (name: string) => (signal: AbortSignal) => {
      signals[name] = signal;
      return new Promise<Record<string, never>>((resolve) => signal.addEventListener('abort', () => resolve({}), { once: true }));
    };
    const first = limiter.run(req('D', 'k1'), longPoll('first'));
    void limiter.run(req('E', 'k1'), longPoll('other'));
    void limiter.run(req('D', 'k2'), longPoll('second'));
    await first;
    assert.equal(signals.first!.aborted, true);
    assert.equal(signals.second!.aborted, false);
    assert.equal(signals.other!.aborted, false);
  });

  test('when every client sharing a computation has gone, its long-poll ends', async () => {
    const limiter = new SyncLimiter();
    const a = new AbortController();
    const b = new AbortController();
    let signal!: AbortSignal;
    const compute = (s: AbortSignal) => {
      signal = s;
      return new Promise<Record<string, never>>((resolve) => s.addEventListener('abort', () => resolve({}), { once: true }));
    };
    const answer = limiter.run(req('D', 'k', false, a.signal), compute);
    void limiter.run(req('D', 'k', false, b.signal), compute);
    a.abort();
    assert.equal(signal.aborted, false, 'one client still waits');
    b.abort();
    await answer;
    assert.equal(signal.aborted, true);
  });

  test('initial syncs run at most the limit at once, and all of them run', async () => {
    const limiter = new SyncLimiter(2);
    let running = 0;
    let peak = 0;
    const compute = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return {};
    };
    await Promise.all(Array.from({ length: 10 }, (_, i) => limiter.run(req(`D${i}`, 'k', true), compute)));
    assert.equal(peak, 2);
  });
});
