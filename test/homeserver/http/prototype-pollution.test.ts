// Issue #13 class 1: a body key such as `__proto__` must never reach Object.prototype. Each test
// sends the hostile body over real HTTP, then checks that the process is unharmed: nothing new on
// Object.prototype, and registration and login without a device_id still work.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';

let server: TestServer;
let alice: TestUser;

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
});
after(() => server?.stop());

const PROBES = ['device_id', 'polluted', 'sessions', 'errcode', 'm.read'];
afterEach(() => {
  // Should a test fail, do not let its pollution fail the next ones too.
  for (const k of PROBES) delete (Object.prototype as Record<string, unknown>)[k];
});

function assertPrototypeClean(): void {
  for (const k of PROBES) assert.equal(Object.hasOwn(Object.prototype, k), false, `Object.prototype.${k} was set`);
}

async function assertLoginAndRegistrationWork(name: string): Promise<void> {
  const reg = await registerUser(server, name);
  assert.match(reg.deviceId, /^[A-Z]+$/);
  const login = await call(server, undefined, 'POST', '/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: name },
    password: 'correct horse battery staple',
  });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal(typeof login.body.device_id, 'string');
}

test('a __proto__ key in keys/signatures/upload does not break later registration and login without device_id', async () => {
  const res = await call(server, alice, 'POST', '/keys/signatures/upload', '{"__proto__": {"device_id": 1}}');
  assert.ok(res.status < 500, JSON.stringify(res.body));
  assertPrototypeClean();
  await assertLoginAndRegistrationWork('bob');
});

test('__proto__ and constructor keys anywhere in a body leave Object.prototype untouched (account data, to-device, send, keys)', async () => {
  const hostile = '{"__proto__": {"polluted": 1, "__proto__": {"polluted": 2}}, "constructor": {"prototype": {"polluted": 3}}}';
  await call(server, alice, 'PUT', `/user/${encodeURIComponent(alice.userId)}/account_data/m.x`, hostile);
  await call(server, alice, 'PUT', '/sendToDevice/m.x/t1', `{"messages": {"__proto__": {"__proto__": {"polluted": 1}}}}`);
  await call(server, alice, 'PUT', '/sendToDevice/m.x/t2', `{"messages": {"${alice.userId}": {"__proto__": {"polluted": 1}}}}`);
  await call(server, alice, 'POST', '/keys/query', '{"device_keys": {"__proto__": ["polluted"]}}');
  await call(server, alice, 'POST', '/keys/claim', '{"one_time_keys": {"__proto__": {"polluted": "signed_curve25519"}}}');
  await call(server, alice, 'POST', '/keys/upload', '{"one_time_keys": {"__proto__": {"polluted": 1}}}');
  await call(server, alice, 'PUT', '/room_keys/keys?version=1', '{"rooms": {"__proto__": {"sessions": {"polluted": {}}}}}');
  const created = await call(server, alice, 'POST', '/createRoom', hostile);
  if (created.status === 200) {
    const room = encodeURIComponent(created.body.room_id);
    await call(server, alice, 'PUT', `/rooms/${room}/send/m.room.message/t3`, hostile);
    await call(server, alice, 'POST', `/rooms/${room}/receipt/__proto__/$x`, '{}');
    await call(server, alice, 'POST', `/rooms/${room}/receipt/m.read/__proto__`, '{}');
  }
  const sync = await call(server, alice, 'GET', '/sync');
  assert.equal(sync.status, 200);
  assertPrototypeClean();
  await assertLoginAndRegistrationWork('carol');
});

test('a __proto__ key in power_level_content_override stays a key: the room is created with the default levels', async () => {
  const created = await call(server, alice, 'POST', '/createRoom', '{"power_level_content_override": {"__proto__": {"users_default": 100}}}');
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const pl = await call(server, alice, 'GET', `/rooms/${encodeURIComponent(created.body.room_id)}/state/m.room.power_levels/`);
  assert.equal(pl.status, 200);
  assert.equal(pl.body.users_default, 0);
  assert.deepEqual(Object.getOwnPropertyDescriptor(pl.body, '__proto__')?.value, { users_default: 100 });
  assertPrototypeClean();
});
