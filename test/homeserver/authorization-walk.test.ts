// Issue #13, "It must show" 3: every routed operation is walked without a token, with a junk
// token, and with user B's token on user A's resources and on A's private room, which B is not in.
// The operations come from the routers themselves (test/helpers/route-table.ts), so a new route is
// walked the day it is added, and this test fails until the route is classified below.
//
// What fails the test: an authenticated operation that answers without a token (or with a junk
// one); an operation on A's things that B's token is not refused; any answer to B that carries
// A's event ids or the secret written in A's room and account; anything A can read that changed
// after B's walk; any 500; any error that is not the standard {errcode, error} body. The same for
// the federation listener: no X-Matrix -> 401, a server that is not in A's room -> 403 on its reads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { clientOperations, routerOperations, specAccess, type RoutedOperation } from '../helpers/route-table.ts';
import { PASSWORD, fillPath, freshTxnId, malformed, send, setUpOwner, type Answer, type Fixture } from '../helpers/route-fixture.ts';
import { signRequest } from '../../homeserver/federation/request-auth.ts';
import { decodeSigningKeyFile, type SigningKey } from '../../homeserver/protocol/signing-key.ts';

/** The caller of one walked request: B, or a throwaway user for the operations that end a session. */
interface Caller {
  user: TestUser;
  password: string;
}

/**
 * What B's token must get on each operation, with A's ids in the path:
 * - refused: a 4xx (A's room, A's account data, A's devices, backups, filters, tags...);
 * - own: the operation acts on B's own things (any answer but a 500, still nothing of A's);
 * - readable: B may read it by the spec's design (A's public profile, the room's alias, media);
 * - ends-session: own, but it logs out or deactivates, so it runs last with a throwaway user.
 */
type Outcome = 'refused' | 'own' | 'readable' | 'ends-session';

interface Rule {
  b: Outcome;
  /** Only for an operation the spec does not have: whether it needs a token. */
  public?: boolean;
  body?: (f: Fixture, c: Caller) => unknown;
  query?: (f: Fixture) => string;
  /** Walk it also with B's own user id in the path (B acting as B in A's room), expecting the same. */
  asSelfToo?: boolean;
  /** The part of B's answer to search for A's secrets, when the answer echoes B's request. */
  answer?: (body: any) => unknown;
}

const uia = (c: Caller) => ({ type: 'm.login.password', identifier: { type: 'm.id.user', user: c.user.userId }, password: c.password });
const media = (b: Outcome, query?: Rule['query']): Rule => ({ b, ...(query ? { query } : {}) });
const noWait = () => 'timeout_ms=0';
const backup = (f: Fixture) => `version=${f.backupVersion}`;

