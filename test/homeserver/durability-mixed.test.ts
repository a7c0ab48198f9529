// Crash durability under mixed load (issue #13, "It must show" 4): `hearth serve` as a real child
// process is killed with SIGKILL at seeded random moments, 20 times in a row on the same data dir,
// while clients send messages, change state (topic, name, power levels, a member), upload media,
// write account data and send to-device messages, and a remote server's signed /send
// transactions come in (a second Hearth joins the room over federation, then stops; the test
// speaks for it with its key, and hs1's outbound queue to it keeps failing and retrying). After every kill the SQLite file passes PRAGMA integrity_check, and after every
// restart each write the server acknowledged is there: event ids, media bytes, account data values,
// to-device messages, and the PDUs of every transaction answered 200.
//
// HEARTH_DURABILITY_SEED=N replays the kill moments and payloads of a failing run (the interleaving
// of requests is the machine's).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { startCluster, type Cluster, type HearthProcess } from '../helpers/hearth-process.ts';
import { signRequest } from '../../homeserver/federation/request-auth.ts';
import { decodeSigningKeyFile, type SigningKey } from '../../homeserver/protocol/signing-key.ts';
import { computeEventId, hashAndSignEvent, type DraftPDU } from '../../homeserver/protocol/event-hashing.ts';
import { getRoomVersion } from '../../homeserver/protocol/room-versions.ts';

const KILLS = 20;
/** Each round's load runs this long (ms, seeded) before the kill: long enough for every writer to get a few acknowledgements in. */
const LOAD_MS = { min: 100, max: 700 };
const MESSAGE_SENDERS = 3;
/** At most this many to-device messages in all, well under any per-device queue bound. */
const TO_DEVICE_TOTAL = 60;

const seed = Number(process.env.HEARTH_DURABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded PRNG, so that a failing run's kill moments can be replayed. */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(seed);
const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));

interface Reply {
  status: number;
  body: Buffer;
  json(): any;
}

/** The connection died: the server was killed before it answered. */
class Gone extends Error {}

/**
 * One request on a connection of its own (no keep-alive pool: a pooled socket to the killed
 * process would fail the next round's first request). Rejects with Gone when the connection dies.
 */
function request(url: string, opts: { method: string; headers?: Record<string, string>; body?: Buffer | string; tls?: boolean }): Promise<Reply> {
  const u = new URL(url);
  const lib = opts.tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method, headers: opts.headers, agent: false, rejectUnauthorized: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new Gone(err.message)));
        res.on('aborted', () => reject(new Gone('response aborted')));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body.toString('utf8')) });
        });
      },
    );
    req.on('error', (err) => reject(new Gone(err.message)));
    req.end(opts.body);
  });
}

interface User {
  userId: string;
  token: string;
  deviceId: string;
}

