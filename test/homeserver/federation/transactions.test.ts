// PUT /_matrix/federation/v1/send/{txnId} on a real Hearth server (B), sent as another real one (A)
// signs it: body checks, the 50/100 limits, the origin check, and idempotency by (origin, txnId).
// Every answer is checked against the server-server OpenAPI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, freePort, registerUser, startFederatedTestServer, type TestServer } from '../../helpers/server.ts';
import { serverServerValidator } from '../../helpers/openapi.ts';
import { signRequest } from '../../../homeserver/federation/request-auth.ts';
import { decodeSigningKeyFile, type SigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { hashAndSignEvent } from '../../../homeserver/protocol/event-hashing.ts';
import { getRoomVersion } from '../../../homeserver/protocol/room-versions.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { federationQueueStore } from '../../../homeserver/storage/federation-queue-store.ts';
import type { PDU } from '../../../homeserver/protocol/types.ts';
import { MAX_JSON_DEPTH } from '../../../homeserver/protocol/bounded-json.ts';
import { MAX_EVENT_DEPTH } from '../../../homeserver/protocol/canonical-json-check.ts';

const validator = serverServerValidator();

describe('PUT /_matrix/federation/v1/send/{txnId}', () => {
  let a: TestServer, b: TestServer;
  let A: string, B: string, pb: number;
  let aKey: SigningKey;
  let txnCounter = 0;
  const freshTxnId = () => `test-${Date.now()}-${txnCounter++}`;

  /** PUT /send to B signed by A (or by `origin` with `key`), validated against transactions.yaml. */
  function send(txnId: string, body: unknown, origin = A, key = aKey): Promise<{ status: number; body: any }> {
    const path = `/_matrix/federation/v1/send/${encodeURIComponent(txnId)}`;
    const authorization = signRequest({ method: 'PUT', uri: path, origin, destination: B, content: body }, key);
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: pb, method: 'PUT', path, headers: { 'content-type': 'application/json', authorization }, rejectUnauthorized: false },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            const r = { status: res.statusCode!, body: text ? JSON.parse(text) : undefined };
            if (r.status >= 400) validator.validateErrorBody(r.body, `PUT ${path}`);
            else validator.validateResponse('PUT', '/_matrix/federation/v1/send/x', r.status, r.body);
            resolve(r);
          });
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  async function inboundAtB(): Promise<Array<{ txn_id: string; pdu_count: number; edu_count: number; response: string }>> {
    const conn = await Connection.open(join(b.dataDir, 'hearth.sqlite'));
    try {
      return await federationQueueStore.inboundFrom(conn, A);
    } finally {
      await conn.close();
    }
  }

  const txn = (extra: Record<string, unknown> = {}) => ({ origin: A, origin_server_ts: Date.now(), pdus: [], ...extra });

  before(async () => {
    const pa = await freePort();
    pb = await freePort();
    A = `127.0.0.1:${pa}`;
    B = `127.0.0.1:${pb}`;
    a = await startFederatedTestServer(pa, { trustSelfSigned: [B] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [A] });
    aKey = decodeSigningKeyFile(readFileSync(join(a.dataDir, 'signing.key'), 'utf8'));
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('a transaction with EDUs and no PDUs is answered 200 { pdus: {} } and recorded once', async () => {
    const id = freshTxnId();
    const r = await send(id, txn({ edus: [{ edu_type: 'org.hearth.test', content: { n: 1 } }] }));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { pdus: {} });
    const rows = (await inboundAtB()).filter((x) => x.txn_id === id);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.edu_count, 1);
    assert.equal(rows[0]!.pdu_count, 0);
  });

  test('a replayed txnId is answered from storage: what it carries the second time is not processed', async () => {
    // A PDU that processing always answers for: well formed, signed by A, in a room B knows, but
    // from a user who is not in it (so it is rejected, with an error under its event id).
    const bob = await registerUser(b, `bob${txnCounter}`);
    const created = await call(b, bob, 'POST', '/createRoom', {});
    assert.equal(created.status, 200);
    const roomId = created.body.room_id as string;
    const state = await call(b, bob, 'GET', `/rooms/${encodeURIComponent(roomId)}/state`);
    const ids = (type: string) => (state.body as any[]).filter((e) => e.type === type).map((e) => e.event_id as string);
    const versionId = (state.body as any[]).find((e) => e.type === 'm.room.create').content.room_version ?? '12';
    const version = getRoomVersion(versionId)!;
    const probe: PDU = hashAndSignEvent(
      {
        room_id: roomId,
        sender: `@mallory:${A}`,
        type: 'm.room.message',
        content: { msgtype: 'm.text', body: 'probe' },
        origin_server_ts: Date.now(),
        depth: 10,
        prev_events: ids('m.room.member').slice(-1),
        auth_events: [...(version.roomIdFromCreateEvent ? [] : ids('m.room.create')), ...ids('m.room.power_levels')],
      } as never,
      version,
      A,
      aKey,
    );

    const id = freshTxnId();
    const first = await send(id, txn());
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { pdus: {} });
    const replay = await send(id, txn({ pdus: [probe] }));
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, first.body, 'the replay gets the first answer');
    // The control: the same probe in a new transaction is processed, and answered for.
    const fresh = await send(freshTxnId(), txn({ pdus: [probe] }));
    assert.equal(fresh.status, 200);
    assert.equal(Object.keys(fresh.body.pdus).length, 1, `processing the probe must show in the answer: ${JSON.stringify(fresh.body)}`);
    assert.equal((await inboundAtB()).filter((x) => x.txn_id === id).length, 1);
  });

  test('origin in the body other than the signing server is 403 M_FORBIDDEN', async () => {
    const r = await send(freshTxnId(), txn({ origin: 'evil.example.org' }));
    assert.equal(r.status, 403);
    assert.equal(r.body.errcode, 'M_FORBIDDEN');
  });

  test('more than 50 PDUs or 100 EDUs is 400 M_BAD_JSON, and nothing is recorded', async () => {
    const before = (await inboundAtB()).length;
    const pdus = await send(freshTxnId(), txn({ pdus: Array.from({ length: 51 }, () => ({})) }));
    assert.equal(pdus.status, 400);
    assert.equal(pdus.body.errcode, 'M_BAD_JSON');
    const edus = await send(freshTxnId(), txn({ edus: Array.from({ length: 101 }, () => ({ edu_type: 'org.hearth.test', content: {} })) }));
    assert.equal(edus.status, 400);
    assert.equal(edus.body.errcode, 'M_BAD_JSON');
    // Exactly at the limits is fine.
    const full = await send(freshTxnId(), txn({ edus: Array.from({ length: 100 }, () => ({ edu_type: 'org.hearth.test', content: {} })) }));
    assert.equal(full.status, 200);
    assert.equal((await inboundAtB()).length, before + 1);
  });

  test('a body without pdus, or with edus that are not an array, is 400 M_BAD_JSON', async () => {
    const noPdus = await send(freshTxnId(), { origin: A, origin_server_ts: Date.now() });
    assert.equal(noPdus.status, 400);
    assert.equal(noPdus.body.errcode, 'M_BAD_JSON');
    const badEdus = await send(freshTxnId(), txn({ edus: {} }));
    assert.equal(badEdus.status, 400);
    assert.equal(badEdus.body.errcode, 'M_BAD_JSON');
  });

  test('a transaction nested deeper than MAX_JSON_DEPTH is 400 M_BAD_JSON, and nothing is recorded', async () => {
    const before = (await inboundAtB()).length;
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = { a: deep };
    const r = await send(freshTxnId(), txn({ edus: [{ edu_type: 'org.hearth.test', content: deep }] }));
    assert.equal(r.status, 400);
    assert.equal(r.body.errcode, 'M_BAD_JSON');
    assert.equal((await inboundAtB()).length, before);
  });

  test('a signed PDU nested deeper than MAX_EVENT_DEPTH is discarded as not canonical JSON, the rest of the transaction goes on', async () => {
    const bob = await registerUser(b, `deep${txnCounter}`);
    const created = await call(b, bob, 'POST', '/createRoom', {});
    const roomId = created.body.room_id as string;
    const state = await call(b, bob, 'GET', `/rooms/${encodeURIComponent(roomId)}/state`);
    const ids = (type: string) => (state.body as any[]).filter((e) => e.type === type).map((e) => e.event_id as string);
    const version = getRoomVersion((state.body as any[]).find((e) => e.type === 'm.room.create').content.room_version ?? '12')!;
    let deep: unknown = 1;
    for (let i = 0; i < MAX_EVENT_DEPTH; i++) deep = { a: deep };
    const pdu: PDU = hashAndSignEvent(
      {
        room_id: roomId,
        sender: `@mallory:${A}`,
        type: 'm.room.message',
        content: { msgtype: 'm.text', body: 'deep', deep },
        origin_server_ts: Date.now(),
        depth: 10,
        prev_events: ids('m.room.member').slice(-1),
        auth_events: [...(version.roomIdFromCreateEvent ? [] : ids('m.room.create')), ...ids('m.room.power_levels')],
      } as never,
      version,
      A,
      aKey,
    );
    const r = await send(freshTxnId(), txn({ pdus: [pdu] }));
    assert.equal(r.status, 200);
    const results = Object.values(r.body.pdus) as Array<{ error?: string }>;
    assert.equal(results.length, 1, JSON.stringify(r.body));
    assert.match(results[0]!.error ?? '', /canonical JSON.*deeper than/);
  });

  test('an unsigned /send is 401 M_UNAUTHORIZED', async () => {
    const r = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: pb,
          method: 'PUT',
          path: '/_matrix/federation/v1/send/x',
          headers: { 'content-type': 'application/json' },
          rejectUnauthorized: false,
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(txn()));
    });
    validator.validateErrorBody(r.body);
    assert.equal(r.status, 401);
    assert.equal(r.body.errcode, 'M_UNAUTHORIZED');
  });
});
