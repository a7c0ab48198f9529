// fast-check generators of request bodies: arbitrary JSON, shapes near an operation's schema, and
// the values that canonical JSON cannot hold (kept apart: issue #13 class 2, see `nastyValue`).
import fc from 'fast-check';
import type { RequestShape } from '../helpers/route-table.ts';

/** Keys that name something on Object.prototype: issue #13 class 1, generated only by `nastyKey`. */
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

const key = fc
  .oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    // Words handlers look for, so that a random object sometimes has the field a handler reads.
    {
      weight: 2,
      arbitrary: fc.constantFrom('type', 'content', 'body', 'msgtype', 'user_id', 'room_id', 'auth', 'session', 'device_id', 'rooms', 'events', 'state_key'),
    },
  )
  .filter((k) => !(k in Object.prototype));

/** Strings: short ones of any code point (no lone surrogates), and sometimes a very long one. */
const text = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '@', '!', '#', '$', ':', '@a:b', '!r:b', 'm.room.message', 'mxc://a/b', '\u0000', '💥', 'a'.repeat(300)) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n)) },
);

/** Integers canonical JSON holds: anything in ±(2^53 - 1), the ends included. */
const integer = fc.oneof(fc.integer(), fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 31, -(2 ** 31)), fc.maxSafeInteger());

/** Any JSON value canonical JSON can hold, nested up to `maxDepth`. */
export function cleanJson(maxDepth = 6): fc.Arbitrary<unknown> {
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth, withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      integer,
      text,
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(key, tie('value'), { maxKeys: 6, noNullPrototype: true }),
    ),
  }));
  return value;
}

/** An object with the operation's own field names, each with any value (right or wrong type). */
function nearSchema(shape: RequestShape): fc.Arbitrary<unknown> {
  if (shape.properties.length === 0) return fc.dictionary(key, cleanJson(4), { maxKeys: 4, noNullPrototype: true });
  const fields = Object.fromEntries(shape.properties.map((name) => [name, cleanJson(4)]));
  return fc.record(fields, { requiredKeys: [] });
}

/** The spec's example body with one field (at any depth) replaced by any value, or removed. */
function mutatedExample(example: unknown): fc.Arbitrary<unknown> {
  const paths: string[][] = [];
  const walk = (v: unknown, path: string[]) => {
    if (path.length > 0) paths.push(path);
    if (typeof v === 'object' && v !== null && path.length < 6) for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
  };
  walk(example, []);
  if (paths.length === 0) return fc.constant(example);
  return fc.tuple(fc.constantFrom(...paths), fc.option(cleanJson(3), { nil: undefined })).map(([path, value]) => {
    const copy = structuredClone(example) as Record<string, unknown>;
    let at: Record<string, unknown> = copy;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
    const last = path[path.length - 1]!;
    if (value === undefined && Array.isArray(at)) at.splice(Number(last), 1);
    else if (value === undefined) delete at[last];
    else at[last] = value;
    return copy;
  });
}

/** Bodies for one operation: arbitrary JSON, its fields with any values, its example mutated. */
export function bodyFor(shape: RequestShape): fc.Arbitrary<unknown> {
  const options: Array<fc.Arbitrary<unknown>> = [cleanJson(), nearSchema(shape), nearSchema(shape)];
  if (shape.example !== undefined) options.push(fc.constant(shape.example), mutatedExample(shape.example), mutatedExample(shape.example));
  return fc.oneof(...options);
}

// ---- Issue #13 class 1 and 2: what the JSON body parser is being fixed to refuse --------------

/** A raw JSON value canonical JSON cannot hold: a float, an integer past 2^53, 1e999, a lone surrogate, deep nesting. */
export const nastyValue: fc.Arbitrary<{ what: string; raw: string }> = fc.oneof(
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((d) => !Number.isInteger(d))
    .map((d) => ({ what: 'float', raw: JSON.stringify(d) })),
  fc.constantFrom('0.5', '-0.0', '1.0', '1e3', '1E-7').map((raw) => ({ what: 'float', raw })),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }).map((n) => ({ what: 'integer past 2^53', raw: (Math.random() < 0.5 ? '-' : '') + n.toString() })),
  fc.constantFrom('1e999', '-1e999', '1e400').map((raw) => ({ what: 'number beyond a double', raw })),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => ({ what: 'lone surrogate', raw: `"a\\u${c.toString(16)}b"` })),
  fc.tuple(fc.integer({ min: 64, max: 5_000 }), fc.boolean()).map(([depth, arrays]) => ({
    what: `nesting ${depth} deep`,
    raw: arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
  })),
);

/** A key naming something on Object.prototype (class 1), or holding a lone surrogate (class 2). */
export const nastyKey: fc.Arbitrary<{ what: string; raw: string }> = fc.oneof(
  fc.constantFrom(...PROTOTYPE_KEYS).map((k) => ({ what: `key ${k}`, raw: JSON.stringify(k) })),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => ({ what: 'lone surrogate key', raw: `"k\\u${c.toString(16)}"` })),
);

/**
 * The raw text of a body near the operation's schema with one nasty value or key put somewhere in
 * it (at the top, or under one of its fields).
 */
export function nastyBodyFor(shape: RequestShape): fc.Arbitrary<{ what: string; text: string; [fc.toStringMethod]: () => string }> {
  const placeholder = 'HOLE-5c1e7f';
  const hole = JSON.stringify(placeholder);
  const base = fc
    .oneof(nearSchema(shape), ...(shape.example !== undefined ? [fc.constant(shape.example)] : []))
    .map((b) => (typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as Record<string, unknown>) : {}));
  const field = fc.constantFrom(...(shape.properties.length ? shape.properties : ['x']));
  return fc
    .tuple(
      base,
      field,
      fc.oneof(
        nastyValue.map((v) => ({ ...v, asKey: false })),
        nastyKey.map((k) => ({ ...k, asKey: true })),
      ),
      fc.boolean(),
    )
    .map(([body, name, nasty, nested]) => {
      const text = JSON.stringify(nested ? { ...body, [name]: { [placeholder]: placeholder } } : { ...body, [placeholder]: placeholder });
      // As a key: "<key>": <its value>; as a value: "x": <value>.
      const replaced = nasty.asKey ? text.replace(`${hole}:${hole}`, `${nasty.raw}:{"polluted":true}`) : text.replace(`${hole}:${hole}`, `"x":${nasty.raw}`);
      if (replaced === text) throw new Error(`no hole in ${text}`);
      // fast-check prints counterexamples with this: a body thousands of levels deep stays one line.
      return { what: nasty.what, text: replaced, [fc.toStringMethod]: () => `${nasty.what}: ${replaced.slice(0, 200)}${replaced.length > 200 ? '…' : ''}` };
    });
}