/** A client API call as `user`; JSON in, Reply out. */
function api(server: HearthProcess, user: User | undefined, method: string, p: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (user) headers.authorization = `Bearer ${user.token}`;
  const full = p.startsWith('/_matrix/') ? p : `/_matrix/client/v3${p}`;
  return request(`${server.url}${full}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function ok(what: string, reply: Promise<Reply>): Promise<any> {
  const r = await reply;
  assert.equal(r.status, 200, `${what}: ${r.status} ${r.body.toString('utf8').slice(0, 300)}`);
  return r.json();
}

async function register(server: HearthProcess, username: string): Promise<User> {
  const body = { username, password: 'durable password 1' };
  const first = await api(server, undefined, 'POST', '/register', body);
  const done = await ok(
    `register ${username}`,
    api(server, undefined, 'POST', '/register', { ...body, auth: { type: 'm.login.dummy', session: first.json().session } }),
  );
  return { userId: done.user_id, token: done.access_token, deviceId: done.device_id };
}

function integrityCheck(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READWRITE, (err) => {
      if (err) return reject(err);
      db.all('PRAGMA integrity_check', (err2: Error | null, rows: Array<{ integrity_check: string }>) => {
        db.close();
        if (err2) reject(err2);
        else resolve(rows.map((r) => r.integrity_check).join('\n'));
      });
    });
  });
}

/** What the server acknowledged, and for values that are overwritten, what was last attempted. */
interface Acked {
  /** Event id -> the content it was sent with (messages, state events, federated PDUs). */
  events: Map<string, { what: string; content: unknown }>;
  /** mxc URI -> the uploaded bytes. */
  media: Map<string, Buffer>;
  /** Account data type -> the last acknowledged value and the last one attempted (which may also have landed). */
  accountData: Map<string, { acked: number; attempted: number }>;
  /** Each to-device message's number. */
  toDevice: Set<number>;
  /** State key ("type|state_key") -> the last acknowledged and last attempted content. */
  state: Map<string, { acked: unknown; attempted: unknown }>;
}

const newAcked = (): Acked => ({ events: new Map(), media: new Map(), accountData: new Map(), toDevice: new Set(), state: new Map() });

let cluster: Cluster;
let hs1: HearthProcess;
let hs2: HearthProcess;
let alice: User;
let charlie: User;
let bob: string;
let hs2Key: SigningKey;
let roomId: string;
let basePowerLevels: any;
/** The federated chain: the last PDU from hs2 that hs1 acknowledged, its auth events and depth. */
let fedPrev: string;
let fedAuth: string[];
let fedDepth = 1000;
let toDeviceSent = 0;

before(async () => {
  cluster = await startCluster(2, { tmpPrefix: 'hearth-durability-mixed-' });
  [hs1, hs2] = cluster.servers as [HearthProcess, HearthProcess];
  hs2Key = decodeSigningKeyFile(fs.readFileSync(path.join(hs2.dataDir, 'signing.key'), 'utf8'));
  alice = await register(hs1, 'alice');
  charlie = await register(hs1, 'charlie');
  const bobUser = await register(hs2, 'bob');
  bob = bobUser.userId;
  roomId = (await ok('createRoom', api(hs1, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'durable', room_version: '12' }))).room_id;
  await ok('bob joins over federation', api(hs2, bobUser, 'POST', `/join/${encodeURIComponent(`#durable:${hs1.serverName}`)}`, {}));
  const state: any[] = await ok('state', api(hs1, alice, 'GET', `/rooms/${encodeURIComponent(roomId)}/state`));
  const find = (type: string, key = '') => state.find((e) => e.type === type && e.state_key === key);
  basePowerLevels = find('m.room.power_levels').content;
  fedPrev = find('m.room.member', bob).event_id;
  fedAuth = [find('m.room.power_levels').event_id, fedPrev];
  // From here the test plays hs2 with its key (hs1 keeps the keys it fetched), and hs1's outbound
  // queue to it fails and backs off: hs2's own CPU would only slow the 20 restarts down.
  await hs2.stop('SIGTERM');
});
after(async () => {
  await cluster?.close();
});

/** Writers: each loops until the server stops answering, recording what it acknowledged. */
function writers(round: number, acked: Acked, deadline: { killed: boolean }): Array<() => Promise<number>> {
  const room = encodeURIComponent(roomId);
  const loop = (step: (n: number) => Promise<void>) => async () => {
    let n = 0;
    try {
      for (; !deadline.killed; n++) await step(n);
    } catch (err) {
      if (!(err instanceof Gone)) throw err;
    }
    return n;
  };

  const message = (i: number) =>
    loop(async (n) => {
      const content = { msgtype: 'm.text', body: `m${i}-${round}-${n}` };
      const r = await ok('send', api(hs1, alice, 'PUT', `/rooms/${room}/send/m.room.message/m${i}-${round}-${n}`, content));
      acked.events.set(r.event_id, { what: `message ${content.body}`, content });
    });

  const stateChange = loop(async (n) => {
    const kinds: Array<[string, string, unknown]> = [
      ['m.room.topic', '', { topic: `topic ${round}-${n}` }],
      ['m.room.name', '', { name: `name ${round}-${n}` }],
      ['m.room.power_levels', '', { ...basePowerLevels, users: { ...basePowerLevels.users, [charlie.userId]: (round * 7 + n) % 50 } }],
      ['m.room.member', charlie.userId, { membership: n % 2 === 0 ? 'invite' : 'leave' }],
    ];
    const [type, key, content] = kinds[n % kinds.length]!;
    const slot = `${type}|${key}`;
    const prev = acked.state.get(slot);
    acked.state.set(slot, { acked: prev?.acked, attempted: content });
    const r = await ok(`state ${type}`, api(hs1, alice, 'PUT', `/rooms/${room}/state/${type}/${encodeURIComponent(key)}`, content));
    acked.state.set(slot, { acked: content, attempted: content });
    acked.events.set(r.event_id, { what: `state ${type} ${round}-${n}`, content });
  });

  const upload = loop(async (n) => {
    const bytes = Buffer.alloc(between(1, 96 * 1024));
    for (let k = 0; k < bytes.length; k++) bytes[k] = (k * 31 + round * 17 + n) & 0xff;
    bytes.writeUInt32BE(seed >>> 0, 0);
    const r = await request(`${hs1.url}/_matrix/media/v3/upload?filename=f${round}-${n}.bin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    assert.equal(r.status, 200, `upload: ${r.status} ${r.body.toString('utf8')}`);
    acked.media.set(r.json().content_uri, bytes);
  });

  const accountData = loop(async (n) => {
    const type = `org.hearth.durable.${n % 3}`;
    const value = round * 1000 + n;
    const prev = acked.accountData.get(type);
    acked.accountData.set(type, { acked: prev?.acked ?? -1, attempted: value });
    await ok('account data', api(hs1, alice, 'PUT', `/user/${encodeURIComponent(alice.userId)}/account_data/${type}`, { value }));
    acked.accountData.set(type, { acked: value, attempted: value });
  });

  const toDevice = loop(async () => {
    if (toDeviceSent >= TO_DEVICE_TOTAL) {
      await new Promise((r) => setTimeout(r, 20));
      // Something cheap that still fails once the server is gone, so that the loop ends.
      await ok('versions', api(hs1, undefined, 'GET', '/_matrix/client/versions'));
      return;
    }
    const number = toDeviceSent++;
    const body = { messages: { [charlie.userId]: { [charlie.deviceId]: { number } } } };
    await ok('to-device', api(hs1, alice, 'PUT', `/sendToDevice/org.hearth.durable/td-${number}`, body));
    acked.toDevice.add(number);
  });

  // hs2's side of the federation: PDUs from bob, each on top of the last one hs1 acknowledged.
  const federation = loop(async (n) => {
    const content = { msgtype: 'm.text', body: `fed-${round}-${n}` };
    const draft = {
      room_id: roomId,
      sender: bob,
      type: 'm.room.message',
      content,
      auth_events: fedAuth,
      prev_events: [fedPrev],
      depth: ++fedDepth,
      origin_server_ts: Date.now(),
    } as unknown as DraftPDU;
    const rv = getRoomVersion('12')!;
    const pdu = hashAndSignEvent(draft, rv, hs2.serverName, hs2Key);
    const eventId = computeEventId(pdu, rv);
    const txnPath = `/_matrix/federation/v1/send/fed-${round}-${n}`;
    const txn = { origin: hs2.serverName, origin_server_ts: Date.now(), pdus: [pdu] };
    const authorization = signRequest({ method: 'PUT', uri: txnPath, origin: hs2.serverName, destination: hs1.serverName, content: txn }, hs2Key);
    const r = await request(`https://127.0.0.1:${hs1.federationPort}${txnPath}`, {
      method: 'PUT',
      tls: true,
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify(txn),
    });
    assert.equal(r.status, 200, `federation /send: ${r.status} ${r.body.toString('utf8')}`);
    assert.deepEqual(r.json().pdus[eventId], {}, `federation /send: PDU refused: ${r.body.toString('utf8')}`);
    acked.events.set(eventId, { what: `federated PDU ${content.body}`, content });
    fedPrev = eventId;
  });

  return [...Array.from({ length: MESSAGE_SENDERS }, (_, i) => message(i)), stateChange, upload, accountData, toDevice, federation];
}

