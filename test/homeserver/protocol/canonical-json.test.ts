import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, compareCodePoints } from '../../../homeserver/protocol/canonical-json.ts';

// appendices.md "Canonical JSON" > "Examples": every pair, input kept as the spec's JSON text so
// escapes (\u65E5), -0 and 1e10 go through JSON.parse exactly as a server would receive them.
const APPENDIX_EXAMPLES: [string, string][] = [
  ['{}', '{}'],
  ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
  ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
  ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
  [
    `{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {
                    "medium": "email",
                    "address": "john.doe@example.org"
                },
                {
                    "medium": "msisdn",
                    "address": "123456789"
                }
            ]
        }
    }
}`,
    '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
  ],
  ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
  ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
  ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
  ['{\n    "a": null\n}', '{"a":null}'],
  ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
];

for (const [input, expected] of APPENDIX_EXAMPLES) {
  test(`appendix example: ${JSON.stringify(JSON.parse(input))} encodes as ${expected}`, () => {
    assert.equal(canonicalJson(JSON.parse(input)), expected);
  });
}

test('control characters use the grammar escapes: named ones short, others as lowercase \\u00XX', () => {
  assert.equal(canonicalJson('\b\t\n\f\r"\\'), '"\\b\\t\\n\\f\\r\\"\\\\"');
  assert.equal(canonicalJson('\u0000\u0001\u000b\u001f'), '"\\u0000\\u0001\\u000b\\u001f"');
});

test('DEL, non-ASCII and astral characters are written verbatim, slash is not escaped', () => {
  assert.equal(canonicalJson('\u007f/é😀'), '"\u007f/é😀"');
});

test('keys sort by code point, so U+FFFF comes before an astral character', () => {
  // UTF-16 code unit order would put "😀" (0xD83D 0xDE00) first.
  assert.equal(canonicalJson({ '😀': 1, '\uffff': 2, a: 3 }), '{"a":3,"\uffff":2,"😀":1}');
  assert.ok(compareCodePoints('\uffff', '\u{10000}') < 0);
  assert.ok(compareCodePoints('ab', 'a') > 0);
  assert.equal(compareCodePoints('x', 'x'), 0);
});

test('nested arrays and objects have no whitespace and keep array order', () => {
  assert.equal(canonicalJson({ z: [3, { y: false, x: true }, []], a: {} }), '{"a":{},"z":[3,{"x":true,"y":false},[]]}');
});

test('integers at the edges of [-(2**53)+1, 2**53-1] are accepted without exponents', () => {
  assert.equal(canonicalJson([2 ** 53 - 1, -(2 ** 53) + 1]), '[9007199254740991,-9007199254740991]');
});

test('object properties holding undefined are omitted', () => {
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
});

const REJECTED: [string, unknown][] = [
  ['a float', { a: 1.5 }],
  ['2**53', 2 ** 53],
  ['-(2**53)', -(2 ** 53)],
  ['NaN', Number.NaN],
  ['Infinity', [Number.POSITIVE_INFINITY]],
  ['a bigint', 1n],
  ['undefined at top level', undefined],
  ['undefined in an array', [undefined]],
  ['a function', { f: () => 1 }],
  ['a lone high surrogate', '\ud800'],
  ['a lone low surrogate in a key', { '\udc00': 1 }],
  ['a class instance', new Date(0)],
  ['a Map', new Map()],
];
for (const [name, value] of REJECTED) {
  test(`rejects ${name} with a TypeError`, () => {
    assert.throws(() => canonicalJson(value), TypeError);
  });
}

test('rejects a cycle with a TypeError, but a shared (acyclic) object is fine', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => canonicalJson(cyclic), TypeError);
  const shared = { x: 1 };
  assert.equal(canonicalJson({ a: shared, b: shared }), '{"a":{"x":1},"b":{"x":1}}');
});

test('objects without a prototype encode like plain objects', () => {
  const bare = Object.create(null) as Record<string, unknown>;
  bare.b = 1;
  bare.a = 2;
  assert.equal(canonicalJson(bare), '{"a":2,"b":1}');
});
