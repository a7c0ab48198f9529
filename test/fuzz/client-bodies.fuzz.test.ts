// Issue #13, "It must show" 2: fast-check bodies for every Client-Server operation that takes one
// (every routed POST, PUT and DELETE, read from the routers: test/helpers/route-table.ts), sent by
// the owner of the ids in the path so that they reach the handlers' logic. Whatever the body: no
// 500, every error the standard {errcode, error}, and the server still answers afterwards.
//
// The values canonical JSON cannot hold and the keys that name Object.prototype (issue #13 classes
// 1 and 2, being fixed in the JSON body parser) are in client-parser-classes.fuzz.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { call, registerUser, startTestServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { clientOperationsWithBody, requestShape, type RoutedOperation } from '../helpers/route-table.ts';
import { PASSWORD, fillPath, malformed, send, setUpOwner, type Fixture } from '../helpers/route-fixture.ts';
import { assertStillServing } from '../helpers/checked-call.ts';
import { bodyFor } from './json-arbitraries.ts';
import { fuzzRuns, fuzzSeed, longRun } from './fuzz-runs.ts';

/** Operations that end the caller's session whatever the body: called by a throwaway user. */
const ENDS_SESSION = /\/(logout(\/all)?|account\/deactivate|account\/password)$/;
/** Operations that may take A out of the fuzzed room, after which A is put back. */
const MAY_LEAVE = /\/rooms\/:roomId\/(leave|kick|ban|forget)$/;

describe('Client-Server bodies, fuzzed: no 500, only standard errors, the server keeps serving', { timeout: longRun ? 24 * 3600_000 : 300_000 }, () => {
  let server: TestServer;
  let f: Fixture;
  /** A second admin of the room, who lets A back in when a fuzzed body made A leave or get banned. */
  let carol: TestUser;
  let throwaways = 0;
  const operations = clientOperationsWithBody();

  before(async () => {
    server = await startTestServer();
    f = await setUpOwner(server, 'public_chat');
    carol = await registerUser(server, 'carol', PASSWORD);
    const r = encodeURIComponent(f.roomId);
    assert.equal((await call(server, carol, 'POST', `/rooms/${r}/join`, {})).status, 200);
    const pl = (await call(server, f.alice, 'GET', `/rooms/${r}/state/m.room.power_levels/`)).body;
    const raised = await call(server, f.alice, 'PUT', `/rooms/${r}/state/m.room.power_levels/`, { ...pl, users: { ...pl.users, [carol.userId]: 100 } });
    assert.equal(raised.status, 200);
  });
  after(() => server?.stop());

  /** Puts A back in the room if the last case took A out. */
  async function rejoin(): Promise<void> {
    const r = encodeURIComponent(f.roomId);
    const member = await call(server, carol, 'GET', `/rooms/${r}/state/m.room.member/${encodeURIComponent(f.alice.userId)}`);
    if (member.body?.membership === 'join') return;
    if (member.body?.membership === 'ban') await call(server, carol, 'POST', `/rooms/${r}/unban`, { user_id: f.alice.userId });
    const joined = await call(server, f.alice, 'POST', `/rooms/${r}/join`, {});
    assert.equal(joined.status, 200, `A could not rejoin: ${JSON.stringify(joined.body)}`);
  }

  /** The user for the operations that may end a session; replaced once one of them succeeded. */
  let throwaway: TestUser | undefined;

  async function attempt(op: RoutedOperation, body: unknown): Promise<void> {
    const endsSession = ENDS_SESSION.test(op.path);
    if (endsSession) throwaway ??= await registerUser(server, `fuzz-throwaway-${++throwaways}`, PASSWORD);
    const token = endsSession ? throwaway!.accessToken : f.alice.accessToken;
    const res = await send(server, op.method, fillPath(op, f), token, body);
    if (endsSession && (res.status < 400 || res.body?.errcode === 'M_UNKNOWN_TOKEN')) throwaway = undefined;
    const problems = malformed(`${op.method} ${op.path} with ${JSON.stringify(body)?.slice(0, 300)}`, res);
    if (MAY_LEAVE.test(op.path)) await rejoin();
    assert.deepEqual(problems, []);
  }

  test('every operation with a body is fuzzed (over 60 of them)', () => {
    assert.ok(operations.length > 60, `only ${operations.length} operations`);
  });

  test('any body to any operation: never a 500, errors always {errcode, error}', async () => {
    const arbitrary = fc.constantFrom(...operations).chain((op) => fc.tuple(fc.constant(op), bodyFor(requestShape(op))));
    await fc.assert(
      fc.asyncProperty(arbitrary, ([op, body]) => attempt(op, body)),
      {
        numRuns: fuzzRuns(operations.length * 3),
        seed: fuzzSeed(),
        // Each operation at least once with an empty body and with the spec's own example.
        examples: operations.flatMap((op) => [[[op, {}]], ...(requestShape(op).example !== undefined ? [[[op, requestShape(op).example]]] : [])]) as never,
      },
    );
  });

  // The random run cannot promise to reach every field with every type in a few seconds; this
  // sweep does, for the fields the spec names: each one, alone, with a value of each JSON type.
  test('each field of each operation, given a value of each JSON type in the spec example: never a 500', async () => {
    const kinds: unknown[] = ['x', -1, true, null, [1, 'a'], { a: { b: 1 } }];
    let sent = 0;
    for (const op of operations) {
      const { properties, example } = requestShape(op);
      const base = typeof example === 'object' && example !== null && !Array.isArray(example) ? (example as Record<string, unknown>) : {};
      for (const field of properties) {
        for (const value of kinds) {
          await attempt(op, { ...base, [field]: value });
          sent++;
        }
      }
    }
    assert.ok(sent > 400, `only ${sent} requests`);
  });

  test('the server still answers /versions and whoami after the fuzzing', async () => {
    await assertStillServing(server, f.alice);
  });
});
