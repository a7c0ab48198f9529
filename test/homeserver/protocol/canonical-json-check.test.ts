// findCanonicalJsonViolation (homeserver/protocol/canonical-json-check.ts): the door check for
// what canonical JSON cannot hold (appendices.md "Canonical JSON"), agreeing with canonicalJson().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { findCanonicalJsonViolation, MAX_EVENT_DEPTH } from '../../../homeserver/protocol/canonical-json-check.ts';
import { canonicalJson } from '../../../homeserver/protocol/canonical-json.ts';
import { MatrixError } from '../../../homeserver/http/matrix-error.ts';
import { parseJsonText } from '../../../homeserver/http/json-body.ts';

/** Short in `npm test`; `HEARTH_FUZZ_RUNS=100000` for the long run. */
const RUNS = Number(process.env.HEARTH_FUZZ_RUNS ?? 300);

const deep = (levels: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};
const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;

const CASES: Array<[string, unknown, RegExp | undefined]> = [
  ['an integer', 42, undefined],
  ['2^53-1', 2 ** 53 - 1, undefined],
  ['-(2^53-1)', -(2 ** 53 - 1), undefined],
  ['-0', -0, undefined],
  ['null, booleans, strings', { a: null, b: true, c: false, d: 'x' }, undefined],
  ['an astral character (a surrogate pair)', '\u{1F600}', undefined],
  ['an object property that is undefined (omitted)', { a: undefined }, undefined],
  ['a null-prototype object', Object.assign(Object.create(null), { a: 1 }), undefined],
  ['exactly the depth limit', deep(MAX_EVENT_DEPTH), undefined],
  ['a float', { a: [1, 1.5] }, /^value\.a\[1\] is not an integer/],
  ['2^53', 2 ** 53, /outside/],
  ['-(2^53)', -(2 ** 53), /outside/],
  ['Infinity (JSON 1e999)', Infinity, /not an integer/],
  ['NaN', NaN, /not an integer/],
  ['a lone high surrogate', 'a\uD800', /lone surrogate/],
  ['a lone low surrogate', '\uDC00b', /lone surrogate/],
  ['surrogates in the wrong order', '\uDC00\uD800', /lone surrogate/],
  ['a lone surrogate in a key', { '\uD83D': 1 }, /key with a lone surrogate/],
  ['one past the depth limit', deep(MAX_EVENT_DEPTH + 1), /nested deeper than 100/],
  ['a cycle (caught by depth)', cyclic, /nested deeper/],
  ['undefined in an array', [undefined], /\[0\] is undefined/],
  ['a bigint', 1n, /bigint/],
  ['a Date', new Date(0), /not a plain object/],
];

for (const [name, value, expected] of CASES) {
  test(`${name}: ${expected ? `refused (${expected.source})` : 'accepted'}`, () => {
    const found = findCanonicalJsonViolation(value, MAX_EVENT_DEPTH);
    if (expected) assert.match(found ?? '(accepted)', expected);
    else assert.equal(found, undefined);
  });
}

test('the message names the value and a cut-down path to the fault', () => {
  assert.equal(findCanonicalJsonViolation({ content: { list: [0, { x: 0.5 }] } }, 10, 'event'), 'event.content.list[1].x is not an integer (0.5)');
  const long = 'k'.repeat(1000);
  assert.ok(findCanonicalJsonViolation({ [long]: 0.5 }, 10)!.length < 120);
});

test('property: any JSON value either passes and canonicalJson() encodes it, or is refused and canonicalJson() throws (within depth)', () => {
  const anyValue = fc.oneof(
    fc.jsonValue(),
    fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withTypedArray: true, withSparseArray: true }),
    fc.jsonValue().map((v) => [v, fc.sample(fc.double(), 1)[0]]),
    fc.string({ unit: 'binary' }),
    fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()),
  );
  fc.assert(
    fc.property(anyValue, (value) => {
      const found = findCanonicalJsonViolation(value, MAX_EVENT_DEPTH);
      if (found === undefined) {
        canonicalJson(value);
      } else {
        assert.throws(() => canonicalJson(value), TypeError, found);
      }
    }),
    { numRuns: RUNS },
  );
});

test('property: any JSON text from outside is refused 400 M_BAD_JSON/M_NOT_JSON or gives a value the check answers for', () => {
  const text = fc.oneof(
    fc.json(),
    fc.string(),
    fc.tuple(fc.nat(200), fc.json()).map(([n, j]) => `${'['.repeat(n)}${j}${']'.repeat(n)}`),
  );
  fc.assert(
    fc.property(text, (t) => {
      let value: unknown;
      try {
        value = parseJsonText(t);
      } catch (err) {
        assert.ok(err instanceof MatrixError && err.status === 400, String(err));
        return;
      }
      const found = findCanonicalJsonViolation(value, MAX_EVENT_DEPTH);
      if (found === undefined) canonicalJson(value);
    }),
    { numRuns: RUNS },
  );
});
