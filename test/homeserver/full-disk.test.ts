// A full disk under load (issue #13, "It must show" 4 and class 8): the data dir is a small tmpfs
// that a ballast file fills while clients send messages, change state, write account data and
// upload media, and a remote server sends transactions. While it is full, every write that fails
// says so with the spec's M_RESOURCE_LIMIT_EXCEEDED (never a bare 500), a transaction is never
// answered 200 without its PDUs stored (the origin would not send it again), and reads keep
// working: /sync (initial, incremental, and a user's first), /messages, state, account data, media
// downloads and thumbnails. Once the ballast is gone, writes work again with no restart, the
// outbound federation queue carries on, and nothing acknowledged was lost, before or after a
// restart; the database passes integrity_check.
//
// Needs root to mount the tmpfs (CI runs as root); skipped with the reason otherwise.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { eventually, signedRequest } from '../helpers/federation.ts';
import { decodeSigningKeyFile } from '../../homeserver/protocol/signing-key.ts';
import { computeEventId, hashAndSignEvent, type DraftPDU } from '../../homeserver/protocol/event-hashing.ts';
import { getRoomVersion } from '../../homeserver/protocol/room-versions.ts';

/** Room for the database, the WAL and a few uploads; the ballast takes the rest. */
const TMPFS_SIZE = '24m';
const UPLOAD_BYTES = 48 * 1024;
/** Writes attempted by each writer while the disk is full, before the reads are checked. */
const FULL_FAILURES_PER_WRITER = 3;
/** Room left on the disk for the big PDU's transaction: some pages, far less than the PDU. */
const SLACK_BYTES = 16 * 1024;
const BIG_PDU_BYTES = 48 * 1024;
const ADMIN = 'mailto:admin@example.org';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-full-disk-'));
const mountPoint = path.join(scratch, 'mnt');
let mounted = false;
let skipReason: string | undefined;
/** The server of the test, stopped here too when an assertion failed while it ran. */
let running: TestServer | undefined;
/** The remote server whose user sends PDUs in; its data dir is not on the tmpfs. */
let remote: TestServer | undefined;

before(() => {
  fs.mkdirSync(mountPoint);
  if (process.getuid?.() !== 0) {
    skipReason = 'needs root to mount a tmpfs';
    return;
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0700`, 'tmpfs', mountPoint], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    skipReason = `cannot mount a tmpfs: ${(err as Error).message.split('\n')[0]}`;
  }
});
after(async () => {
  await running?.stop().catch(() => {});
  await remote?.stop().catch(() => {});
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  fs.rmSync(scratch, { recursive: true, force: true });
});

function integrityCheck(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      db.all('PRAGMA integrity_check', (err2: Error | null, rows: Array<{ integrity_check: string }>) => {
        db.close();
        if (err2) reject(err2);
        else resolve(rows.map((r) => r.integrity_check).join('\n'));
      });
    });
  });
}

/** Fills the file system holding `file` to the last byte; returns the ballast's size. */
function fillDisk(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, 'w');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return 0;
    throw err;
  }
  let size = 0;
  try {
    for (const chunk of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
      const buf = Buffer.alloc(chunk, 0x5a);
      try {
        for (;;) size += fs.writeSync(fd, buf);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return size;
}

async function upload(server: TestServer, user: TestUser, bytes: Buffer, contentType = 'application/octet-stream') {
  const res = await fetch(`${server.url}/_matrix/media/v3/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': contentType },
    body: new Uint8Array(bytes),
  });
  return { status: res.status, body: (await res.json()) as any, retryAfter: res.headers.get('retry-after') };
}