/** Every acknowledged write in `acked` is on the running hs1. */
async function verify(acked: Acked, label: string): Promise<void> {
  const room = encodeURIComponent(roomId);
  const events = [...acked.events];
  // A few at a time: a few thousand checks, but not a few thousand connections at once.
  for (let i = 0; i < events.length; i += 16) {
    await Promise.all(
      events.slice(i, i + 16).map(async ([eventId, { what, content }]) => {
        const r = await api(hs1, alice, 'GET', `/rooms/${room}/event/${encodeURIComponent(eventId)}`);
        assert.equal(r.status, 200, `${label}: acknowledged ${what} (${eventId}) lost: ${r.status} ${r.body.toString('utf8')}`);
        assert.deepEqual(r.json().content, content, `${label}: ${what} stored with other content`);
      }),
    );
  }
  for (const [uri, bytes] of acked.media) {
    const r = await request(`${hs1.url}/_matrix/client/v1/media/download/${uri.slice('mxc://'.length)}`, {
      method: 'GET',
      headers: { authorization: `Bearer ${alice.token}` },
    });
    assert.equal(r.status, 200, `${label}: acknowledged upload ${uri} lost: ${r.status}`);
    assert.ok(r.body.equals(bytes), `${label}: upload ${uri} came back with other bytes (${r.body.length} of ${bytes.length})`);
  }
  for (const [type, { acked: value, attempted }] of acked.accountData) {
    const r = await api(hs1, alice, 'GET', `/user/${encodeURIComponent(alice.userId)}/account_data/${type}`);
    // Never acknowledged (-1): the one attempt may or may not have landed.
    if (value === -1 && r.status === 404) continue;
    assert.equal(r.status, 200, `${label}: account data ${type} lost`);
    assert.ok([value, attempted].includes(r.json().value), `${label}: account data ${type} is ${r.json().value}, acknowledged ${value}`);
    // The write in flight at the kill may have landed: what is stored now is what later rounds must find, or newer.
    acked.accountData.set(type, { acked: r.json().value, attempted: r.json().value });
  }
  for (const [slot, { acked: content, attempted }] of acked.state) {
    if (content === undefined) continue;
    const [type, key] = slot.split('|') as [string, string];
    const r = await api(hs1, alice, 'GET', `/rooms/${room}/state/${type}/${encodeURIComponent(key)}`);
    assert.equal(r.status, 200, `${label}: state ${slot} gone`);
    const now = r.json();
    assert.ok(
      [content, attempted].some((c) => JSON.stringify(c) === JSON.stringify(now)),
      `${label}: state ${slot} is ${JSON.stringify(now)}, last acknowledged ${JSON.stringify(content)}`,
    );
    acked.state.set(slot, { acked: now, attempted: now });
  }
}

