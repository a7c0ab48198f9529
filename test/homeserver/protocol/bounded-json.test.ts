// The parser for JSON from outside (homeserver/protocol/bounded-json.ts) and the body parser over
// it (homeserver/http/json-body.ts): null prototypes, bounded depth, and nothing thrown but the
// errors they promise, whatever the input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { JsonParseError, MAX_JSON_DEPTH, PARSED_OBJECT_PROTOTYPE, parseBoundedJson } from '../../../homeserver/protocol/bounded-json.ts';
import { parseJsonBytes, parseJsonText } from '../../../homeserver/http/json-body.ts';
import { MatrixError } from '../../../homeserver/http/matrix-error.ts';

/** Short in `npm test`; `HEARTH_FUZZ_RUNS=100000` for the long run. */
const RUNS = Number(process.env.HEARTH_FUZZ_RUNS ?? 300);

const nest = (n: number, open = '[', close = ']', inner = '') => open.repeat(n) + inner + close.repeat(n);

test('every parsed object has the parsed prototype, which no string key reaches, so __proto__ is an ordinary own key', () => {
  const v = parseBoundedJson('{"__proto__": {"device_id": 1}, "a": [{"b": {}}]}') as Record<string, any>;
  assert.equal(Object.getPrototypeOf(v), PARSED_OBJECT_PROTOTYPE);
  assert.equal(Object.getPrototypeOf(v.a[0]), PARSED_OBJECT_PROTOTYPE);
  assert.equal(Object.getPrototypeOf(v.a[0].b), PARSED_OBJECT_PROTOTYPE);
  assert.deepEqual(Object.keys(v), ['__proto__', 'a']);
  const proto = '__proto__';
  assert.equal(Object.getPrototypeOf(v[proto]), PARSED_OBJECT_PROTOTYPE);
  assert.equal(v[proto].device_id, 1);
  assert.equal(v.device_id, undefined);
  for (const key of ['toString', 'valueOf', 'constructor', 'hasOwnProperty', '__defineGetter__']) assert.equal(v[key], undefined, `${key} is not inherited`);
  assert.deepEqual(Object.getOwnPropertyNames(PARSED_OBJECT_PROTOTYPE), []);
  assert.ok(Object.isFrozen(PARSED_OBJECT_PROTOTYPE));
  assert.equal(Array.isArray(v.a), true);
});

test('a parsed object converts to a string as a plain object does, so a message naming it cannot throw', () => {
  const v = parseBoundedJson('{"room_id": [{}], "x": {"y": 1}}') as Record<string, any>;
  assert.equal(String(v.room_id), '[object Object]');
  assert.equal(`${v.x}`, '[object Object]');
  assert.equal(String(v), '[object Object]');
});

const DEPTH_CASES: Array<[string, string, 'ok' | 'depth' | 'syntax']> = [
  ['scalars are depth 0', '1', 'ok'],
  ['exactly the limit, arrays', nest(MAX_JSON_DEPTH), 'ok'],
  ['exactly the limit, objects', nest(MAX_JSON_DEPTH - 1, '{"a":', '}', '{}'), 'ok'],
  ['one past the limit, arrays', nest(MAX_JSON_DEPTH + 1), 'depth'],
  ['one past the limit, objects', nest(MAX_JSON_DEPTH, '{"a":', '}', '{}'), 'depth'],
  ['a megabyte of [ is refused by depth, not parsed', '['.repeat(1 << 20), 'depth'],
  ['brackets inside strings do not count', JSON.stringify({ s: '['.repeat(1000) }), 'ok'],
  ['an escaped quote does not end a string', JSON.stringify({ s: '\\"[[[' + '['.repeat(500) }), 'ok'],
  ['wide but shallow is fine', `[${'[],'.repeat(10_000)}[]]`, 'ok'],
  ['not JSON', '{"a":', 'syntax'],
  ['empty', '', 'syntax'],
  ['unbalanced closers do not hide depth', `]]]]${nest(MAX_JSON_DEPTH + 1)}`, 'syntax'],
];

for (const [name, text, expected] of DEPTH_CASES) {
  test(`depth: ${name} -> ${expected}`, () => {
    if (expected === 'ok') {
      parseBoundedJson(text);
      return;
    }
    assert.throws(
      () => parseBoundedJson(text),
      (err) => err instanceof JsonParseError && err.reason === expected,
    );
  });
}

test('the body parser maps too deep to 400 M_BAD_JSON and not JSON or not UTF-8 to 400 M_NOT_JSON', () => {
  const is = (errcode: string) => (err: unknown) => err instanceof MatrixError && err.status === 400 && err.errcode === errcode;
  assert.throws(() => parseJsonText(nest(MAX_JSON_DEPTH + 1)), is('M_BAD_JSON'));
  assert.throws(() => parseJsonText('{'), is('M_NOT_JSON'));
  assert.throws(() => parseJsonBytes(Uint8Array.of(0x7b, 0xff, 0x7d)), is('M_NOT_JSON'));
  assert.deepEqual({ ...(parseJsonBytes(Buffer.from('{"a":1}')) as object) }, { a: 1 });
});

test('property: any string either parses to what JSON.parse gives, or throws JsonParseError', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), (text) => {
      let expected: unknown;
      try {
        expected = JSON.parse(text);
      } catch {
        assert.throws(() => parseBoundedJson(text), JsonParseError);
        return;
      }
      try {
        assert.equal(JSON.stringify(parseBoundedJson(text)), JSON.stringify(expected));
      } catch (err) {
        assert.ok(err instanceof JsonParseError && err.reason === 'depth', String(err));
      }
    }),
    { numRuns: RUNS },
  );
});

test('property: any bytes given to the body parser throw nothing but MatrixError 400', () => {
  const nested = fc.tuple(fc.nat(300), fc.constantFrom('[', '{"k":'), fc.string()).map(([n, open, tail]) => Buffer.from(open.repeat(n) + tail));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        nested,
        fc.json().map((j) => Buffer.from(j)),
      ),
      (bytes) => {
        try {
          parseJsonBytes(bytes);
        } catch (err) {
          assert.ok(err instanceof MatrixError && err.status === 400 && (err.errcode === 'M_NOT_JSON' || err.errcode === 'M_BAD_JSON'), String(err));
        }
      },
    ),
    { numRuns: RUNS },
  );
});
