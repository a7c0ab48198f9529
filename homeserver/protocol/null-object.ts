// Objects safe to index with keys that come from outside (a request body, a remote server, an
// event's content). On a plain `{}`, `acc['__proto__'] = v` replaces acc's prototype, and
// `(acc['__proto__'] ??= {})[k] = v` writes `k` onto Object.prototype for the whole process
// (issue #13: one such request broke every later login). With no prototype, `__proto__` is an
// ordinary key and a missing key reads as undefined, never as something inherited.

/** A new empty object with a null prototype, typed as whatever record the caller wants. */
export function nullObject<T extends object = Record<string, unknown>>(): T {
  return Object.create(null) as T;
}