// Keys: method and path with the client prefix cut to '' and the legacy media prefixes to '*'.
const CLIENT_RULES: Record<string, Rule> = {
  'GET /_matrix/client/versions': { b: 'own' },
  'GET /.well-known/matrix/client': { b: 'own' },
  'GET /_matrix/static/client/login/': { b: 'own', public: true },
  'GET /_matrix/static/client/login': { b: 'own', public: true },
  'GET /_matrix/client/api/v1/login/fallback': { b: 'own', public: true },
  'GET /capabilities': { b: 'own' },
  'POST /register': { b: 'own', body: () => ({ username: `walk-${randomBytes(4).toString('hex')}` }) },
  'GET /register/available': { b: 'own', query: () => 'username=alice' },
  'GET /register/m.login.registration_token/validity': { b: 'own', query: () => 'token=x' },
  'GET /login': { b: 'own' },
  'POST /login': { b: 'own', body: (f) => ({ type: 'm.login.password', identifier: { type: 'm.id.user', user: f.alice.userId }, password: 'not hers' }) },
  // A junk refresh token: 401 M_UNKNOWN_TOKEN, nothing of A's to reach.
  'POST /refresh': { b: 'own', body: () => ({ refresh_token: 'junk' }) },
  // Without auth: the UIA 401 for B's own password; a token for A is never possible with B's token.
  'POST /login/get_token': { b: 'own', body: () => ({}) },
  'POST /logout': { b: 'ends-session' },
  'POST /logout/all': { b: 'ends-session' },
  'GET /account/whoami': { b: 'own' },
  'POST /account/password': { b: 'ends-session', body: (_f, c) => ({ auth: uia(c), new_password: 'another long passphrase', logout_devices: true }) },
  'POST /account/deactivate': { b: 'ends-session', body: (_f, c) => ({ auth: uia(c) }) },
  'GET /devices': { b: 'own' },
  'GET /devices/:deviceId': { b: 'refused' },
  'PUT /devices/:deviceId': { b: 'refused', body: () => ({ display_name: 'renamed by B' }) },
  // With B's password, so that UIA passes: B deletes B's device of that id if any (Hearth answers
  // 200 where there is none, as Synapse does); A's device must survive (the snapshot checks it).
  'DELETE /devices/:deviceId': { b: 'own', body: (_f, c) => ({ auth: uia(c) }) },
  'POST /delete_devices': { b: 'own', body: (f, c) => ({ devices: [f.alice.deviceId], auth: uia(c) }) },
  'POST /createRoom': { b: 'own', body: () => ({ preset: 'private_chat' }) },
  'POST /join/:roomIdOrAlias': { b: 'refused' },
  'POST /rooms/:roomId/join': { b: 'refused' },
  'POST /knock/:roomIdOrAlias': { b: 'refused' },
  'POST /rooms/:roomId/invite': { b: 'refused', body: (_f, c) => ({ user_id: c.user.userId }) },
  'POST /rooms/:roomId/leave': { b: 'refused' },
  'POST /rooms/:roomId/kick': { b: 'refused', body: (f) => ({ user_id: f.alice.userId }) },
  'POST /rooms/:roomId/ban': { b: 'refused', body: (f) => ({ user_id: f.alice.userId }) },
  'POST /rooms/:roomId/unban': { b: 'refused', body: (f) => ({ user_id: f.alice.userId }) },
  // Forgetting a room B was never in touches only B's own list.
  'POST /rooms/:roomId/forget': { b: 'own' },
  'GET /joined_rooms': { b: 'own' },
  'PUT /rooms/:roomId/send/:eventType/:txnId': { b: 'refused', body: () => ({ msgtype: 'm.text', body: 'sent by B' }) },
  'POST /rooms/:roomId/send/:eventType': { b: 'refused', public: false, body: () => ({ msgtype: 'm.text', body: 'sent by B' }) },
  'PUT /rooms/:roomId/state/:eventType/:stateKey': { b: 'refused', body: () => ({ topic: 'set by B' }) },
  'PUT /rooms/:roomId/state/:eventType': { b: 'refused', body: () => ({ topic: 'set by B' }) },
  'GET /rooms/:roomId/state/:eventType/:stateKey': { b: 'refused' },
  'GET /rooms/:roomId/state/:eventType': { b: 'refused' },
  'GET /rooms/:roomId/state': { b: 'refused' },
  'GET /rooms/:roomId/members': { b: 'refused' },
  'GET /rooms/:roomId/joined_members': { b: 'refused' },
  'GET /rooms/:roomId/messages': { b: 'refused', query: () => 'dir=b' },
  'GET /rooms/:roomId/event/:eventId': { b: 'refused' },
  'GET /rooms/:roomId/context/:eventId': { b: 'refused' },
  'PUT /rooms/:roomId/redact/:eventId/:txnId': { b: 'refused', body: () => ({ reason: 'B' }) },
  'GET /rooms/:roomId/timestamp_to_event': { b: 'refused', query: () => `ts=${Date.now()}&dir=b` },
  'POST /rooms/:roomId/upgrade': { b: 'refused', body: () => ({ new_version: '12' }) },
  'GET /rooms/:roomId/hierarchy': { b: 'refused' },
  'GET /room_summary/:roomIdOrAlias': { b: 'refused' },
  // Aliases and directory visibility are public by design (client-server-api, "Room aliases").
  'GET /directory/room/:roomAlias': { b: 'readable' },
  'PUT /directory/room/:roomAlias': { b: 'refused', body: (f) => ({ room_id: f.roomId }) },
  'DELETE /directory/room/:roomAlias': { b: 'refused' },
  'GET /rooms/:roomId/aliases': { b: 'refused' },
  'GET /directory/list/room/:roomId': { b: 'readable' },
  'PUT /directory/list/room/:roomId': { b: 'refused', body: () => ({ visibility: 'public' }) },
  'GET /publicRooms': { b: 'own' },
  'POST /publicRooms': { b: 'own', body: () => ({}) },
  'GET /profile/:userId': { b: 'readable' },
  'GET /profile/:userId/:field': { b: 'readable' },
  'PUT /profile/:userId/:field': { b: 'refused', body: () => ({ displayname: 'renamed by B' }) },
  'DELETE /profile/:userId/:field': { b: 'refused' },
  'GET /sync': { b: 'own', query: () => 'timeout=0' },
  'POST /user/:userId/filter': { b: 'refused', body: () => ({ room: { timeline: { limit: 1 } } }) },
  'GET /user/:userId/filter/:filterId': { b: 'refused' },
  'PUT /user/:userId/account_data/:type': { b: 'refused', body: () => ({ by: 'B' }) },
  'GET /user/:userId/account_data/:type': { b: 'refused' },
  'PUT /user/:userId/rooms/:roomId/account_data/:type': { b: 'refused', body: () => ({ by: 'B' }) },
  'GET /user/:userId/rooms/:roomId/account_data/:type': { b: 'refused' },
  'GET /initialSync': { b: 'own', query: () => 'limit=1' },
  'GET /rooms/:roomId/initialSync': { b: 'refused' },
  'GET /events': { b: 'own', query: () => 'timeout=0' },
  'GET /events/:eventId': { b: 'refused' },
  'GET /pushrules/': { b: 'own' },
  'GET /pushrules/global/': { b: 'own' },
  // Push rules have no user in the path: B reads and writes B's own rule of that name.
  'GET /pushrules/global/:kind/:ruleId': { b: 'own' },
  'PUT /pushrules/global/:kind/:ruleId': { b: 'own', body: () => ({ pattern: 'b', actions: ['notify'] }) },
  'DELETE /pushrules/global/:kind/:ruleId': { b: 'own' },
  'GET /pushrules/global/:kind/:ruleId/enabled': { b: 'own' },
  'PUT /pushrules/global/:kind/:ruleId/enabled': { b: 'own', body: () => ({ enabled: false }) },
  'GET /pushrules/global/:kind/:ruleId/actions': { b: 'own' },
  'PUT /pushrules/global/:kind/:ruleId/actions': { b: 'own', body: () => ({ actions: ['dont_notify'] }) },
  'GET /notifications': { b: 'own' },
  // Pushers have no user in the path: B lists and sets B's own.
  'GET /pushers': { b: 'own' },
  'POST /pushers/set': {
    b: 'own',
    body: () => ({
      kind: 'http',
      app_id: 'org.example.walk',
      pushkey: 'walk',
      app_display_name: 'Walk',
      device_display_name: 'B',
      lang: 'en',
      data: { url: 'https://push.example.org/_matrix/push/v1/notify' },
    }),
  },
  // Only for oneself: B asking for a token as A is refused.
  'POST /user/:userId/openid/request_token': { b: 'refused', body: () => ({}) },
  'POST /rooms/:roomId/receipt/:receiptType/:eventId': { b: 'refused', body: () => ({}) },
  'POST /rooms/:roomId/read_markers': { b: 'refused', body: (f) => ({ 'm.fully_read': f.eventId, 'm.read': f.eventId }) },
  'PUT /rooms/:roomId/typing/:userId': { b: 'refused', asSelfToo: true, body: () => ({ typing: true, timeout: 30_000 }) },
  'GET /presence/:userId/status': { b: 'readable' },
  'PUT /presence/:userId/status': { b: 'refused', body: () => ({ presence: 'online' }) },
  'GET /presence/list/:userId': { b: 'refused', public: false },
  'POST /presence/list/:userId': { b: 'refused', public: false, body: () => ({ invite: [], drop: [] }) },
  'GET /user/:userId/rooms/:roomId/tags': { b: 'refused' },
  'PUT /user/:userId/rooms/:roomId/tags/:tag': { b: 'refused', body: () => ({ order: 0.1 }) },
  'DELETE /user/:userId/rooms/:roomId/tags/:tag': { b: 'refused' },
  'GET /rooms/:roomId/relations/:eventId': { b: 'refused', public: false },
  'GET /rooms/:roomId/relations/:eventId/:relType': { b: 'refused', public: false },
  'GET /rooms/:roomId/relations/:eventId/:relType/:eventType': { b: 'refused', public: false },
  'GET /rooms/:roomId/threads': { b: 'refused', public: false },
  // B searches for A's secret: the answer (results and count) must hold nothing of A's room.
  // `highlights` echo B's own search term, so they are left out of the leak check.
  'POST /search': {
    b: 'own',
    body: (f) => ({ search_categories: { room_events: { search_term: f.secret } } }),
    answer: (body) => ({ ...body, search_categories: { room_events: { ...body?.search_categories?.room_events, highlights: undefined } } }),
  },
  'GET /auth/:authType/fallback/web': { b: 'own', public: true, query: () => 'session=x' },
  'POST /auth/:authType/fallback/web': { b: 'own', public: true, query: () => 'session=x' },
  'GET /voip/turnServer': { b: 'own' },
  'POST /keys/upload': { b: 'own', body: () => ({}) },
  // Device keys are for anyone to query (end_to_end_encryption.md, "Key distribution").
  'POST /keys/query': { b: 'readable', body: (f) => ({ device_keys: { [f.alice.userId]: [] } }) },
  'POST /keys/claim': { b: 'own', body: () => ({ one_time_keys: {} }) },
  'GET /keys/changes': { b: 'own', query: () => 'from=s0&to=s0' },
  'POST /keys/device_signing/upload': { b: 'own', body: () => ({}) },
  'POST /keys/signatures/upload': { b: 'own', body: () => ({}) },
  'PUT /sendToDevice/:eventType/:txnId': { b: 'own', body: (_f, c) => ({ messages: { [c.user.userId]: { '*': { x: 1 } } } }) },
  // Backups have no user in the path: A's version number must not open A's backup to B.
  'POST /room_keys/version': { b: 'own', body: () => ({ algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'Bkey' } }) },
  'GET /room_keys/version': { b: 'own' },
  'GET /room_keys/version/:version': { b: 'refused' },
  'PUT /room_keys/version/:version': {
    b: 'refused',
    body: (f) => ({ algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'Bkey' }, version: f.backupVersion }),
  },
  'DELETE /room_keys/version/:version': { b: 'refused' },
  'PUT /room_keys/keys': { b: 'refused', query: backup, body: () => ({ rooms: {} }) },
  'PUT /room_keys/keys/:roomId': { b: 'refused', query: backup, body: () => ({ sessions: {} }) },
  'PUT /room_keys/keys/:roomId/:sessionId': {
    b: 'refused',
    query: backup,
    body: () => ({ first_message_index: 0, forwarded_count: 0, is_verified: true, session_data: { by: 'B' } }),
  },
  'GET /room_keys/keys': { b: 'refused', query: backup },
  'GET /room_keys/keys/:roomId': { b: 'refused', query: backup },
  'GET /room_keys/keys/:roomId/:sessionId': { b: 'refused', query: backup },
  'DELETE /room_keys/keys': { b: 'refused', query: backup },
  'DELETE /room_keys/keys/:roomId': { b: 'refused', query: backup },
  'DELETE /room_keys/keys/:roomId/:sessionId': { b: 'refused', query: backup },
  'POST /user_directory/search': { b: 'own', body: (f) => ({ search_term: f.secret }) },
  // Issue #14, admin part: server documents from config, no bridges, and B's rooms shared with A.
  'GET /.well-known/matrix/server': { b: 'own', public: true },
  'GET /.well-known/matrix/support': { b: 'own', public: true },
  'GET /mutual_rooms': { b: 'own', query: (f) => `user_id=${encodeURIComponent(f.alice.userId)}` },
  'GET /thirdparty/protocols': { b: 'own' },
  'GET /thirdparty/protocol/:protocol': { b: 'own' },
  'GET /thirdparty/location/:protocol': { b: 'own' },
  'GET /thirdparty/user/:protocol': { b: 'own' },
  'GET /thirdparty/location': { b: 'own', query: () => 'alias=%23a%3Aexample.org' },
  'GET /thirdparty/user': { b: 'own', query: () => 'userid=%40a%3Aexample.org' },
  // Anyone may report a room or a user (report_content.md, v1.13, v1.14); an event only from inside.
  'POST /rooms/:roomId/report': { b: 'own', body: () => ({ reason: 'walk' }) },
  'POST /rooms/:roomId/report/:eventId': { b: 'refused', body: () => ({ reason: 'walk' }) },
  'POST /users/:userId/report': { b: 'own', body: () => ({ reason: 'walk' }) },
  // Server administration: B is no admin, and whois is for the user and admins only.
  'GET /admin/whois/:userId': { b: 'refused' },
  'GET /admin/suspend/:userId': { b: 'refused' },
  'PUT /admin/suspend/:userId': { b: 'refused', body: () => ({ suspended: true }) },
  'GET /admin/lock/:userId': { b: 'refused' },
  'PUT /admin/lock/:userId': { b: 'refused', body: () => ({ locked: true }) },
  // Media is addressed by its mxc URI and readable by anyone who has it; uploading into A's
  // reserved media id is A's alone (content_repo, "PUT /upload/{serverName}/{mediaId}").
  'POST /_matrix/media/*/upload': media('own'),
  'POST /_matrix/media/*/create': media('own'),
  'PUT /_matrix/media/*/upload/:serverName/:mediaId': media('refused'),
  'GET /_matrix/media/*/download/:serverName/:mediaId': media('readable', noWait),
  'GET /_matrix/media/*/download/:serverName/:mediaId/:fileName': media('readable', noWait),
  'GET /_matrix/media/*/thumbnail/:serverName/:mediaId': media('readable', () => 'width=32&height=32&timeout_ms=0'),
  'GET /_matrix/media/*/config': media('own'),
  'GET /_matrix/media/*/preview_url': media('own', () => 'url=https%3A%2F%2Fexample.org'),
  'GET /_matrix/client/v1/media/download/:serverName/:mediaId': media('readable', noWait),
  'GET /_matrix/client/v1/media/download/:serverName/:mediaId/:fileName': media('readable', noWait),
  'GET /_matrix/client/v1/media/thumbnail/:serverName/:mediaId': media('readable', () => 'width=32&height=32&timeout_ms=0'),
  'GET /_matrix/client/v1/media/config': media('own'),
  'GET /_matrix/client/v1/media/preview_url': media('own', () => 'url=https%3A%2F%2Fexample.org'),
  // Issue #15, LAN sharing (clientapi/lan.ts): anyone signed in reads the switch and the people
  // nearby; only a server admin changes the switch (the walked server has no `lan`: 404 to all).
  'GET /_matrix/client/unstable/org.hearth.lan/sharing': { b: 'own', public: false },
  'PUT /_matrix/client/unstable/org.hearth.lan/sharing': { b: 'refused', public: false, body: () => ({ enabled: true }) },
  'GET /_matrix/client/unstable/org.hearth.lan/nearby': { b: 'own', public: false },
  'DELETE /_matrix/client/unstable/org.hearth.lan/peers/:serverName': { b: 'refused', public: false },
  // The configured domains (issue #16 R5): anyone signed in reads them, only a server admin sets them.
  'GET /_matrix/client/unstable/org.hearth.lan/domains': { b: 'own', public: false },
  'PUT /_matrix/client/unstable/org.hearth.lan/domains': { b: 'refused', public: false, body: () => ({ domains: ['example.org'] }) },
};

