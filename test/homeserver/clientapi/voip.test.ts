// TURN credentials for calls, and m.call.* events passing through a room unchanged.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestServer, registerUser, call, type TestServer, type TestUser } from '../../helpers/server.ts';
import { clientServerValidator } from '../../helpers/openapi.ts';

const validator = clientServerValidator();

describe('VoIP', () => {
  let server: TestServer;
  let plain: TestServer;
  let alice: TestUser;

  before(async () => {
    server = await startTestServer({
      turn: { uris: ['turn:turn.example:3478?transport=udp', 'turns:turn.example:5349'], sharedSecret: 's3cret', userLifetimeMs: 3_600_000 },
    });
    plain = await startTestServer();
    alice = await registerUser(server, 'alice');
  });
  after(async () => {
    await server?.stop();
    await plain?.stop();
  });

  test('turnServer mints an HMAC credential that a coturn with the same secret accepts, valid for the configured lifetime', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await call(server, alice, 'GET', '/voip/turnServer');
    assert.equal(res.status, 200);
    assert.equal(validator.validateResponse('GET', '/_matrix/client/v3/voip/turnServer', 200, res.body), 'validated');
    const [expiry, user] = [Number(res.body.username.split(':')[0]), res.body.username.slice(res.body.username.indexOf(':') + 1)];
    assert.equal(user, alice.userId);
    assert.ok(expiry >= before + 3600 && expiry <= before + 3601 + 5);
    assert.equal(res.body.password, createHmac('sha1', 's3cret').update(res.body.username).digest('base64'));
    assert.equal(res.body.ttl, 3600);
    assert.deepEqual(res.body.uris, ['turn:turn.example:3478?transport=udp', 'turns:turn.example:5349']);
  });

  test('without a TURN server the answer is empty, and the endpoint needs a token', async () => {
    const bob = await registerUser(plain, 'bob');
    const res = await call(plain, bob, 'GET', '/voip/turnServer');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
    assert.equal((await call(plain, undefined, 'GET', '/voip/turnServer')).body.errcode, 'M_MISSING_TOKEN');
  });

  test('m.call.invite, answer and hangup pass through a room as they were sent', async () => {
    const roomId = (await call(server, alice, 'POST', '/createRoom', {})).body.room_id;
    const invite = { call_id: 'c1', version: '1', lifetime: 60000, party_id: 'p1', offer: { type: 'offer', sdp: 'v=0\r\n' } };
    const sent = await call(server, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.call.invite/1`, invite);
    assert.equal(sent.status, 200);
    const ev = await call(server, alice, 'GET', `/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(sent.body.event_id)}`);
    assert.deepEqual(ev.body.content, invite);
  });
});
