// Whether a value can be represented in canonical JSON (appendices.md "Canonical JSON"), checked
// at the door: room versions 6+ make servers enforce it strictly, "a 400 M_BAD_JSON error on most
// endpoints, or discarding of events over federation" (rooms/fragments/v6-canonical-json.md).
// Checked without encoding, and without recursing deeper than the limit, so that any value (even
// a cyclic or absurdly deep one) gets an answer instead of a stack overflow.
import { isPlainObjectPrototype } from './bounded-json.ts';

/**
 * The deepest an event may be, counting the event object itself as 1 (so its content may nest 99
 * levels). Events travel inside other documents that the Rust clients and servers parse with a
 * 128-level limit (see MAX_JSON_DEPTH): a /sync answer puts an event 6 levels down
 * (rooms.join.<id>.timeline.events[]), `unsigned.prev_content` holds a content one level deeper
 * than the event's own, a federation transaction 2 levels. 100 keeps every one of those under 128.
 */
export const MAX_EVENT_DEPTH = 100;

/** Largest magnitude allowed for a number: the range is [-(2**53)+1, (2**53)-1]. */
const MAX_SAFE = 2 ** 53 - 1;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What in `value` canonical JSON cannot hold, as a message naming where (`content.a[2]`), or
 * undefined when canonicalJson() can encode it. Refused: non-integer numbers, integers outside
 * ±(2^53−1), NaN and infinities (JSON's `1e999`), lone surrogates in strings or keys, nesting
 * deeper than `maxDepth` (the value itself is depth 1 when it is an object or array), and anything
 * that is not JSON (undefined in an array, functions, class instances). An object property whose
 * value is undefined is allowed: canonicalJson() omits it, as JSON.stringify does.
 */
export function findCanonicalJsonViolation(value: unknown, maxDepth: number, name = 'value'): string | undefined {
  const problem = check(value, 0, maxDepth);
  return problem && `${name}${problem.at} ${problem.what}`;
}

/** A problem and where it is; `at` is built on the way back up, so a valid value costs no strings. */
interface Problem {
  at: string;
  what: string;
}

function check(value: unknown, depth: number, maxDepth: number): Problem | undefined {
  switch (typeof value) {
    case 'string':
      return LONE_SURROGATE.test(value) ? { at: '', what: 'has a lone surrogate' } : undefined;
    case 'number':
      if (!Number.isInteger(value)) return { at: '', what: `is not an integer (${value})` };
      if (value > MAX_SAFE || value < -MAX_SAFE) return { at: '', what: 'is outside ±(2^53-1)' };
      return undefined;
    case 'boolean':
      return undefined;
    case 'object': {
      if (value === null) return undefined;
      if (depth + 1 > maxDepth) return { at: '', what: `is nested deeper than ${maxDepth} levels` };
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const problem = value[i] === undefined ? { at: '', what: 'is undefined' } : check(value[i], depth + 1, maxDepth);
          if (problem) return { at: `[${i}]${problem.at}`, what: problem.what };
        }
        return undefined;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (!isPlainObjectPrototype(proto)) return { at: '', what: 'is not a plain object' };
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (LONE_SURROGATE.test(key)) return { at: '', what: 'has a key with a lone surrogate' };
        if (record[key] === undefined) continue;
        const problem = check(record[key], depth + 1, maxDepth);
        if (problem) return { at: `.${shortKey(key)}${problem.at}`, what: problem.what };
      }
      return undefined;
    }
    default:
      return { at: '', what: `is a ${typeof value}, not JSON` };
  }
}

/** Keys go into error messages: a megabyte-long one is cut. */
function shortKey(key: string): string {
  return key.length > 64 ? `${key.slice(0, 61)}...` : key;
}