/** The table's key for an operation. */
function ruleKey(op: RoutedOperation): string {
  const path = op.path.replace(/^\/_matrix\/client\/v3(?=\/)/, '').replace(/^\/_matrix\/media\/(v3|r0|v1)(?=\/)/, '/_matrix/media/*');
  return `${op.method} ${path}`;
}

/** Where A's secret or one of A's room's event ids shows in an answer to someone else. */
function leaks(what: string, a: Answer, f: Fixture): string[] {
  const found = [f.secret, ...f.eventIds].filter((s) => a.text.includes(s));
  return found.length ? [`${what} -> ${a.status} leaks ${found.join(', ')}: ${a.text.slice(0, 300)}`] : [];
}

/** A copy without what changes with time alone: event ages, presence clocks, pagination tokens. */
function withoutClocks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutClocks);
  if (typeof value !== 'object' || value === null) return value;
  const clocks = new Set(['age', 'last_active_ago', 'currently_active', 'start', 'end']);
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !clocks.has(k))
      .map(([k, v]) => [k, withoutClocks(v)]),
  );
}

/** Everything of A's that B's walk could have changed, as A reads it. */
async function snapshotOfA(server: TestServer, f: Fixture): Promise<Record<string, unknown>> {
  const r = encodeURIComponent(f.roomId);
  const u = encodeURIComponent(f.alice.userId);
  const reads: Record<string, string> = {
    state: `/rooms/${r}/state`,
    members: `/rooms/${r}/members`,
    messages: `/rooms/${r}/messages?dir=b&limit=1000`,
    accountData: `/user/${u}/account_data/org.walk.secret`,
    roomAccountData: `/user/${u}/rooms/${r}/account_data/org.walk.secret`,
    tags: `/user/${u}/rooms/${r}/tags`,
    filter: `/user/${u}/filter/${encodeURIComponent(f.filterId)}`,
    backup: `/room_keys/version/${encodeURIComponent(f.backupVersion)}`,
    backupKeys: `/room_keys/keys?version=${encodeURIComponent(f.backupVersion)}`,
    profile: `/profile/${u}`,
    pushRule: '/pushrules/global/content/walk-rule',
    alias: `/directory/room/${encodeURIComponent(f.alias)}`,
    visibility: `/directory/list/room/${r}`,
    presence: `/presence/${u}/status`,
    pendingMedia: `/_matrix/client/v1/media/download/${encodeURIComponent(f.mediaServer)}/${encodeURIComponent(f.mediaId)}?timeout_ms=0`,
  };
  // A /sync first: it is what sets A online, so that both snapshots see A's presence alike.
  await call(server, f.alice, 'GET', '/sync?timeout=0');
  const out: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(reads)) {
    const res = await call(server, f.alice, 'GET', path);
    out[name] = { status: res.status, body: withoutClocks(res.body) };
  }
  const devices = await call(server, f.alice, 'GET', '/devices');
  out.devices = (devices.body.devices as Array<{ device_id: string; display_name?: string }>).map((d) => [d.device_id, d.display_name]).sort();
  // The room's ephemeral data (typing, receipts) and A's account data as A's /sync shows them.
  const sync = await call(server, f.alice, 'GET', '/sync?timeout=0');
  const room = sync.body.rooms?.join?.[f.roomId];
  out.ephemeral = withoutClocks(room?.ephemeral?.events ?? []);
  out.syncRoomAccountData = withoutClocks(room?.account_data);
  out.globalAccountData = withoutClocks(sync.body.account_data);
  return out;
}

