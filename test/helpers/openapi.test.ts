import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  apiLoadMs,
  assertNoValidationFailures,
  clearValidationFailures,
  clientServerValidator,
  loadApiValidator,
  matrixSpecDir,
  serverServerValidator,
  validatingFetch,
  validationCounts,
  validationFailures,
} from './openapi.ts';

const CS = '/_matrix/client/v3';
const csDir = resolve(matrixSpecDir(), 'data/api/client-server');
const fixtureDir = resolve(import.meta.dirname, 'openapi/fixture/api');

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

describe('client-server validator', () => {
  const v = clientServerValidator();

  test('a correct /versions body validates', () => {
    const body = { versions: ['v1.11', 'v1.12'], unstable_features: { 'org.example.feature': true } };
    assert.equal(v.validateResponse('GET', '/_matrix/client/versions', 200, body), 'validated');
  });

  test('a /versions body with versions: 5 fails with a message naming method, path and field', () => {
    assert.throws(
      () => v.validateResponse('GET', '/_matrix/client/versions', 200, { versions: 5 }),
      (err: Error) => {
        assert.match(err.message, /GET \/_matrix\/client\/versions -> 200/);
        assert.match(err.message, /\/versions must be array/);
        assert.match(err.message, /body: \{"versions":5\}/);
        return true;
      },
    );
  });

  test("the spec's own /sync example validates, and breaking a field behind a $ref fails", () => {
    const example = v.responseExample('GET', `${CS}/sync`, 200);
    assert.ok(isObj(example) && typeof example.next_batch === 'string', 'sync example found in sync.yaml');
    // Example $refs (m.presence.yaml, m.typing.yaml, ...) are resolved, not left as {"$ref": ...}.
    assert.doesNotMatch(JSON.stringify(example), /"\$ref"/);
    assert.equal(v.validateResponse('GET', `${CS}/sync`, 200, example), 'validated');

    const broken = structuredClone(example) as { rooms: { join: Record<string, { timeline: { events: Array<Record<string, unknown>> } }> } };
    const [roomId] = Object.keys(broken.rooms.join);
    const event = broken.rooms.join[roomId as string]?.timeline.events[0];
    assert.ok(event);
    event.origin_server_ts = 'yesterday'; // defined in definitions/client_event_without_room_id.yaml
    assert.throws(() => v.validateResponse('GET', `${CS}/sync`, 200, broken), /\/rooms\/join\/.*\/timeline\/events\/0\/origin_server_ts must be integer/);
  });

  test('an unknown path throws; an allow-listed one gives no-schema; a wrong method names the right ones', () => {
    assert.throws(() => v.validateResponse('GET', `${CS}/no_such_endpoint`, 200, {}), /no operation .* matches/);
    assert.throws(() => v.validateResponse('GET', '/_matrix/client/api/v1/initialSync', 200, {}), /no operation/);
    const legacy = clientServerValidator({ allowUnknownPaths: [/^\/_matrix\/client\/api\/v1\//] });
    assert.equal(legacy.validateResponse('GET', '/_matrix/client/api/v1/initialSync', 200, {}), 'no-schema');
    assert.throws(() => v.validateResponse('DELETE', `${CS}/sync`, 200, {}), /the spec has GET for this path/);
  });

  test('r0 paths are validated as their v3 equivalents', () => {
    assert.equal(v.validateResponse('GET', '/_matrix/client/r0/account/whoami', 200, { user_id: '@a:hs' }), 'validated');
    assert.throws(() => v.validateResponse('GET', '/_matrix/client/r0/account/whoami', 200, { user_id: 5 }), /user_id must be string/);
    // Without the mapping the spec has no r0 paths at all.
    assert.throws(() => loadApiValidator(csDir).validateResponse('GET', '/_matrix/client/r0/account/whoami', 200, {}), /no operation/);
  });

  test('path segments are percent-decoded and the query string is ignored', () => {
    const path = `${CS}/rooms/%21abc%3Ahs/send/m.room.message/txn%2F1?ts=1`;
    assert.equal(v.validateResponse('PUT', path, 200, { event_id: '$e' }), 'validated');
    assert.throws(() => v.validateResponse('PUT', path, 200, {}), /must have required property 'event_id'/);
  });

  test('an empty state_key (trailing slash) and /pushrules without its slash both match', () => {
    assert.equal(v.validateResponse('PUT', `${CS}/rooms/!r:hs/state/m.room.name/`, 200, { event_id: '$e' }), 'validated');
    assert.equal(v.validateResponse('GET', `${CS}/pushrules`, 200, { global: {} }), 'validated');
  });

  test('a standard error body validates for a 403 the spec declares, a malformed one fails', () => {
    const path = `${CS}/user/@a:hs/account_data/m.direct`;
    assert.equal(v.validateResponse('PUT', path, 403, { errcode: 'M_FORBIDDEN', error: 'x' }), 'validated');
    assert.throws(() => v.validateResponse('PUT', path, 403, { errcode: 403, error: 'x' }), /\/errcode must be string/);
  });

  test('validateErrorBody enforces errcode NAMESPACE_CODE and both keys', () => {
    v.validateErrorBody({ errcode: 'M_FORBIDDEN', error: 'x' });
    v.validateErrorBody({ errcode: 'COM.EXAMPLE_FORBIDDEN', error: 'x' });
    assert.throws(() => v.validateErrorBody({ errcode: 'M_FORBIDDEN' }), /error must be a string/);
    assert.throws(() => v.validateErrorBody({ errcode: 'forbidden', error: 'x' }), /not NAMESPACE_CODE/);
    assert.throws(() => v.validateErrorBody('nope'), /not a JSON object/);
  });

  test('a register 401 user-interactive auth response validates', () => {
    const uia = { flows: [{ stages: ['m.login.dummy'] }], params: {}, session: 'abc', completed: [] };
    assert.equal(v.validateResponse('POST', `${CS}/register`, 401, uia), 'validated');
    assert.throws(() => v.validateResponse('POST', `${CS}/register`, 401, { session: 'abc' }), /required property 'flows'/);
  });

  test('no-schema for a status the operation does not declare and for binary media', () => {
    assert.equal(v.validateResponse('GET', `${CS}/account/whoami`, 418, {}), 'no-schema');
    assert.equal(v.validateResponse('GET', '/_matrix/client/v1/media/download/hs/abc', 200, null), 'no-schema');
    assert.equal(v.expectsJson('GET', '/_matrix/client/v1/media/download/hs/abc', 200), false);
    assert.equal(v.expectsJson('GET', '/_matrix/client/v1/media/download/hs/abc', 429), true);
  });
});

describe('matching and refs on a fixture API', () => {
  const v = loadApiValidator(fixtureDir);

  test('a literal segment wins over a {param} at the same position', () => {
    assert.equal(v.validateResponse('GET', '/_test/v1/rooms/!r/members', 200, { chunk: [{ user_id: '@a' }] }), 'validated');
    // The generic template's body is not accepted for /members: only the most specific operation counts.
    assert.throws(() => v.validateResponse('GET', '/_test/v1/rooms/!r/members', 200, { generic: true }), /getMembers/);
    assert.equal(v.validateResponse('GET', '/_test/v1/rooms/!r/other', 200, { generic: true }), 'validated');
  });

  test('refs to a parent folder and file#pointer refs resolve relative to the file holding them', () => {
    assert.throws(() => v.validateResponse('GET', '/_test/v1/rooms/!r/members', 200, { chunk: [{}] }), /\/chunk\/0 must have required property 'user_id'/);
    assert.equal(v.validateResponse('GET', '/_test/v1/rooms/!r/x', 404, { errcode: 'M_NOT_FOUND' }), 'validated');
    assert.throws(() => v.validateResponse('GET', '/_test/v1/rooms/!r/x', 404, { errcode: 4 }), /errcode must be string/);
  });

  test('4XX and default keys are the fallbacks; a default without content is no-schema', () => {
    assert.throws(() => v.validateResponse('GET', '/_test/v1/rooms/!r/x', 429, {}), /required property 'errcode'/);
    assert.equal(v.validateResponse('GET', '/_test/v1/rooms/!r/x', 500, {}), 'no-schema');
  });

  test('response $refs, nullable, unknown formats and x- keys are handled', () => {
    assert.equal(v.validateResponse('GET', '/_test/v1/things/1', 200, { label: null, code: 'zz', count: 3 }), 'validated');
    assert.throws(() => v.validateResponse('GET', '/_test/v1/things/1', 200, { count: 1.5 }), /\/count must be integer/);
  });

  test('the validator is cached per folder', () => {
    const start = performance.now();
    loadApiValidator(fixtureDir);
    loadApiValidator(csDir);
    assert.ok(performance.now() - start < 50, 'second load reuses the parsed spec');
  });
});

describe('whole spec folders', () => {
  for (const [name, make] of [
    ['client-server', clientServerValidator],
    ['server-server', serverServerValidator],
  ] as const) {
    test(`every ${name} response schema compiles and every spec example validates`, (t) => {
      const v = make();
      const report = v.compileAll();
      t.diagnostic(
        `${name}: loaded in ${apiLoadMs(v.apiDir).toFixed(0)} ms; ${report.operations} operations, ` +
          `${report.compiled} response schemas compiled in ${report.ms.toFixed(0)} ms`,
      );
      assert.deepEqual(report.failures, []);
      assert.ok(report.compiled > (name === 'client-server' ? 300 : 50), `compiled ${report.compiled}`);
      const examples = v.allResponseExamples();
      const bad: string[] = [];
      for (const ex of examples) {
        try {
          v.validateResponse(ex.method, ex.path, ex.status, ex.body);
        } catch (err) {
          bad.push((err as Error).message);
        }
      }
      t.diagnostic(`${name}: ${examples.length} spec examples validated`);
      assert.deepEqual(bad, []);
    });
  }
});

describe('validatingFetch', () => {
  // A canned remote server: the world the helper judges, not one of our components.
  const replies: Record<string, [number, unknown, string?]> = {
    '/_matrix/client/versions': [200, { versions: ['v1.12'] }],
    '/_matrix/client/v3/account/whoami': [200, { user_id: 5 }],
    '/_matrix/client/v3/sync': [404, { error: 'no errcode' }],
    '/_matrix/client/v3/capabilities': [200, 'not json', 'text/plain'],
    '/_matrix/client/v3/unknown': [200, {}],
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const [status, body, type] = replies[path] ?? [404, { errcode: 'M_UNRECOGNIZED', error: 'x' }];
    res.writeHead(status, { 'content-type': type ?? 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  let base = '';
  before(async () => {
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const f = validatingFetch(clientServerValidator());

  test('a valid response is counted and leaves no failures; the caller still reads the body', async () => {
    clearValidationFailures();
    const res = await f(`${base}/_matrix/client/versions`);
    assert.deepEqual(await res.json(), { versions: ['v1.12'] });
    assert.deepEqual(validationFailures(), []);
    assert.equal(validationCounts().validated, 1);
    assertNoValidationFailures();
  });

  test('bad bodies, non-standard errors, non-JSON and unknown paths are recorded, not thrown', async () => {
    clearValidationFailures();
    await f(new URL(`${base}/_matrix/client/v3/account/whoami`));
    await f(`${base}/_matrix/client/v3/sync?timeout=0`);
    await f(new Request(`${base}/_matrix/client/v3/capabilities`));
    await f(`${base}/_matrix/client/v3/unknown`, { method: 'GET' });
    const failures = validationFailures();
    assert.equal(failures.length, 4, failures.join('\n'));
    assert.match(failures[0] ?? '', /GET \/_matrix\/client\/v3\/account\/whoami -> 200[\s\S]*user_id must be string/);
    assert.match(failures[1] ?? '', /sync -> 404: not a standard error response: errcode must be a string/);
    assert.match(failures[2] ?? '', /capabilities -> 200: the spec declares an application\/json body/);
    assert.match(failures[3] ?? '', /no operation/);
    assert.throws(() => assertNoValidationFailures(), /4 response\(s\) did not match the Matrix spec/);
    assert.deepEqual(validationFailures(), [], 'assert clears what it reported');
  });

  test("wrapping matrix-js-sdk's fetchFn validates what the SDK receives", async () => {
    clearValidationFailures();
    const { createClient } = await import('matrix-js-sdk');
    const client = createClient({ baseUrl: base, fetchFn: f, userId: '@a:hs', accessToken: 't' });
    const versions = await client.getVersions();
    assert.deepEqual(versions.versions, ['v1.12']);
    assert.equal(validationCounts().validated, 1);
    assertNoValidationFailures();
    // The SDK happily returns the malformed whoami; the recorded failure is what fails the test.
    await client.whoami().catch(() => undefined);
    assert.match(validationFailures().join('\n'), /whoami -> 200[\s\S]*user_id must be string/);
    clearValidationFailures();
    client.stopClient();
  });
});