test(`${KILLS} kill -9s at random moments under mixed load (sends, state, uploads, account data, to-device, federation) lose no acknowledged write and leave an intact database`, async (t) => {
  t.diagnostic(`seed ${seed} (HEARTH_DURABILITY_SEED=${seed} replays it)`);
  const all = newAcked();
  const dbFile = path.join(hs1.dataDir, 'hearth.sqlite');
  /** Per round: load ms before the kill / ms to restart / ms to verify. */
  const timing: string[] = [];
  const perKind = { events: 0, media: 0, toDevice: 0 };
  for (let round = 0; round < KILLS; round++) {
    const acked = newAcked();
    // Account data and state are overwritten: carry what is known, so a later round checks against the latest.
    for (const [k, v] of all.accountData) acked.accountData.set(k, { ...v });
    for (const [k, v] of all.state) acked.state.set(k, { ...v });
    const killAfter = between(LOAD_MS.min, LOAD_MS.max);
    const deadline = { killed: false };
    const running = writers(round, acked, deadline).map((w) => w());
    await new Promise((r) => setTimeout(r, killAfter));
    await hs1.stop('SIGKILL');
    deadline.killed = true;
    // Each writer stops at its first request the dead server did not answer.
    await Promise.all(running);
    assert.equal(await integrityCheck(dbFile), 'ok', `round ${round} (seed ${seed}): integrity_check after the kill`);

    const killedAt = Date.now();
    await hs1.start();
    const startedAt = Date.now();
    await verify(acked, `round ${round} (seed ${seed}), after restart`);
    timing.push(`${killAfter}/${startedAt - killedAt}/${Date.now() - startedAt}`);
    for (const [k, v] of acked.events) all.events.set(k, v);
    for (const [k, v] of acked.media) all.media.set(k, v);
    for (const [k, v] of acked.accountData) all.accountData.set(k, v);
    for (const [k, v] of acked.state) all.state.set(k, v);
    for (const n of acked.toDevice) all.toDevice.add(n);
    perKind.events += acked.events.size;
    perKind.media += acked.media.size;
    perKind.toDevice += acked.toDevice.size;
  }
  t.diagnostic(`per round, load/restart/verify ms: ${timing.join(' ')}`);
  t.diagnostic(`acknowledged: ${perKind.events} events, ${perKind.media} uploads, ${perKind.toDevice} to-device messages, over ${KILLS} kills`);
  assert.ok(perKind.media > 0 && perKind.toDevice > 0 && all.accountData.size > 0 && all.state.size > 0, 'every kind of write was acknowledged at least once');
  const federated = [...all.events.values()].filter((e) => e.what.startsWith('federated')).length;
  assert.ok(federated > 0, 'some federation transactions were acknowledged');

  // After the last restart: everything from every round, and each to-device message delivered once.
  await verify(all, `after ${KILLS} kills (seed ${seed})`);
  const received: number[] = [];
  let since = '';
  for (;;) {
    const s = await ok('charlie sync', api(hs1, charlie, 'GET', `/sync?timeout=0${since ? `&since=${encodeURIComponent(since)}` : ''}`));
    const batch = (s.to_device?.events ?? []).filter((e: any) => e.type === 'org.hearth.durable');
    received.push(...batch.map((e: any) => e.content.number));
    if (since && batch.length === 0) break;
    since = s.next_batch;
  }
  const missing = [...all.toDevice].filter((n) => !received.includes(n));
  assert.deepEqual(missing, [], `acknowledged to-device messages never delivered (seed ${seed})`);
  assert.equal(new Set(received).size, received.length, 'no to-device message delivered twice');

  assert.equal((await hs1.stop('SIGTERM')).code, 0);
  assert.equal(await integrityCheck(dbFile), 'ok');
});
