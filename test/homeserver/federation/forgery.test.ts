// Forged federation traffic is refused, logged and harmless (issue #6, "It must show" 4): a PDU with
// a bad signature, a PDU whose sender's server did not sign it (another server relaying a forgery),
// a request signed by a key that is not the origin's, and a replayed transaction. After each, the
// room on the receiving server is unchanged and both servers keep working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer, type TestUser } from '../../helpers/server.ts';
import { signedRequest } from '../../helpers/federation.ts';
import { decodeSigningKeyFile, generateSigningKey, type SigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { computeEventId, hashAndSignEvent, type DraftPDU } from '../../../homeserver/protocol/event-hashing.ts';
import { getRoomVersion } from '../../../homeserver/protocol/room-versions.ts';
import type { PDU } from '../../../homeserver/protocol/types.ts';
import { assertNoValidationFailures, validationCounts } from '../../helpers/openapi.ts';

const rv = getRoomVersion('12')!;

describe('forged federation traffic', () => {
  let a: TestServer, b: TestServer;
  let pa: number, A: string, B: string;
  let bKey: SigningKey;
  let alice: TestUser, bob: TestUser;
  let roomId: string;
  let txn = 0;

  /** PUT /send to A as B (or as `origin` signed with `key`), checked against transactions.yaml. */
  function sendToA(txnId: string, pdus: unknown[], origin = B, key = bKey): Promise<{ status: number; body: any }> {
    const path = `/_matrix/federation/v1/send/${encodeURIComponent(txnId)}`;
    return signedRequest(pa, {
      method: 'PUT',
      path,
      origin,
      destination: A,
      key,
      body: { origin, origin_server_ts: Date.now(), pdus },
      templatePath: '/_matrix/federation/v1/send/x',
    });
  }

  /** A message event in the room as a server would build it, on top of A's current front. */
  async function message(sender: string, body: string, signer: string, key: SigningKey): Promise<{ eventId: string; pdu: PDU }> {
    const state = await call(a, alice, 'GET', `/rooms/${encodeURIComponent(roomId)}/state`);
    const id = (type: string, key = '') => state.body.find((e: any) => e.type === type && e.state_key === key)?.event_id;
    const latest = await call(a, alice, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=1`);
    const draft = {
      room_id: roomId,
      sender,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body },
      auth_events: [id('m.room.power_levels'), id('m.room.member', sender) ?? id('m.room.member', bob.userId)].filter(Boolean),
      prev_events: [latest.body.chunk[0].event_id],
      depth: 1000 + txn,
      origin_server_ts: Date.now(),
    } as unknown as DraftPDU;
    const pdu = hashAndSignEvent(draft, rv, signer, key);
    return { eventId: computeEventId(pdu, rv), pdu };
  }

  const eventOnA = (eventId: string) => call(a, alice, 'GET', `/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`);
  const bodiesOnA = async () =>
    (await call(a, alice, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`)).body.chunk
      .filter((e: any) => e.type === 'm.room.message')
      .map((e: any) => e.content.body);

  before(async () => {
    pa = await freePort();
    const pb = await freePort();
    A = `127.0.0.1:${pa}`;
    B = `127.0.0.1:${pb}`;
    a = await startFederatedTestServer(pa, { trustSelfSigned: [B] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [A] });
    bKey = decodeSigningKeyFile(readFileSync(join(b.dataDir, 'signing.key'), 'utf8'));
    alice = await registerUser(a, 'alice');
    bob = await registerUser(b, 'bob');
    roomId = (await call(a, alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'forum', room_version: '12' })).body.room_id;
    assert.equal((await call(b, bob, 'POST', `/join/${encodeURIComponent(`#forum:${A}`)}`, {})).status, 200);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('a genuine PDU from B is accepted (the baseline the forgeries are measured against)', async () => {
    const genuine = await message(bob.userId, 'genuine', B, bKey);
    const r = await sendToA(`t${txn++}`, [genuine.pdu]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.pdus[genuine.eventId], {});
    assert.equal((await eventOnA(genuine.eventId)).status, 200);
  });

  test('a PDU whose signature does not verify is dropped', async () => {
    const signed = await message(bob.userId, 'tampered', B, bKey);
    // origin_server_ts is covered by the signature (it survives redaction): changing it breaks it.
    const tampered = { ...signed.pdu, origin_server_ts: signed.pdu.origin_server_ts + 1 };
    const id = computeEventId(tampered as PDU, rv);
    const r = await sendToA(`t${txn++}`, [tampered]);
    assert.equal(r.status, 200);
    assert.match(r.body.pdus[id]?.error ?? '', /signature/);
    assert.equal((await eventOnA(id)).status, 404);
    assert.ok(!(await bodiesOnA()).includes('tampered'));
  });

  test('a PDU for a user of another server, relayed by B and signed only by B, is dropped', async () => {
    const forged = await message(`@mallory:${A}`, 'forged sender', B, bKey);
    const r = await sendToA(`t${txn++}`, [forged.pdu]);
    assert.equal(r.status, 200);
    assert.match(r.body.pdus[forged.eventId]?.error ?? '', new RegExp(`signature from ${A.replace(/\./g, '\\.')}`));
    assert.equal((await eventOnA(forged.eventId)).status, 404);
  });

  test("a request signed with a key that is not the origin's is refused with 401 M_UNAUTHORIZED", async () => {
    const stranger = generateSigningKey();
    const evil = await message(bob.userId, 'wrong key', B, bKey);
    const r = await sendToA(`t${txn++}`, [evil.pdu], B, stranger);
    assert.equal(r.status, 401);
    assert.equal(r.body.errcode, 'M_UNAUTHORIZED');
    assert.equal((await eventOnA(evil.eventId)).status, 404);
  });

  test('a replayed transaction is answered as before and adds nothing', async () => {
    const once = await message(bob.userId, 'only once', B, bKey);
    const id = `t${txn++}`;
    const first = await sendToA(id, [once.pdu]);
    const later = await message(bob.userId, 'smuggled in a replay', B, bKey);
    const replay = await sendToA(id, [once.pdu, later.pdu]);
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, first.body);
    const bodies = await bodiesOnA();
    assert.equal(bodies.filter((x: string) => x === 'only once').length, 1);
    assert.ok(!bodies.includes('smuggled in a replay'));
  });

  test('after all that, both servers still federate: a message from B reaches A', async () => {
    const sent = await call(b, bob, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/after`, { msgtype: 'm.text', body: 'still fine' });
    assert.equal(sent.status, 200);
    const end = Date.now() + 10_000;
    while (!(await bodiesOnA()).includes('still fine')) {
      assert.ok(Date.now() < end, 'message from B did not reach A');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  test("once the room's server ACL denies B, B's PDUs into it are refused", async () => {
    const acl = await call(a, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/state/m.room.server_acl/`, {
      allow: ['*'],
      deny: ['127.0.0.1'],
      allow_ip_literals: true,
    });
    assert.equal(acl.status, 200, JSON.stringify(acl.body));
    const denied = await message(bob.userId, 'after the acl', B, bKey);
    const r = await sendToA(`t${txn++}`, [denied.pdu]);
    assert.equal(r.status, 200);
    assert.match(r.body.pdus[denied.eventId]?.error ?? '', /server ACL/);
    assert.equal((await eventOnA(denied.eventId)).status, 404);
  });

  test('every federation response the servers received matched the server-server OpenAPI', () => {
    assert.ok(validationCounts().validated > 0, 'federation responses were validated');
    assertNoValidationFailures();
  });
});
