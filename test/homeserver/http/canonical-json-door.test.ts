// Issue #13 class 2: what canonical JSON cannot hold, or nests too deep, is refused at the door
// with 400 M_BAD_JSON (rooms/fragments/v6-canonical-json.md), on every path that builds a local
// event, so that nothing stored can break a later answer (a member's /sync above all).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, startTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { MAX_JSON_DEPTH } from '../../../homeserver/protocol/bounded-json.ts';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let roomId: string;
const room = () => encodeURIComponent(roomId);

before(async () => {
  server = await startTestServer();
  alice = await registerUser(server, 'alice');
  bob = await registerUser(server, 'bob');
  const created = await call(server, alice, 'POST', '/createRoom', { preset: 'public_chat' });
  roomId = created.body.room_id;
  assert.equal((await call(server, bob, 'POST', `/rooms/${room()}/join`, {})).status, 200);
});
after(() => server?.stop());

const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
let txn = 0;

function assertBadJson(res: { status: number; body: any }, what: string): void {
  assert.equal(res.status, 400, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.errcode, 'M_BAD_JSON', what);
}

test('content nested a few thousand levels is refused, and every member can still /sync', async () => {
  // Before the door check, some of these depths were stored (the send path's recursion fit) and
  // then every member's /sync failed serialising them, deeper in the stack: 500, for good.
  for (const levels of [500, 1000, 1500, 2000, 2500, 3000, 5000]) {
    const sent = await call(
      server,
      alice,
      'PUT',
      `/rooms/${room()}/send/m.room.message/deep${txn++}`,
      `{"msgtype":"m.text","body":"x","deep":${nested(levels)}}`,
    );
    assertBadJson(sent, `send ${levels} levels`);
  }
  for (const user of [alice, bob]) {
    const sync = await call(server, user, 'GET', '/sync');
    assert.equal(sync.status, 200, JSON.stringify(sync.body));
  }
});

test(`any client body nested deeper than ${MAX_JSON_DEPTH} levels is 400 M_BAD_JSON (account data, to-device, filters, keys)`, async () => {
  const deep = nested(MAX_JSON_DEPTH + 1);
  const me = encodeURIComponent(alice.userId);
  assertBadJson(await call(server, alice, 'PUT', `/user/${me}/account_data/m.deep`, deep), 'account data');
  assertBadJson(await call(server, alice, 'PUT', `/user/${me}/rooms/${room()}/account_data/m.deep`, deep), 'room account data');
  assertBadJson(await call(server, alice, 'PUT', `/sendToDevice/m.deep/${txn++}`, deep), 'to-device');
  assertBadJson(await call(server, alice, 'POST', `/user/${me}/filter`, deep), 'filter');
  assertBadJson(await call(server, alice, 'POST', '/keys/upload', deep), 'keys');
  assertBadJson(await call(server, alice, 'GET', `/sync?filter=${encodeURIComponent(deep)}`), 'inline filter');
});

// Numbers and strings canonical JSON cannot hold (appendices.md "Canonical JSON"): the raw JSON
// text of a value, sent inside event content.
const BAD_VALUES: Array<[string, string]> = [
  ['a float', '1.5'],
  ['2^53', '9007199254740992'],
  ['-2^53', '-9007199254740992'],
  ['1e999 (infinity)', '1e999'],
  ['a lone high surrogate', '"\\ud800"'],
  ['a lone low surrogate', '"a\\udc00b"'],
];

for (const [name, raw] of BAD_VALUES) {
  test(`${name} in event content is 400 M_BAD_JSON on send, state, createRoom and power_level_content_override`, async () => {
    assertBadJson(await call(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/v${txn++}`, `{"msgtype":"m.text","body":"x","v":${raw}}`), 'send');
    assertBadJson(await call(server, alice, 'PUT', `/rooms/${room()}/state/m.custom/k`, `{"v":[${raw}]}`), 'state');
    assertBadJson(
      await call(server, alice, 'POST', '/createRoom', `{"initial_state":[{"type":"m.custom","state_key":"","content":{"v":${raw}}}]}`),
      'initial_state',
    );
    assertBadJson(await call(server, alice, 'POST', '/createRoom', `{"power_level_content_override":{"x":{"v":${raw}}}}`), 'power_level_content_override');
  });
}

test('a lone surrogate in a content key, a displayname or a redaction reason is 400 M_BAD_JSON', async () => {
  assertBadJson(await call(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/k${txn++}`, '{"msgtype":"m.text","body":"x","\\udfff":1}'), 'key');
  const me = encodeURIComponent(alice.userId);
  assertBadJson(await call(server, alice, 'PUT', `/profile/${me}/displayname`, '{"displayname":"al\\ud83dce"}'), 'displayname');
  const sent = await call(server, alice, 'PUT', `/rooms/${room()}/send/m.room.message/r${txn++}`, { msgtype: 'm.text', body: 'x' });
  assert.equal(sent.status, 200);
  const redact = await call(server, alice, 'PUT', `/rooms/${room()}/redact/${encodeURIComponent(sent.body.event_id)}/r${txn++}`, '{"reason":"\\udc00"}');
  assertBadJson(redact, 'redaction reason');
  assert.equal((await call(server, bob, 'GET', '/sync')).status, 200);
});

test('integers at ±(2^53-1) and astral characters are accepted', async () => {
  const ok = await call(
    server,
    alice,
    'PUT',
    `/rooms/${room()}/send/m.room.message/ok${txn++}`,
    '{"msgtype":"m.text","body":"\\ud83d\\ude00","a":9007199254740991,"b":-9007199254740991,"c":-0}',
  );
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
});
