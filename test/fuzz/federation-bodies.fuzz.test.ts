// Issue #13, "It must show" 2, federation side: fast-check bodies for every federation operation
// that takes one (read from the listener's router), signed by a real second server so that they
// pass request authentication and reach the handlers. Besides arbitrary JSON and the operation's
// own fields, transactions carry PDUs built like real ones and then mutated (re-signed, so that
// they reach event validation and the auth rules) and EDUs of every type with mutated content.
// Whatever the body: no 500, every error the standard {errcode, error}, and both servers still
// answer afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { call, freePort, startFederatedTestServer, type TestServer } from '../helpers/server.ts';
import { requestShape, routerOperations, type RoutedOperation } from '../helpers/route-table.ts';
import { freshTxnId, malformed, setUpOwner, type Answer, type Fixture } from '../helpers/route-fixture.ts';
import { assertStillServing } from '../helpers/checked-call.ts';
import { signRequest } from '../../homeserver/federation/request-auth.ts';
import { hashAndSignEvent, type DraftPDU } from '../../homeserver/protocol/event-hashing.ts';
import { getRoomVersion } from '../../homeserver/protocol/room-versions.ts';
import { decodeSigningKeyFile, type SigningKey } from '../../homeserver/protocol/signing-key.ts';
import { bodyFor, cleanJson } from './json-arbitraries.ts';
import { fuzzRuns, fuzzSeed, longRun } from './fuzz-runs.ts';

const rv = getRoomVersion('12')!;

/** The key server's own query: on the open router, which the running server does not expose. */
const KEY_QUERY: RoutedOperation = { method: 'POST', path: '/_matrix/key/v2/query', params: [] };

/** `value` with the field at one path (any depth) replaced by any JSON value, or removed. */
function mutate(value: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const paths: string[][] = [];
  const walk = (v: unknown, path: string[]) => {
    if (path.length > 0) paths.push(path);
    if (typeof v === 'object' && v !== null && path.length < 5) for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
  };
  walk(value, []);
  return fc.tuple(fc.constantFrom(...paths), fc.option(cleanJson(3), { nil: undefined }), fc.boolean()).map(([path, replacement, twice]) => {
    const copy = structuredClone(value);
    let at: Record<string, unknown> = copy;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
    const last = path[path.length - 1]!;
    if (replacement === undefined && !twice) {
      if (Array.isArray(at)) at.splice(Number(last), 1);
      else delete at[last];
    } else at[last] = replacement ?? null;
    return copy;
  });
}

