// Canonical JSON (appendices.md "Canonical JSON"): the bytes every signature and hash in Matrix
// is computed over. Room versions 6+ enforce it strictly (rooms/fragments/v6-canonical-json.md).
//
// Written here rather than taken from `another-json` (matrix-org's encoder): that package passes
// the appendix examples but escapes control characters as `\U0001` (invalid JSON; the grammar
// requires `\u0001`), sorts keys by UTF-16 code unit instead of by code point, and lets floats
// and NaN through.
import { isPlainObjectPrototype } from './bounded-json.ts';

/** Largest magnitude allowed for a number: the range is [-(2**53)+1, (2**53)-1]. */
const MAX_SAFE = 2 ** 53 - 1;
/**
 * Nesting beyond which encoding stops with a TypeError instead of overflowing the stack. Far above
 * what gets in: request bodies are bounded at 128 levels and events at 100 (bounded-json.ts,
 * canonical-json-check.ts).
 */
const MAX_DEPTH = 512;

/**
 * Encodes `value` as canonical JSON: no insignificant whitespace, object keys sorted by Unicode
 * code point, non-ASCII characters unescaped, integers only.
 *
 * Throws a `TypeError` for what canonical JSON cannot represent: non-integer numbers, integers
 * outside [-(2**53)+1, (2**53)-1], NaN and infinities, lone surrogates (no UTF-8 encoding exists),
 * bigint, symbols, functions, `undefined` outside an object property, non-plain objects, cycles
 * and nesting deeper than MAX_DEPTH.
 * Object properties whose value is `undefined` are omitted, as `JSON.stringify` would.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, new Set());
}

function encode(value: unknown, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'number':
      return encodeNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (ancestors.has(value)) throw new TypeError('canonical JSON: cyclic structure');
      if (ancestors.size >= MAX_DEPTH) throw new TypeError(`canonical JSON: nested deeper than ${MAX_DEPTH} levels`);
      ancestors.add(value);
      try {
        return Array.isArray(value) ? encodeArray(value, ancestors) : encodeObject(value, ancestors);
      } finally {
        ancestors.delete(value);
      }
    default:
      throw new TypeError(`canonical JSON: cannot encode a ${typeof value}`);
  }
}

function encodeNumber(n: number): string {
  if (!Number.isInteger(n)) throw new TypeError(`canonical JSON: ${n} is not an integer`);
  if (n > MAX_SAFE || n < -MAX_SAFE) throw new TypeError(`canonical JSON: ${n} is out of range`);
  // `-0` must not appear; the appendix example encodes it as `0`. String(-0) is already "0",
  // and safe integers never print with an exponent (that starts at 1e21).
  return String(n);
}

// A lone (unpaired) UTF-16 surrogate: JSON.stringify would escape it, but the canonical grammar
// has no such escape and the string has no UTF-8 encoding.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function encodeString(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new TypeError('canonical JSON: string has a lone surrogate');
  // For well-formed strings JSON.stringify produces exactly the grammar's string: `\b \t \n \f \r
  // \" \\`, other controls as lowercase `\u00XX`, everything else (including U+007F) verbatim.
  return JSON.stringify(s);
}

function encodeArray(items: unknown[], ancestors: Set<object>): string {
  const parts: string[] = [];
  for (let i = 0; i < items.length; i++) {
    if (items[i] === undefined) throw new TypeError('canonical JSON: undefined in an array');
    parts.push(encode(items[i], ancestors));
  }
  return `[${parts.join(',')}]`;
}

function encodeObject(obj: object, ancestors: Set<object>): string {
  if (!isPlainObjectPrototype(Object.getPrototypeOf(obj))) {
    throw new TypeError('canonical JSON: only plain objects can be encoded');
  }
  const record = obj as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined);
  keys.sort(compareCodePoints);
  const parts: string[] = [];
  for (const key of keys) parts.push(`${encodeString(key)}:${encode(record[key], ancestors)}`);
  return `{${parts.join(',')}}`;
}

/**
 * Orders strings by Unicode code point ("keys lexicographically sorted by Unicode codepoint").
 * JavaScript's default sort compares UTF-16 code units, which puts astral characters (encoded as
 * surrogates 0xD800-0xDFFF) before U+E000..U+FFFF; shifting those two ranges past each other
 * restores code point order.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

function fixup(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
