// Bad input over real HTTP: each case gets the spec's standard error (status, errcode, error) and
// the server keeps serving. Every response is validated against the spec's OpenAPI schema.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { allMessages, assertError, assertStillServing, checked, validate } from '../../helpers/checked-call.ts';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let roomId: string;
const room = () => encodeURIComponent(roomId);

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  bob = await registerUser(server, 'bob');
  const created = await checked(server, alice, 'POST', '/createRoom', { preset: 'public_chat' });
  assert.equal(created.status, 200);
  roomId = created.body.room_id;
  assert.equal((await checked(server, bob, 'POST', `/rooms/${room()}/join`, {})).status, 200);
});
after(() => server?.stop());

describe('request bodies', () => {
  test('a body that is not JSON is 400 M_NOT_JSON (createRoom, send, login)', async () => {
    assertError(await checked(server, alice, 'POST', '/createRoom', undefined, { raw: '{"name": "x",' }), 400, 'M_NOT_JSON');
    assertError(await checked(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/nj1`, undefined, { raw: 'not json' }), 400, 'M_NOT_JSON');
    assertError(await checked(server, undefined, 'POST', '/login', undefined, { raw: '\u00ff\u0000' }), 400, 'M_NOT_JSON');
    await assertStillServing(server, alice);
  });

  test('JSON that is not an object is 400 M_BAD_JSON, not M_NOT_JSON (it is valid JSON)', async () => {
    assertError(await checked(server, alice, 'POST', '/createRoom', undefined, { raw: '[1, 2]' }), 400, 'M_BAD_JSON');
    assertError(await checked(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/nj2`, undefined, { raw: '"text"' }), 400, 'M_BAD_JSON');
    await assertStillServing(server, alice);
  });

  test('createRoom with invite: "x" or name: 5 is 400 M_BAD_JSON', async () => {
    assertError(await checked(server, alice, 'POST', '/createRoom', { invite: 'x' }), 400, 'M_BAD_JSON');
    assertError(await checked(server, alice, 'POST', '/createRoom', { name: 5 }), 400, 'M_BAD_JSON');
    assertError(await checked(server, alice, 'POST', '/createRoom', { initial_state: [{ type: 5, content: {} }] }), 400, 'M_BAD_JSON');
    await assertStillServing(server, alice);
  });

  // Found by test/fuzz/client-bodies.fuzz.test.ts: `group_by: false` was a 500 (".map is not a function").
  test('search with groupings or event_context of the wrong shape is 400 M_BAD_JSON, not 500', async () => {
    assert.equal((await checked(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/srch1`, { msgtype: 'm.text', body: 'martians' })).status, 200);
    const search = (extra: Record<string, unknown>) =>
      checked(server, alice, 'POST', '/search', { search_categories: { room_events: { search_term: 'martians', ...extra } } });
    for (const groupings of [
      false,
      'room_id',
      [],
      { group_by: false },
      { group_by: {} },
      { group_by: [null] },
      { group_by: ['room_id'] },
      { group_by: [{ key: 5 }] },
    ]) {
      assertError(await search({ groupings }), 400, 'M_BAD_JSON');
    }
    for (const context of [true, [], { before_limit: 'five' }, { after_limit: -1 }, { before_limit: 1.5 }, { after_limit: {} }, { include_profile: 'yes' }]) {
      assertError(await search({ event_context: context }), 400, 'M_BAD_JSON');
    }
    // The well-formed ones still work.
    const grouped = await search({ groupings: { group_by: [{ key: 'room_id' }] }, event_context: { before_limit: 1, after_limit: 1, include_profile: true } });
    assert.equal(grouped.status, 200, JSON.stringify(grouped.body));
    assert.equal(grouped.body.search_categories.room_events.results.length, 1);
    await assertStillServing(server, alice);
  });

  test('login with a numeric password, a string identifier or a numeric user is 400 M_BAD_JSON', async () => {
    const login = (body: unknown) => checked(server, undefined, 'POST', '/login', body);
    assertError(await login({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 12345 }), 400, 'M_BAD_JSON');
    assertError(await login({ type: 'm.login.password', identifier: 'alice', password: 'pw' }), 400, 'M_BAD_JSON');
    assertError(await login({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 5 }, password: 'pw' }), 400, 'M_BAD_JSON');
    assertError(await login({ type: 5 }), 400, 'M_BAD_JSON');
    await assertStillServing(server, alice);
  });

  test('an event over 65,536 bytes is 413 M_TOO_LARGE and is not stored', async () => {
    const res = await checked(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/big1`, { msgtype: 'm.text', body: 'x'.repeat(70_000) });
    assertError(res, 413, 'M_TOO_LARGE');
    const state = await checked(server, alice, 'PUT', `/rooms/${room()}/state/m.big/k`, { blob: 'y'.repeat(66_000) });
    assertError(state, 413, 'M_TOO_LARGE');
    const events = await allMessages(server, alice, roomId);
    assert.ok(!events.some((e) => e.content?.body?.length >= 70_000 || e.type === 'm.big'));
    await assertStillServing(server, alice);
  });

  test('a request body over the 1 MiB limit is 413 M_TOO_LARGE', async () => {
    const res = await checked(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/huge1`, { body: 'z'.repeat(2 * 1024 * 1024) });
    assertError(res, 413, 'M_TOO_LARGE');
    await assertStillServing(server, alice);
  });
});

describe('access tokens', () => {
  test('no access token is 401 M_MISSING_TOKEN', async () => {
    assertError(await checked(server, undefined, 'GET', '/account/whoami'), 401, 'M_MISSING_TOKEN');
    assertError(await checked(server, undefined, 'POST', '/createRoom', {}), 401, 'M_MISSING_TOKEN');
    await assertStillServing(server, alice);
  });

  test('an unknown access token is 401 M_UNKNOWN_TOKEN', async () => {
    const stranger: TestUser = { userId: '@nobody:localhost', deviceId: 'X', accessToken: 'hat_not_a_real_token' };
    assertError(await checked(server, stranger, 'GET', '/account/whoami'), 401, 'M_UNKNOWN_TOKEN');
    assertError(await checked(server, undefined, 'GET', '/account/whoami?access_token=nope'), 401, 'M_UNKNOWN_TOKEN');
    await assertStillServing(server, alice);
  });
});

describe('transaction ids', () => {
  test('a reused txnId returns the same event_id and creates no second event', async () => {
    const path = `/rooms/${room()}/send/m.room.message/txn-reuse-1`;
    const first = await checked(server, alice, 'PUT', path, { msgtype: 'm.text', body: 'once only' });
    assert.equal(first.status, 200);
    const again = await checked(server, alice, 'PUT', path, { msgtype: 'm.text', body: 'once only' });
    assert.equal(again.status, 200);
    assert.equal(again.body.event_id, first.body.event_id);
    // A concurrent retry too.
    const racing = await Promise.all([1, 2, 3].map(() => checked(server, alice, 'PUT', path, { msgtype: 'm.text', body: 'once only' })));
    for (const r of racing) assert.equal(r.body.event_id, first.body.event_id);
    // The same txnId from another user is a different transaction.
    const bobs = await checked(server, bob, 'PUT', path, { msgtype: 'm.text', body: 'once only' });
    assert.notEqual(bobs.body.event_id, first.body.event_id);
    const events = await allMessages(server, alice, roomId);
    const fromAlice = events.filter((e) => e.content?.body === 'once only' && e.sender === alice.userId);
    assert.deepEqual(
      fromAlice.map((e) => e.event_id),
      [first.body.event_id],
    );
  });

  test('a txnId is scoped to its endpoint: another event type, another room or /redact is a new request', async () => {
    // client-server-api "Transaction identifiers": a retransmission has the same id *and the same path*.
    const txn = 'txn-scope-1';
    const message = await checked(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/${txn}`, { msgtype: 'm.text', body: 'scoped' });
    assert.equal(message.status, 200);
    const other = await checked(server, alice, 'PUT', `/rooms/${room()}/send/org.example.ping/${txn}`, { n: 1 });
    assert.equal(other.status, 200);
    const created = await checked(server, alice, 'POST', '/createRoom', {});
    const elsewhere = await checked(server, alice, 'PUT', `/rooms/${encodeURIComponent(created.body.room_id)}/send/m.room.message/${txn}`, {
      msgtype: 'm.text',
      body: 'scoped',
    });
    assert.equal(elsewhere.status, 200);
    const redaction = await checked(server, alice, 'PUT', `/rooms/${room()}/redact/${encodeURIComponent(other.body.event_id)}/${txn}`, {});
    assert.equal(redaction.status, 200);
    const ids = [message, other, elsewhere, redaction].map((r) => r.body.event_id);
    assert.equal(new Set(ids).size, 4, `four requests, four events: ${ids.join(' ')}`);
    const target = await checked(server, alice, 'GET', `/rooms/${room()}/event/${encodeURIComponent(other.body.event_id)}`);
    assert.deepEqual(target.body.content, {}, 'the redaction was made, not answered with the message');
    // Each of them repeated is still answered with its own first event.
    const again = await checked(server, alice, 'PUT', `/rooms/${room()}/redact/${encodeURIComponent(other.body.event_id)}/${txn}`, {});
    assert.equal(again.body.event_id, redaction.body.event_id);
    const messageAgain = await checked(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/${txn}`, { msgtype: 'm.text', body: 'scoped' });
    assert.equal(messageAgain.body.event_id, message.body.event_id);
  });
});

describe('endpoints and methods', () => {
  test('an unknown endpoint is 404 M_UNRECOGNIZED', async () => {
    assertError(await checked(server, alice, 'GET', '/no/such/endpoint', undefined, { unspecified: true }), 404, 'M_UNRECOGNIZED');
    assertError(await checked(server, undefined, 'POST', '/_matrix/client/v9/login', {}, { unspecified: true }), 404, 'M_UNRECOGNIZED');
    await assertStillServing(server, alice);
  });

  test('a known endpoint with the wrong method is 405 M_UNRECOGNIZED (client-server-api "Common error codes")', async () => {
    assertError(await checked(server, alice, 'DELETE', '/account/whoami', undefined, { unspecified: true }), 405, 'M_UNRECOGNIZED');
    assertError(await checked(server, alice, 'GET', '/createRoom', undefined, { unspecified: true }), 405, 'M_UNRECOGNIZED');
    assertError(await checked(server, undefined, 'PUT', '/_matrix/client/versions', {}, { unspecified: true }), 405, 'M_UNRECOGNIZED');
    // A method no router implements at all (koa-router says 501) is still a wrong method here.
    const patch = await checked(server, alice, 'PATCH', '/account/whoami', {}, { unspecified: true });
    assertError(patch, 405, 'M_UNRECOGNIZED');
    assert.match(patch.headers.get('allow') ?? '', /GET/);
    assertError(await checked(server, alice, 'PATCH', '/no/such/endpoint', {}, { unspecified: true }), 404, 'M_UNRECOGNIZED');
    await assertStillServing(server, alice);
  });
});

describe('room rules', () => {
  test('a member below state_default (50) setting m.room.power_levels or m.room.name is 403 M_FORBIDDEN', async () => {
    const pl = await checked(server, alice, 'GET', `/rooms/${room()}/state/m.room.power_levels`);
    assert.equal(pl.body.state_default, 50);
    const raise = { ...pl.body, users: { ...pl.body.users, [bob.userId]: 100 } };
    assertError(await checked(server, bob, 'PUT', `/rooms/${room()}/state/m.room.power_levels`, raise), 403, 'M_FORBIDDEN');
    assertError(await checked(server, bob, 'PUT', `/rooms/${room()}/state/m.room.name`, { name: 'mine now' }), 403, 'M_FORBIDDEN');
    assertError(await checked(server, bob, 'PUT', `/rooms/${room()}/state/m.custom.state/k`, { a: 1 }), 403, 'M_FORBIDDEN');
    const after = await checked(server, bob, 'GET', `/rooms/${room()}/state/m.room.power_levels`);
    assert.equal(after.body.users?.[bob.userId], undefined);
    await assertStillServing(server, bob);
  });

  test('an unsupported room_version is 400 M_UNSUPPORTED_ROOM_VERSION', async () => {
    assertError(await checked(server, alice, 'POST', '/createRoom', { room_version: '999' }), 400, 'M_UNSUPPORTED_ROOM_VERSION');
    assertError(await checked(server, alice, 'POST', '/createRoom', { room_version: '1' }), 400, 'M_UNSUPPORTED_ROOM_VERSION');
    await assertStillServing(server, alice);
  });

  test('createRoom whose parameters break the auth rules is 400 M_INVALID_ROOM_STATE (create_room.yaml)', async () => {
    const bad = [
      { power_level_content_override: { users: 'x' } },
      { power_level_content_override: { ban: 'high' } },
      { initial_state: [{ type: 'm.room.create', state_key: '', content: {} }] },
    ];
    for (const body of bad) assertError(await checked(server, alice, 'POST', '/createRoom', body), 400, 'M_INVALID_ROOM_STATE');
    await assertStillServing(server, alice);
  });

  test('createRoom with a taken room_alias_name is 400 M_ROOM_IN_USE', async () => {
    assert.equal((await checked(server, alice, 'POST', '/createRoom', { room_alias_name: 'taken' })).status, 200);
    assertError(await checked(server, bob, 'POST', '/createRoom', { room_alias_name: 'taken' }), 400, 'M_ROOM_IN_USE');
    await assertStillServing(server, bob);
  });

  // The seed's M_BAD_PAGINATION ("bad pagination query parameters"): the current spec names no
  // code for a malformed token, and the issue asks for the seed's.
  test('a malformed /messages or /events pagination token is 400 M_BAD_PAGINATION', async () => {
    for (const token of ['garbage', 's-1', 'sabc']) {
      const res = await checked(server, alice, 'GET', `/rooms/${room()}/messages?dir=b&from=${token}`);
      assertError(res, 400, 'M_BAD_PAGINATION');
    }
    assertError(await checked(server, alice, 'GET', `/rooms/${room()}/messages?dir=b&to=nope`), 400, 'M_BAD_PAGINATION');
    assertError(await checked(server, alice, 'GET', `/rooms/${room()}/messages?dir=x`), 400, 'M_INVALID_PARAM');
    assertError(await checked(server, alice, 'GET', '/events?from=garbage&timeout=0', undefined, { unspecified: true }), 400, 'M_BAD_PAGINATION');
    await assertStillServing(server, alice);
  });

  test('a well-formed token still works after the malformed ones: /messages pages, legacy /events long-polls', async () => {
    const page = await checked(server, alice, 'GET', `/rooms/${room()}/messages?dir=b&limit=1`);
    assert.equal(page.status, 200);
    const next = await checked(server, alice, 'GET', `/rooms/${room()}/messages?dir=b&limit=1&from=${page.body.end}`);
    assert.equal(next.status, 200);
    const now = await checked(server, alice, 'GET', '/events?timeout=0', undefined, { unspecified: true });
    assert.equal(now.status, 200);
    // Nothing new yet: the poll waits, wakes on the send, and returns it.
    const poll = checked(server, alice, 'GET', `/events?from=${now.body.end}&timeout=5000`, undefined, { unspecified: true });
    await new Promise((r) => setTimeout(r, 100));
    const sent = await checked(server, bob, 'PUT', `/rooms/${room()}/send/m.room.message/poll1`, { msgtype: 'm.text', body: 'wake up' });
    const woke = await poll;
    assert.equal(woke.status, 200, JSON.stringify(woke.body));
    assert.ok(woke.body.chunk.some((e: any) => e.event_id === sent.body.event_id));
  });

  test('a /messages filter that is not JSON is 400 M_NOT_JSON, one of the wrong shape 400 M_BAD_JSON', async () => {
    assertError(await checked(server, alice, 'GET', `/rooms/${room()}/messages?filter=notjson`), 400, 'M_NOT_JSON');
    assertError(await checked(server, alice, 'GET', `/rooms/${room()}/messages?filter=5`), 400, 'M_BAD_JSON');
    assertError(
      await checked(server, alice, 'GET', `/rooms/${room()}/messages?filter=${encodeURIComponent('{"types": "m.room.message"}')}`),
      400,
      'M_BAD_JSON',
    );
    await assertStillServing(server, alice);
  });
});

describe('registration', () => {
  async function register(s: TestServer, body: Record<string, unknown>) {
    return checked(s, undefined, 'POST', '/register', body);
  }

  test('a user id over 255 bytes is 400 M_INVALID_USERNAME', async () => {
    // '@' + localpart + ':localhost' is 256 bytes.
    const localpart = 'a'.repeat(256 - '@:localhost'.length);
    assertError(await register(server, { username: localpart, password: 'pw-long-enough' }), 400, 'M_INVALID_USERNAME');
    // One byte shorter is allowed.
    const ok = await register(server, { username: localpart.slice(1), password: 'pw-long-enough' });
    assert.equal(ok.status, 401, 'a valid 255-byte id goes on to user-interactive auth');
    await assertStillServing(server, alice);
  });

  test('invalid localpart characters are 400 M_INVALID_USERNAME', async () => {
    for (const username of ['has space', 'colon:here', 'émile', '', '@x:other.server']) {
      assertError(await register(server, { username, password: 'pw' }), 400, 'M_INVALID_USERNAME');
    }
    await assertStillServing(server, alice);
  });

  test('a taken username is 400 M_USER_IN_USE, also in another case', async () => {
    assertError(await register(server, { username: 'alice', password: 'pw' }), 400, 'M_USER_IN_USE');
    assertError(await register(server, { username: 'ALICE', password: 'pw' }), 400, 'M_USER_IN_USE');
    assertError(await checked(server, undefined, 'GET', '/register/available?username=alice'), 400, 'M_USER_IN_USE');
    await assertStillServing(server, alice);
  });

  test('closed registration is 403 M_FORBIDDEN', async () => {
    const closed = await startTestServer({ registration: 'closed' });
    try {
      assertError(await register(closed, { username: 'carol', password: 'pw' }), 403, 'M_FORBIDDEN');
      assertError(await register(closed, { username: 'carol', password: 'pw', auth: { type: 'm.login.dummy' } }), 403, 'M_FORBIDDEN');
      await assertStillServing(closed);
    } finally {
      await closed.stop();
    }
  });

  test('token registration: the 401 offers m.login.registration_token, a wrong token fails, the right one registers', async () => {
    const gated = await startTestServer({ registration: 'token', registrationTokens: ['letmein'] });
    try {
      const first = await register(gated, { username: 'dave', password: 'pw-dave-1' });
      assert.equal(first.status, 401);
      assert.deepEqual(first.body.flows, [{ stages: ['m.login.registration_token'] }]);
      const session = first.body.session;
      assert.equal(typeof session, 'string');
      // A dummy stage is not offered.
      const dummy = await register(gated, { username: 'dave', password: 'pw-dave-1', auth: { type: 'm.login.dummy', session } });
      assert.equal(dummy.status, 401);
      assert.ok(dummy.body.errcode, 'a stage outside every flow is an error');
      const wrong = await register(gated, { username: 'dave', password: 'pw-dave-1', auth: { type: 'm.login.registration_token', token: 'guess', session } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.errcode, 'M_FORBIDDEN');
      assert.deepEqual(wrong.body.completed ?? [], []);
      const validity = await checked(gated, undefined, 'GET', '/_matrix/client/v1/register/m.login.registration_token/validity?token=guess');
      assert.deepEqual(validity.body, { valid: false });
      const right = await register(gated, { username: 'dave', password: 'pw-dave-1', auth: { type: 'm.login.registration_token', token: 'letmein', session } });
      assert.equal(right.status, 200, JSON.stringify(right.body));
      assert.equal(right.body.user_id, '@dave:localhost');
      await assertStillServing(gated, { userId: right.body.user_id, accessToken: right.body.access_token, deviceId: right.body.device_id });
    } finally {
      await gated.stop();
    }
  });
});

describe('rate limiting', () => {
  test('past the burst, writes get 429 M_LIMIT_EXCEEDED with retry_after_ms and Retry-After', async () => {
    const limited = await startTestServer({ rateLimit: { perSecond: 1, burst: 3 } });
    try {
      // Registration itself is two writes from this address; log in separately so the user has its own bucket.
      const carol = await registerUser(limited, 'carol');
      const statuses: number[] = [];
      let refused: Awaited<ReturnType<typeof checked>> | undefined;
      for (let i = 0; i < 6; i++) {
        const res = await checked(limited, carol, 'PUT', `/user/${encodeURIComponent(carol.userId)}/account_data/m.test`, { i });
        statuses.push(res.status);
        if (res.status === 429) refused ??= res;
      }
      assert.ok(refused, `expected a 429 among ${statuses.join(',')}`);
      assert.ok(
        statuses.slice(0, 3).every((s) => s === 200),
        `the burst of 3 passes: ${statuses.join(',')}`,
      );
      const body = assertError(refused, 429, 'M_LIMIT_EXCEEDED');
      assert.ok(Number.isInteger(body.retry_after_ms) && body.retry_after_ms > 0 && body.retry_after_ms <= 1000, `retry_after_ms ${body.retry_after_ms}`);
      assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
      // Reads are not limited; the server still serves.
      await assertStillServing(limited, carol);
    } finally {
      await limited.stop();
    }
  });
});

describe('HTTP layer', () => {
  /** A raw request, so that the Host header can be anything. */
  function rawRequest(
    method: string,
    path: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    const url = new URL(server.url);
    return new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('a Host header that is not ours is refused with 403 M_FORBIDDEN (DNS rebinding)', async () => {
    for (const host of ['evil.example', 'evil.example:8008', 'localhost.evil.example']) {
      const res = await rawRequest('GET', '/_matrix/client/versions', { host });
      assert.equal(res.status, 403, `Host ${host}`);
      const body = JSON.parse(res.body);
      validate('GET', '/_matrix/client/versions', 403, body, true);
      assert.equal(body.errcode, 'M_FORBIDDEN');
    }
    const ours = await rawRequest('GET', '/_matrix/client/versions', { host: `localhost:${new URL(server.url).port}` });
    assert.equal(ours.status, 200);
    await assertStillServing(server, alice);
  });

  test('an OPTIONS preflight gets the spec CORS headers without auth, and a GET carries Allow-Origin *', async () => {
    const before = (await allMessages(server, alice, roomId)).length;
    // With a valid token and a body, so that running the endpoint's logic would send an event.
    const res = await fetch(`${server.url}/_matrix/client/v3/rooms/${room()}/send/m.room.message/preflight1`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, content-type',
        authorization: `Bearer ${alice.accessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ msgtype: 'm.text', body: 'preflight' }),
    });
    assert.ok(res.status === 200 || res.status === 204, `preflight status ${res.status}`);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const methods = (res.headers.get('access-control-allow-methods') ?? '').split(/,\s*/);
    for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']) assert.ok(methods.includes(m), `Allow-Methods has ${m}`);
    const allowHeaders = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
    for (const h of ['x-requested-with', 'content-type', 'authorization']) assert.ok(allowHeaders.includes(h), `Allow-Headers has ${h}`);
    // The preflight ran no endpoint logic: nothing was sent.
    assert.equal((await allMessages(server, alice, roomId)).length, before);

    const get = await checked(server, alice, 'GET', '/account/whoami', undefined, { headers: { origin: 'https://app.example' } });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('access-control-allow-origin'), '*');
    const err = await checked(server, undefined, 'GET', '/account/whoami', undefined, { headers: { origin: 'https://app.example' } });
    assert.equal(err.status, 401);
    assert.equal(err.headers.get('access-control-allow-origin'), '*', 'errors carry CORS headers too, or a browser cannot read them');
  });
});