describe('authorization walk: every routed operation, without a token, with a junk one, and with B on A', () => {
  let a: TestServer, b: TestServer;
  let aName: string, bName: string;
  let bKey: SigningKey;
  let f: Fixture;
  let bob: Caller;
  const operations = clientOperations();

  before(async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    aName = `127.0.0.1:${pa}`;
    bName = `127.0.0.1:${pb}`;
    a = await startFederatedTestServer(pa, { trustSelfSigned: [bName] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [aName] });
    bKey = decodeSigningKeyFile(readFileSync(join(b.dataDir, 'signing.key'), 'utf8'));
    f = await setUpOwner(a);
    bob = { user: await registerUser(a, 'bob', PASSWORD), password: PASSWORD };
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('every client operation is classified, and the walk sees the whole API (over 100 operations)', () => {
    const unclassified = operations.filter((op) => !(ruleKey(op) in CLIENT_RULES)).map(ruleKey);
    assert.deepEqual(unclassified, [], 'classify these operations in CLIENT_RULES');
    const missingAccess = operations.filter((op) => specAccess(op) === undefined && CLIENT_RULES[ruleKey(op)]!.public === undefined).map(ruleKey);
    assert.deepEqual(missingAccess, [], 'the spec lacks these: say in CLIENT_RULES whether they are public');
    const stale = Object.keys(CLIENT_RULES).filter((key) => !operations.some((op) => ruleKey(op) === key));
    assert.deepEqual(stale, [], 'these rules match no routed operation');
    assert.ok(operations.length > 100, `only ${operations.length} operations found`);
  });

  const needsToken = (op: RoutedOperation) => {
    const access = specAccess(op);
    return access === undefined ? CLIENT_RULES[ruleKey(op)]?.public === false : access === 'authenticated';
  };
  const urlOf = (op: RoutedOperation, self?: TestUser) => {
    const rule = CLIENT_RULES[ruleKey(op)];
    const query = rule?.query?.(f);
    const fixture = self ? { ...f, alice: { ...f.alice, userId: self.userId } } : f;
    return `${fillPath(op, fixture)}${query ? `?${query}` : ''}`;
  };

  test('without a token every authenticated operation answers 401 M_MISSING_TOKEN; none answers 500', async () => {
    const problems: string[] = [];
    for (const op of operations) {
      const what = `${op.method} ${op.path} (no token)`;
      const res = await send(a, op.method, urlOf(op), undefined, CLIENT_RULES[ruleKey(op)]?.body?.(f, bob));
      problems.push(...malformed(what, res), ...leaks(what, res, f));
      if (needsToken(op) && (res.status !== 401 || res.body?.errcode !== 'M_MISSING_TOKEN')) {
        problems.push(`${what} -> ${res.status} ${res.text.slice(0, 200)}, expected 401 M_MISSING_TOKEN`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('with a junk token every authenticated operation answers 401 M_UNKNOWN_TOKEN', async () => {
    const problems: string[] = [];
    for (const op of operations.filter(needsToken)) {
      const what = `${op.method} ${op.path} (junk token)`;
      const res = await send(a, op.method, urlOf(op), `junk-${randomBytes(8).toString('hex')}`, CLIENT_RULES[ruleKey(op)]?.body?.(f, bob));
      problems.push(...malformed(what, res));
      if (res.status !== 401 || res.body?.errcode !== 'M_UNKNOWN_TOKEN')
        problems.push(`${what} -> ${res.status} ${res.text.slice(0, 200)}, expected 401 M_UNKNOWN_TOKEN`);
    }
    assert.deepEqual(problems, []);
  });

  test("B's token on A's resources and A's private room: refused, nothing of A's in any answer, nothing of A's changed", async () => {
    const before = await snapshotOfA(a, f);
    const problems: string[] = [];
    const walk = async (op: RoutedOperation, caller: Caller, asSelf = false) => {
      const rule = CLIENT_RULES[ruleKey(op)]!;
      if (rule.asSelfToo && !asSelf) await walk(op, caller, true);
      const what = `${op.method} ${op.path} (${caller.user.userId}${asSelf ? ', own id in the path' : ''})`;
      const res = await send(a, op.method, urlOf(op, asSelf ? caller.user : undefined), caller.user.accessToken, rule.body?.(f, caller));
      const shown = rule.answer ? { ...res, text: JSON.stringify(rule.answer(res.body)) } : res;
      problems.push(...malformed(what, res), ...leaks(what, shown, f));
      if (rule.b === 'refused' && (res.status < 400 || res.status >= 500))
        problems.push(`${what} -> ${res.status} ${res.text.slice(0, 200)}, expected a refusal`);
    };
    const sessionEnders = operations.filter((op) => CLIENT_RULES[ruleKey(op)]!.b === 'ends-session');
    for (const op of operations) if (!sessionEnders.includes(op)) await walk(op, bob);
    for (const [i, op] of sessionEnders.entries()) {
      await walk(op, { user: await registerUser(a, `walk-throwaway-${i}`, PASSWORD), password: PASSWORD });
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(await snapshotOfA(a, f), before, "B's walk changed something of A's");
    // Nothing B did shows in A's room: no event, receipt or typing notice of B's.
    const sync = await call(a, f.alice, 'GET', '/sync?timeout=0');
    assert.ok(!JSON.stringify(sync.body.rooms ?? {}).includes(bob.user.userId), "B's name appears in A's room");
  });

  // ---- Federation ----------------------------------------------------------------------------

  /** What another server gets on each federation operation, for A's private room and A's user. */
  type FedOutcome = 'room-read' | 'refused' | 'open';
  const FEDERATION_RULES: Record<string, { outcome: FedOutcome; query?: () => string; body?: () => unknown; userId?: () => string }> = {
    'GET /_matrix/federation/v1/query/profile': { outcome: 'open', query: () => `user_id=${encodeURIComponent(f.alice.userId)}` },
    'PUT /_matrix/federation/v1/send/:txnId': { outcome: 'open', body: () => ({ origin: bName, origin_server_ts: Date.now(), pdus: [] }) },
    'GET /_matrix/federation/v1/query/directory': { outcome: 'open', query: () => `room_alias=${encodeURIComponent(f.alias)}` },
    'GET /_matrix/federation/v1/event/:eventId': { outcome: 'room-read' },
    'GET /_matrix/federation/v1/state/:roomId': { outcome: 'room-read', query: () => `event_id=${encodeURIComponent(f.eventId)}` },
    'GET /_matrix/federation/v1/state_ids/:roomId': { outcome: 'room-read', query: () => `event_id=${encodeURIComponent(f.eventId)}` },
    'GET /_matrix/federation/v1/event_auth/:roomId/:eventId': { outcome: 'room-read' },
    'GET /_matrix/federation/v1/backfill/:roomId': { outcome: 'room-read', query: () => `v=${encodeURIComponent(f.eventId)}&limit=10` },
    'POST /_matrix/federation/v1/get_missing_events/:roomId': {
      outcome: 'room-read',
      body: () => ({ earliest_events: [], latest_events: [f.eventId], limit: 10 }),
    },
    'GET /_matrix/federation/v1/publicRooms': { outcome: 'open' },
    'POST /_matrix/federation/v1/publicRooms': { outcome: 'open', body: () => ({}) },
    'GET /_matrix/federation/v1/user/devices/:userId': { outcome: 'open' },
    'POST /_matrix/federation/v1/user/keys/query': { outcome: 'open', body: () => ({ device_keys: { [f.alice.userId]: [] } }) },
    'POST /_matrix/federation/v1/user/keys/claim': { outcome: 'open', body: () => ({ one_time_keys: {} }) },
    // The room is invite-only and nobody of B's server is invited.
    'GET /_matrix/federation/v1/make_join/:roomId/:userId': { outcome: 'refused', userId: () => `@mallory:${bName}` },
    'GET /_matrix/federation/v1/make_leave/:roomId/:userId': { outcome: 'refused', userId: () => `@mallory:${bName}` },
    'GET /_matrix/federation/v1/make_knock/:roomId/:userId': { outcome: 'refused', userId: () => `@mallory:${bName}`, query: () => 'ver=12' },
    'PUT /_matrix/federation/v2/send_join/:roomId/:eventId': { outcome: 'refused', body: () => ({}) },
    'PUT /_matrix/federation/v2/send_leave/:roomId/:eventId': { outcome: 'refused', body: () => ({}) },
    'PUT /_matrix/federation/v1/send_knock/:roomId/:eventId': { outcome: 'refused', body: () => ({}) },
    'PUT /_matrix/federation/v2/invite/:roomId/:eventId': { outcome: 'refused', body: () => ({}) },
    'PUT /_matrix/federation/v1/invite/:roomId/:eventId': { outcome: 'refused', body: () => ({}) },
    'GET /_matrix/federation/v1/timestamp_to_event/:roomId': { outcome: 'room-read', query: () => `ts=${Date.now()}&dir=b` },
    // 404 for a room the asking server may not see (space_hierarchy.yaml), as for an unknown one.
    'GET /_matrix/federation/v1/hierarchy/:roomId': { outcome: 'refused' },
    // content_repository.yaml: a server's media is served to any server (signed); an unknown id is 404.
    'GET /_matrix/federation/v1/media/download/:mediaId': { outcome: 'open' },
    'GET /_matrix/federation/v1/media/thumbnail/:mediaId': { outcome: 'open', query: () => 'width=32&height=32&timeout_ms=0' },
  };

  function fedRequest(method: string, path: string, body: unknown, signed: boolean): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signed) headers.authorization = signRequest({ method, uri: path, origin: bName, destination: aName, content: body }, bKey);
    const port = Number(aName.split(':')[1]);
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, method, path, headers, rejectUnauthorized: false }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode!, text, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  function fedPath(op: RoutedOperation): { path: string; body: unknown } {
    const rule = FEDERATION_RULES[`${op.method} ${op.path}`]!;
    const values: Record<string, string> = {
      roomId: f.roomId,
      eventId: f.eventId,
      userId: rule.userId?.() ?? f.alice.userId,
      txnId: freshTxnId(),
      mediaId: 'nosuchmedia',
    };
    const path = op.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
      const v = values[name];
      if (v === undefined) throw new Error(`${op.method} ${op.path}: no value for the path param :${name}`);
      return encodeURIComponent(v);
    });
    const query = rule.query?.();
    return { path: query ? `${path}?${query}` : path, body: rule.body?.() ?? (op.method === 'GET' ? undefined : {}) };
  }

  test('every federation operation is classified; without X-Matrix each answers 401; signed by a server not in the room, room reads answer 403', async () => {
    const fedOps = routerOperations(a.hs.federation!.federationRouter);
    assert.ok(fedOps.length >= 20, `only ${fedOps.length} federation operations found`);
    assert.deepEqual(
      fedOps.map((op) => `${op.method} ${op.path}`).filter((key) => !(key in FEDERATION_RULES)),
      [],
      'classify these federation operations in FEDERATION_RULES',
    );
    const problems: string[] = [];
    for (const op of fedOps) {
      const rule = FEDERATION_RULES[`${op.method} ${op.path}`]!;
      const { path, body } = fedPath(op);
      const unsigned = await fedRequest(op.method, path, body, false);
      problems.push(...malformed(`${op.method} ${op.path} (unsigned)`, unsigned), ...leaks(`${op.method} ${op.path} (unsigned)`, unsigned, f));
      if (unsigned.status !== 401) problems.push(`${op.method} ${op.path} (unsigned) -> ${unsigned.status}, expected 401`);
      const what = `${op.method} ${op.path} (signed by ${bName})`;
      const res = await fedRequest(op.method, path, body, true);
      problems.push(...malformed(what, res), ...leaks(what, res, f));
      if (rule.outcome === 'room-read' && res.status !== 403) problems.push(`${what} -> ${res.status} ${res.text.slice(0, 200)}, expected 403`);
      if (rule.outcome === 'refused' && (res.status < 400 || res.status >= 500))
        problems.push(`${what} -> ${res.status} ${res.text.slice(0, 200)}, expected a refusal`);
    }
    assert.deepEqual(problems, []);
    const sync = await call(a, f.alice, 'GET', '/sync?timeout=0');
    assert.ok(!JSON.stringify(sync.body.rooms ?? {}).includes(bName), "B's server appears in A's room");
  });
});
