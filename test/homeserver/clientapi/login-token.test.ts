// POST /v1/login/get_token (login_token.yaml) and m.login.token login: a signed-in user, after
// entering the password again, mints a single-use, two-minute token that signs another device in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';
import { PASSWORD } from '../../helpers/sdk.ts';
import { LOGIN_TOKEN_BURST } from '../../../homeserver/clientapi/login-token.ts';

const GET_TOKEN = '/_matrix/client/v1/login/get_token';

/** The UIA dance: a 401 with a session, then the password. */
async function mint(server: TestServer, user: TestUser, password = PASSWORD) {
  const first = await checked(server, user, 'POST', GET_TOKEN, {});
  if (first.status !== 401) return first;
  assert.deepEqual(first.body.flows, [{ stages: ['m.login.password'] }]);
  return checked(server, user, 'POST', GET_TOKEN, {
    auth: { type: 'm.login.password', session: first.body.session, identifier: { type: 'm.id.user', user: user.userId }, password },
  });
}

const loginWith = (server: TestServer, token: string) => checked(server, undefined, 'POST', '/login', { type: 'm.login.token', token });

test('/login lists m.login.token with get_login_token, and /capabilities enables m.get_login_token for a user with a password', async () => {
  const server = await startTestServer();
  try {
    const ana = await registerUser(server, 'ana', PASSWORD);
    const flows = (await checked(server, undefined, 'GET', '/login')).body.flows as Array<Record<string, unknown>>;
    assert.deepEqual(
      flows.find((f) => f.type === 'm.login.token'),
      { type: 'm.login.token', get_login_token: true },
    );
    const caps = await checked(server, ana, 'GET', '/capabilities');
    assert.deepEqual(caps.body.capabilities['m.get_login_token'], { enabled: true });
  } finally {
    await server.stop();
  }
});

test('with login_via_existing_session off, get_token is refused 400 and neither /login nor /capabilities offers it', async () => {
  const server = await startTestServer({ loginViaExistingSession: false });
  try {
    const ana = await registerUser(server, 'ana', PASSWORD);
    const flows = (await checked(server, undefined, 'GET', '/login')).body.flows as Array<Record<string, unknown>>;
    assert.equal(flows.find((f) => f.type === 'm.login.token')?.get_login_token, undefined);
    assert.deepEqual((await checked(server, ana, 'GET', '/capabilities')).body.capabilities['m.get_login_token'], { enabled: false });
    const res = await checked(server, ana, 'POST', GET_TOKEN, {});
    assert.equal(res.status, 400);
  } finally {
    await server.stop();
  }
});

test('get_token needs the password every time, and its token logs a new device in exactly once', async () => {
  const server = await startTestServer();
  try {
    const ana = await registerUser(server, 'ana', PASSWORD);
    const wrong = await mint(server, ana, 'not the password');
    assert.equal(wrong.status, 401, 'a wrong password completes nothing');
    assert.equal(wrong.body.errcode, 'M_FORBIDDEN');
    const res = await mint(server, ana);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.expires_in_ms, 120_000);
    const login = await loginWith(server, res.body.login_token as string);
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.user_id, ana.userId);
    assert.notEqual(login.body.device_id, ana.deviceId, 'a new device');
    const again = await loginWith(server, res.body.login_token as string);
    assert.deepEqual([again.status, again.body.errcode], [403, 'M_FORBIDDEN'], 'single use');
    // A second token asks for the password again: no UIA session carries over.
    const second = await checked(server, ana, 'POST', GET_TOKEN, {});
    assert.equal(second.status, 401);
    assert.deepEqual(second.body.completed ?? [], []);
  } finally {
    await server.stop();
  }
});

test('a login token is refused once its two minutes are over', async () => {
  let now = Date.now();
  const server = await startTestServer({ tokenClock: () => now });
  try {
    const ana = await registerUser(server, 'ana', PASSWORD);
    const res = await mint(server, ana);
    now += 120_000;
    const login = await loginWith(server, res.body.login_token as string);
    assert.deepEqual([login.status, login.body.errcode], [403, 'M_FORBIDDEN']);
  } finally {
    await server.stop();
  }
});

test('minting login tokens is rate limited per user, whatever the prefix', async () => {
  const server = await startTestServer();
  try {
    const ana = await registerUser(server, 'ana', PASSWORD);
    for (let i = 0; i < LOGIN_TOKEN_BURST; i++) assert.equal((await mint(server, ana)).status, 200);
    const over = await checked(server, ana, 'POST', GET_TOKEN.replace('/v1/', '/v3/'), {}, { unspecified: true });
    assert.equal(over.status, 429);
    assert.equal(over.body.errcode, 'M_LIMIT_EXCEEDED');
    assert.ok(over.body.retry_after_ms > 0);
  } finally {
    await server.stop();
  }
});
