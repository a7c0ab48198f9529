// Issue #13 classes 1 and 2, fuzzed over every Client-Server operation with a body: a key naming
// Object.prototype (`__proto__`, `constructor`...), a float, an integer past 2^53, `1e999`, a lone
// surrogate, nesting thousands deep, put anywhere in a body near the operation's schema. Each must
// be refused with a standard error (400 M_BAD_JSON, or M_NOT_JSON) or accepted harmlessly — never
// a 500 — and no such request may change Object.prototype for the process.
//
// This file runs apart from client-bodies.fuzz.test.ts because, until the parser is fixed, these
// bodies pollute Object.prototype in the process that runs the server (which is this test's).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { clientOperationsWithBody, requestShape, type RoutedOperation } from '../helpers/route-table.ts';
import { fillPath, malformed, setUpOwner, type Answer, type Fixture } from '../helpers/route-fixture.ts';
import { assertStillServing } from '../helpers/checked-call.ts';
import { nastyBodyFor } from './json-arbitraries.ts';
import { fuzzRuns, fuzzSeed, longRun } from './fuzz-runs.ts';

/** Operations whose body the server never reads as JSON (media bytes, HTML forms) or that end the session. */
const SKIP = /\/(logout(\/all)?|account\/deactivate|account\/password)$|\/_matrix\/media\/|\/fallback\/web$/;

async function sendRaw(server: TestServer, op: RoutedOperation, f: Fixture, text: string): Promise<Answer> {
  const res = await fetch(`${server.url}${fillPath(op, f)}`, {
    method: op.method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${f.alice.accessToken}` },
    body: text,
  });
  const answer = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(answer);
  } catch {
    body = undefined;
  }
  return { status: res.status, text: answer, body };
}

/** The names on Object.prototype that a polluting request could have added. */
function prototypeNames(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort();
}

describe('Client-Server bodies with values canonical JSON cannot hold, or Object.prototype keys', { timeout: longRun ? 24 * 3600_000 : 300_000 }, () => {
  let server: TestServer;
  let f: Fixture;
  const operations = clientOperationsWithBody().filter((op) => !SKIP.test(op.path));
  const cleanPrototype = prototypeNames();

  before(async () => {
    server = await startTestServer();
    f = await setUpOwner(server, 'public_chat');
  });
  after(() => server?.stop());

  test('a float, 2^53+, 1e999, a lone surrogate, deep nesting or a __proto__ key in any body: a standard 4xx, never a 500', async () => {
    const arbitrary = fc.constantFrom(...operations).chain((op) => fc.tuple(fc.constant(op), nastyBodyFor(requestShape(op))));
    await fc.assert(
      fc.asyncProperty(arbitrary, async ([op, { what, text }]) => {
        const res = await sendRaw(server, op, f, text);
        assert.deepEqual(malformed(`${op.method} ${op.path} with ${what}: ${text.slice(0, 300)}`, res), []);
      }),
      { numRuns: fuzzRuns(operations.length * 4), seed: fuzzSeed() },
    );
  });

  test('no request changed Object.prototype, and the server still answers', async () => {
    const polluted = prototypeNames().filter((name) => !cleanPrototype.includes(name));
    assert.deepEqual(polluted, [], 'Object.prototype has new properties');
    await assertStillServing(server, f.alice);
  });
});