async function download(server: TestServer, user: TestUser, mxc: string, thumbnail?: string): Promise<{ status: number; bytes: Buffer }> {
  const what = thumbnail ? `thumbnail/${mxc.slice('mxc://'.length)}?${thumbnail}` : `download/${mxc.slice('mxc://'.length)}`;
  const res = await fetch(`${server.url}/_matrix/client/v1/media/${what}`, { headers: { authorization: `Bearer ${user.accessToken}` } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

test('a full disk under load: writes get M_RESOURCE_LIMIT_EXCEEDED, reads keep working, nothing acknowledged is lost, and writes work again once space returns', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const dataDir = path.join(mountPoint, 'data');
  fs.mkdirSync(dataDir);
  const port = await freePort();
  const remotePort = await freePort();
  const A = `127.0.0.1:${port}`;
  const B = `127.0.0.1:${remotePort}`;
  const start = () => startFederatedTestServer(port, { trustSelfSigned: [B] }, { dataDir, adminContact: ADMIN });
  let server = await start();
  running = server;
  remote = await startFederatedTestServer(remotePort, { trustSelfSigned: [A] });
  const remoteKey = decodeSigningKeyFile(fs.readFileSync(path.join(remote.dataDir, 'signing.key'), 'utf8'));
  const alice = await registerUser(server, 'alice');
  const bob = await registerUser(server, 'bob');
  const rob = await registerUser(remote, 'rob');
  const roomId: string = (await call(server, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'full', room_version: '12' })).body
    .room_id;
  const room = encodeURIComponent(roomId);
  assert.equal((await call(server, bob, 'POST', `/join/${room}`, {})).status, 200);
  assert.equal((await call(remote, rob, 'POST', `/join/${encodeURIComponent(`#full:${A}`)}`, {})).status, 200);
  // Rob's PDUs come in as B's transactions, each on top of the last one A acknowledged.
  const state: any[] = (await call(server, alice, 'GET', `/rooms/${room}/state`)).body;
  const stateId = (type: string, key = '') => state.find((e) => e.type === type && e.state_key === key).event_id as string;
  const robAuth = [stateId('m.room.power_levels'), stateId('m.room.member', rob.userId)];
  let robPrev = stateId('m.room.member', rob.userId);
  // An image uploaded while there is room: its download and its thumbnails are reads later.
  const png = fs.readFileSync(new URL('../../docs/screenshots/room-list-390.png', import.meta.url));
  const image = await upload(server, alice, png, 'image/png');
  assert.equal(image.status, 200);
  const thumbnailBefore = await download(server, alice, image.body.content_uri, 'width=96&height=96&method=crop');
  assert.equal(thumbnailBefore.status, 200);
  assert.equal((await download(server, alice, image.body.content_uri, 'width=320&height=240&method=scale')).status, 200);
  // A to-device message for Alice, delivered by her first /sync: her next /sync deletes it, a write.
  const toDevice = { messages: { [alice.userId]: { [alice.deviceId]: { hello: 'alice' } } } };
  assert.equal((await call(server, bob, 'PUT', '/sendToDevice/org.hearth.full/td-1', toDevice)).status, 200);
  const firstSync = await call(server, alice, 'GET', '/sync?timeout=0');
  assert.equal(firstSync.body.to_device.events.length, 1);
  const aliceSince: string = firstSync.body.next_batch;

  // The load: each writer loops until told to stop, keeping what was acknowledged and every refusal.
  const acked = { events: new Map<string, unknown>(), media: new Map<string, Buffer>(), accountData: -1 };
  const refusals: Array<{ writer: string; status: number; body: any; retryAfter: string | null }> = [];
  const failures = new Map<string, number>();
  let full = false;
  let stop = false;
  const writer = (name: string, step: (n: number) => Promise<{ status: number; body: any; retryAfter?: string | null; ack: () => void }>) =>
    (async () => {
      for (let n = 0; !stop; n++) {
        const r = await step(n);
        if (r.status === 200) r.ack();
        else {
          refusals.push({ writer: name, status: r.status, body: r.body, retryAfter: r.retryAfter ?? null });
          if (full) failures.set(name, (failures.get(name) ?? 0) + 1);
        }
        // Once full, a pause between refusals, so that the reads below get their turn.
        if (full && r.status !== 200) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
  const withRetryAfter = async (p: Promise<Response>) => {
    const res = await p;
    return { status: res.status, body: (await res.json()) as any, retryAfter: res.headers.get('retry-after') };
  };
  const jsonCall = (user: TestUser, method: string, p: string, body: unknown) =>
    withRetryAfter(
      fetch(`${server.api}${p}`, {
        method,
        headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    );
  const writers = [
    writer('send', async (n) => {
      const content = { msgtype: 'm.text', body: `full-${n} ${'x'.repeat(800)}` };
      const r = await jsonCall(alice, 'PUT', `/rooms/${room}/send/m.room.message/full-${n}`, content);
      return { ...r, ack: () => acked.events.set(r.body.event_id, content) };
    }),
    writer('state', async (n) => {
      const content = { topic: `topic ${n}` };
      const r = await jsonCall(alice, 'PUT', `/rooms/${room}/state/m.room.topic/`, content);
      return { ...r, ack: () => acked.events.set(r.body.event_id, content) };
    }),
    writer('account data', async (n) => {
      const r = await jsonCall(bob, 'PUT', `/user/${encodeURIComponent(bob.userId)}/account_data/org.hearth.full`, { n });
      return { ...r, ack: () => (acked.accountData = Math.max(acked.accountData, n)) };
    }),
    writer('federation', async (n) => {
      const rv = getRoomVersion('12')!;
      const content = { msgtype: 'm.text', body: `from B ${n}` };
      const draft = { room_id: roomId, sender: rob.userId, type: 'm.room.message', content, auth_events: robAuth, prev_events: [robPrev], depth: 1000 + n };
      const pdu = hashAndSignEvent({ ...draft, origin_server_ts: Date.now() } as unknown as DraftPDU, rv, B, remoteKey);
      const eventId = computeEventId(pdu, rv);
      const r = await signedRequest(port, {
        method: 'PUT',
        path: `/_matrix/federation/v1/send/full-${n}`,
        origin: B,
        destination: A,
        key: remoteKey,
        body: { origin: B, origin_server_ts: Date.now(), pdus: [pdu] },
      });
      // A 200 tells B the transaction is done, never to be sent again: its PDU must be stored.
      if (r.status === 200) assert.deepEqual(r.body.pdus, { [eventId]: {} }, `transaction full-${n} answered 200 without storing its PDU`);
      return {
        ...r,
        ack: () => {
          acked.events.set(eventId, content);
          robPrev = eventId;
        },
      };
    }),
    writer('upload', async (n) => {
      const bytes = Buffer.alloc(UPLOAD_BYTES, n & 0xff);
      const r = await upload(server, alice, bytes);
      return { ...r, ack: () => acked.media.set(r.body.content_uri, bytes) };
    }),
  ];

  try {
    // Let the load run a little, then fill the disk under it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ballast = path.join(mountPoint, 'ballast');
    const ballastBytes = fillDisk(ballast);
    full = true;
    t.diagnostic(`ballast ${ballastBytes} bytes; ${acked.events.size} events acknowledged before the disk filled`);
    // Keep loading until every writer has been refused a few times on the full disk.
    for (let polls = 0; ['send', 'state', 'account data', 'federation', 'upload'].some((w) => (failures.get(w) ?? 0) < FULL_FAILURES_PER_WRITER); polls++) {
      assert.ok(polls < 2000, `writers were not refused on the full disk: ${JSON.stringify([...failures])}`);
      // Space freed by the server itself (a rolled back WAL, a deleted temp file) is taken again.
      fillDisk(`${ballast}-${polls}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    // Reads, while the disk is full and the writers keep failing.
    const sync = await call(server, alice, 'GET', '/sync?timeout=0');
    assert.equal(sync.status, 200, `initial /sync on a full disk: ${JSON.stringify(sync.body)}`);
    // It acknowledges the to-device message, which is deleted once there is room again.
    const incremental = await call(server, alice, 'GET', `/sync?timeout=0&since=${encodeURIComponent(aliceSince)}`);
    assert.equal(incremental.status, 200, `incremental /sync on a full disk: ${JSON.stringify(incremental.body)}`);
    // Bob has never synced: his first /sync would mark him online, a write.
    const bobSync = await call(server, bob, 'GET', '/sync?timeout=0');
    assert.equal(bobSync.status, 200, `a first /sync on a full disk: ${JSON.stringify(bobSync.body)}`);
    const messages = await call(server, alice, 'GET', `/rooms/${room}/messages?dir=b&limit=20`);
    assert.equal(messages.status, 200, `/messages on a full disk: ${JSON.stringify(messages.body)}`);
    assert.equal((await call(server, alice, 'GET', `/rooms/${room}/state`)).status, 200, '/state on a full disk');
    if (acked.accountData >= 0) {
      const r = await call(server, bob, 'GET', `/user/${encodeURIComponent(bob.userId)}/account_data/org.hearth.full`);
      assert.equal(r.status, 200, `account data read on a full disk: ${JSON.stringify(r.body)}`);
    }
    const original = await download(server, alice, image.body.content_uri);
    assert.equal(original.status, 200, 'media download on a full disk');
    assert.ok(original.bytes.equals(png));
    const thumbnail = await download(server, alice, image.body.content_uri, 'width=96&height=96&method=crop');
    assert.equal(thumbnail.status, 200, 'a thumbnail already made, on a full disk');
    assert.ok(thumbnail.bytes.length > 0);
    // Any other size is answered with a standard one already made (320x240 covers 123x77): no write.
    const otherSize = await download(server, alice, image.body.content_uri, 'width=123&height=77&method=scale');
    assert.equal(otherSize.status, 200, `another thumbnail size on a full disk: ${otherSize.status} ${otherSize.bytes.toString('utf8')}`);

    // A disk with a little room: a transaction's small bookkeeping fits where its big PDU did not.
    // It must be refused as a whole, so that B sends it again, not answered 200 with the PDU dropped.
    stop = true;
    await Promise.all(writers);
    fillDisk(`${ballast}-last`);
    fs.truncateSync(ballast, ballastBytes - SLACK_BYTES);
    const rv = getRoomVersion('12')!;
    const big = { msgtype: 'm.text', body: 'B'.repeat(BIG_PDU_BYTES) };
    const draft = { room_id: roomId, sender: rob.userId, type: 'm.room.message', content: big, auth_events: robAuth, prev_events: [robPrev], depth: 5000 };
    const bigPdu = hashAndSignEvent({ ...draft, origin_server_ts: Date.now() } as unknown as DraftPDU, rv, B, remoteKey);
    const bigId = computeEventId(bigPdu, rv);
    const bigTxn = await signedRequest(port, {
      method: 'PUT',
      path: '/_matrix/federation/v1/send/big',
      origin: B,
      destination: A,
      key: remoteKey,
      body: { origin: B, origin_server_ts: Date.now(), pdus: [bigPdu] },
    });
    if (bigTxn.status === 200) {
      assert.deepEqual(bigTxn.body.pdus, { [bigId]: {} }, 'a transaction answered 200 without storing its PDU');
      acked.events.set(bigId, big);
    } else refusals.push({ writer: 'federation', status: bigTxn.status, body: bigTxn.body, retryAfter: null });

    // Every refusal was the spec's resource-limit error with somewhere to turn, never a bare 500.
    assert.ok(refusals.length > 0);
    for (const r of refusals) {
      assert.equal(r.status, 507, `${r.writer} on a full disk: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.errcode, 'M_RESOURCE_LIMIT_EXCEEDED', `${r.writer}: ${JSON.stringify(r.body)}`);
      // The federation listener has no users to show a contact to.
      assert.equal(r.body.admin_contact, r.writer === 'federation' ? null : ADMIN, `${r.writer}: admin_contact`);
      assert.match(r.body.error, /disk/i);
      if (r.writer !== 'federation') assert.ok(Number(r.retryAfter) > 0, `${r.writer}: no Retry-After`);
    }
  } finally {
    // Space returns (also when an assertion above failed, so that the writers can stop).
    for (const f of fs.readdirSync(mountPoint)) if (f.startsWith('ballast')) fs.rmSync(path.join(mountPoint, f));
    stop = true;
    await Promise.all(writers);
  }

  // Space has returned: every kind of write works again, with no restart.
  const after1 = await call(server, alice, 'PUT', `/rooms/${room}/send/m.room.message/after-full`, { msgtype: 'm.text', body: 'space again' });
  assert.equal(after1.status, 200, `send after space returned: ${JSON.stringify(after1.body)}`);
  acked.events.set(after1.body.event_id, { msgtype: 'm.text', body: 'space again' });
  // The outbound federation queue, which failed while full, carries on by itself.
  await eventually('the message sent after the disk emptied reaches B', async () => {
    const e = await call(remote!, rob, 'GET', `/rooms/${room}/event/${encodeURIComponent(after1.body.event_id)}`);
    return e.status === 200 ? true : undefined;
  });
  const topic = await call(server, alice, 'PUT', `/rooms/${room}/state/m.room.topic/`, { topic: 'after' });
  assert.equal(topic.status, 200, `state after space returned: ${JSON.stringify(topic.body)}`);
  acked.events.set(topic.body.event_id, { topic: 'after' });
  const ad = await call(server, bob, 'PUT', `/user/${encodeURIComponent(bob.userId)}/account_data/org.hearth.after`, { ok: true });
  assert.equal(ad.status, 200, `account data after space returned: ${JSON.stringify(ad.body)}`);
  const up = await upload(server, alice, Buffer.from('after'));
  assert.equal(up.status, 200, `upload after space returned: ${JSON.stringify(up.body)}`);
  acked.media.set(up.body.content_uri, Buffer.from('after'));
  const login = await call(server, undefined, 'POST', '/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: 'bob' },
    password: 'correct horse battery staple',
  });
  assert.equal(login.status, 200, `login after space returned: ${JSON.stringify(login.body)}`);

  // Nothing acknowledged was lost: now, and after a restart on the same data.
  const verify = async (label: string) => {
    for (const [eventId, content] of acked.events) {
      const e = await call(server, alice, 'GET', `/rooms/${room}/event/${encodeURIComponent(eventId)}`);
      assert.equal(e.status, 200, `${label}: acknowledged event ${eventId} lost`);
      assert.deepEqual(e.body.content, content);
    }
    for (const [mxc, bytes] of acked.media) {
      const d = await download(server, alice, mxc);
      assert.equal(d.status, 200, `${label}: acknowledged upload ${mxc} lost`);
      assert.ok(d.bytes.equals(bytes), `${label}: upload ${mxc} has other bytes`);
    }
    if (acked.accountData >= 0) {
      const r = await call(server, bob, 'GET', `/user/${encodeURIComponent(bob.userId)}/account_data/org.hearth.full`);
      assert.ok(r.body.n >= acked.accountData, `${label}: account data went back to ${r.body.n} from ${acked.accountData}`);
    }
  };
  t.diagnostic(`${acked.events.size} events, ${acked.media.size} uploads acknowledged; ${refusals.length} writes refused while full`);
  await verify('after space returned');
  await server.stop();
  running = undefined;
  assert.equal(await integrityCheck(path.join(dataDir, 'hearth.sqlite')), 'ok');
  server = await start();
  running = server;
  await verify('after a restart');
  await server.stop();
  running = undefined;
});
