// A JSON parser for text that comes from outside (request bodies, remote servers' answers): the
// result cannot pollute prototypes and its nesting is bounded, so that nothing recursive further
// on (canonical JSON, redaction, the serialiser of an answer) can overflow the stack.

/**
 * The deepest nesting accepted in any JSON document from outside; `{}` and `[]` are depth 1.
 * 128 is serde_json's default recursion limit, so a deeper document would already be refused by
 * the Rust servers (Conduit, and every ruma-based one): no real client or server sends one. It
 * also leaves room for the events inside such a document (see MAX_EVENT_DEPTH).
 */
export const MAX_JSON_DEPTH = 128;

/**
 * The prototype of every object parsed from outside. No string key reaches anything through it
 * (so `body.device_id` is only ever the body's own), but it converts to a string as a plain
 * object does: a null prototype alone made `${value}` and `String([value])` throw, and a message
 * naming a value of the wrong type became a 500 (found by fuzzing /send with `room_id: [{}]`).
 */
export const PARSED_OBJECT_PROTOTYPE: object = Object.freeze(Object.create(null, { [Symbol.toPrimitive]: { value: () => '[object Object]' } }) as object);

/** Whether `proto` is one a plain JSON object may have: Object.prototype, none, or a parsed one's. */
export function isPlainObjectPrototype(proto: unknown): boolean {
  return proto === Object.prototype || proto === null || proto === PARSED_OBJECT_PROTOTYPE;
}

/** Why a text was refused: `syntax` (not JSON at all) or `depth` (nested beyond the limit). */
export class JsonParseError extends Error {
  readonly reason: 'syntax' | 'depth';

  constructor(reason: 'syntax' | 'depth', message: string) {
    super(message);
    this.name = 'JsonParseError';
    this.reason = reason;
  }
}

/**
 * Parses `text` as JSON. Every object of the result has PARSED_OBJECT_PROTOTYPE: a key
 * `__proto__` is an own property like any other, and no lookup of a missing key (`body.device_id`)
 * can reach a property inherited from Object.prototype. Throws JsonParseError and nothing else.
 */
export function parseBoundedJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  // Checked before parsing: JSON.parse takes half a second over a megabyte of `[[[[`, which a
  // scan refuses in the first few hundred bytes.
  if (!depthWithin(text, maxDepth)) throw new JsonParseError('depth', `JSON nested deeper than ${maxDepth} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JsonParseError('syntax', 'not valid JSON');
  }
  dropPrototypes(value);
  return value;
}

/**
 * True when the brackets outside strings never nest deeper than `max`. For valid JSON that is
 * exactly its depth; for invalid JSON the answer does not matter, JSON.parse refuses it.
 */
function depthWithin(text: string, max: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string, escapes included.
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return true;
}

/** Gives every object in a freshly parsed value PARSED_OBJECT_PROTOTYPE; depth is already bounded. */
function dropPrototypes(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) dropPrototypes(item);
    return;
  }
  Object.setPrototypeOf(value, PARSED_OBJECT_PROTOTYPE);
  // for-in is safe here: the prototype has no enumerable string keys, so it sees only own keys.
  for (const key in value) dropPrototypes((value as Record<string, unknown>)[key]);
}