describe('federation bodies, fuzzed: no 500, only standard errors, the server keeps serving', { timeout: longRun ? 24 * 3600_000 : 300_000 }, () => {
  let a: TestServer, b: TestServer;
  let aName: string, bName: string;
  let bKey: SigningKey;
  let f: Fixture;
  /** Ids in A's room that a PDU from B refers to. */
  let refs: { create: string; powerLevels: string; joinRules: string; latest: string };

  before(async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    aName = `127.0.0.1:${pa}`;
    bName = `127.0.0.1:${pb}`;
    a = await startFederatedTestServer(pa, { trustSelfSigned: [bName] });
    b = await startFederatedTestServer(pb, { trustSelfSigned: [aName] });
    bKey = decodeSigningKeyFile(readFileSync(join(b.dataDir, 'signing.key'), 'utf8'));
    f = await setUpOwner(a, 'public_chat');
    const r = encodeURIComponent(f.roomId);
    const state = (await call(a, f.alice, 'GET', `/rooms/${r}/state`)).body as Array<{ type: string; event_id: string }>;
    const id = (type: string) => state.find((e) => e.type === type)!.event_id;
    const latest = (await call(a, f.alice, 'GET', `/rooms/${r}/messages?dir=b&limit=1`)).body.chunk[0].event_id;
    refs = { create: id('m.room.create'), powerLevels: id('m.room.power_levels'), joinRules: id('m.room.join_rules'), latest };
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const mallory = () => `@mallory:${bName}`;

  /** A PDU as B would send it into A's room: a message, or a join (for send_join and invites). */
  function draft(kind: 'message' | 'join'): Record<string, unknown> {
    return {
      room_id: f.roomId,
      sender: mallory(),
      type: kind === 'join' ? 'm.room.member' : 'm.room.message',
      ...(kind === 'join' ? { state_key: mallory() } : {}),
      content: kind === 'join' ? { membership: 'join' } : { msgtype: 'm.text', body: 'from B' },
      // Room v12: the create event is not an auth event (its id is the room id).
      auth_events: [refs.powerLevels, refs.joinRules],
      prev_events: [refs.latest],
      depth: 10,
      origin_server_ts: Date.now(),
    };
  }

  /** A mutated PDU, signed by B after the mutation when it still can be (so that it passes the signature check). */
  const pdu = (kind: 'message' | 'join') =>
    mutate(draft(kind)).map((mutated) => {
      try {
        return hashAndSignEvent(mutated as unknown as DraftPDU, rv, bName, bKey) as unknown as Record<string, unknown>;
      } catch {
        return mutated;
      }
    });

  /** EDUs of every type the server handles, their content built like the real ones, then mutated. */
  const edu = () =>
    fc.oneof(
      ...[
        { edu_type: 'm.typing', content: { room_id: f.roomId, user_id: mallory(), typing: true } },
        { edu_type: 'm.receipt', content: { [f.roomId]: { 'm.read': { [mallory()]: { event_ids: [f.eventId], data: { ts: 1 } } } } } },
        { edu_type: 'm.presence', content: { push: [{ user_id: mallory(), presence: 'online', last_active_ago: 1, currently_active: true }] } },
        { edu_type: 'm.device_list_update', content: { user_id: mallory(), device_id: 'D', stream_id: 1, prev_id: [], deleted: false, keys: {} } },
        {
          edu_type: 'm.direct_to_device',
          content: { sender: mallory(), type: 'm.room_key_request', message_id: 'm1', messages: { [f.alice.userId]: { '*': { a: 1 } } } },
        },
        {
          edu_type: 'm.signing_key_update',
          content: { user_id: mallory(), master_key: { user_id: mallory(), usage: ['master'], keys: { 'ed25519:x': 'x' } } },
        },
      ].map((e) => mutate(e)),
    );

  function bodies(op: RoutedOperation): fc.Arbitrary<unknown> {
    const generic = bodyFor(requestShape(op));
    if (op.path.endsWith('/send/:txnId')) {
      const txn = fc
        .record({ pdus: fc.array(pdu('message'), { maxLength: 3 }), edus: fc.array(edu(), { maxLength: 3 }) })
        .map(({ pdus, edus }) => ({ origin: bName, origin_server_ts: Date.now(), pdus, edus }));
      return fc.oneof(generic, txn, txn, txn);
    }
    if (/\/(send_join|send_leave|send_knock|invite)\//.test(op.path)) {
      const invite = pdu('join').map((event) => ({ event, room_version: '12', invite_room_state: [] }));
      return fc.oneof(generic, pdu('join'), op.path.includes('/invite/') ? invite : pdu('join'));
    }
    return generic;
  }

  function signedRequest(method: string, path: string, body: unknown): Promise<Answer> {
    const headers = {
      'content-type': 'application/json',
      authorization: signRequest({ method, uri: path, origin: bName, destination: aName, content: body }, bKey),
    };
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: Number(aName.split(':')[1]), method, path, headers, rejectUnauthorized: false }, (res) => {
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
      req.end(JSON.stringify(body));
    });
  }

  function pathOf(op: RoutedOperation): string {
    const values: Record<string, string> = { roomId: f.roomId, eventId: f.eventId, txnId: freshTxnId(), userId: mallory() };
    return op.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => encodeURIComponent(values[name] ?? 'x'));
  }

  test('any body to any federation operation: never a 500, errors always {errcode, error}', async () => {
    const operations = [...routerOperations(a.hs.federation!.federationRouter).filter((op) => op.method !== 'GET'), KEY_QUERY];
    assert.ok(operations.length >= 9, `only ${operations.length} federation operations with a body`);
    const arbitrary = fc.constantFrom(...operations).chain((op) => fc.tuple(fc.constant(op), bodies(op)));
    await fc.assert(
      fc.asyncProperty(arbitrary, async ([op, body]) => {
        const res = await signedRequest(op.method, pathOf(op), body);
        assert.deepEqual(malformed(`${op.method} ${op.path} with ${JSON.stringify(body)?.slice(0, 400)}`, res), []);
      }),
      { numRuns: fuzzRuns(operations.length * 25), seed: fuzzSeed(), examples: operations.map((op) => [[op, {}]]) as never },
    );
  });

  test('both servers still answer after the fuzzing', async () => {
    await assertStillServing(a, f.alice);
    await assertStillServing(b);
  });
});
