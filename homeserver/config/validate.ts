// Small typed checks for config values. Each throws a ConfigError naming the source, the key,
// what was expected and what was found.

import { ConfigError, type ConfigSource } from './config-error.ts';
import { SUPPORTED_ROOM_VERSIONS } from '../protocol/room-versions.ts';

export interface Where {
  source: ConfigSource;
  key: string;
}

function fail(where: Where, expected: string, actual: unknown): never {
  throw new ConfigError({ ...where, expected, actual });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function expectString(value: unknown, where: Where, expected = 'a non-empty string'): string {
  if (typeof value !== 'string' || value.trim() === '') fail(where, expected, value);
  return value;
}

export function expectOneOf<T extends string>(value: unknown, choices: readonly T[], where: Where): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  return fail(where, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, value);
}

export function expectPositiveNumber(value: unknown, where: Where): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(where, 'a number greater than 0', value);
  }
  return value;
}

export function expectPositiveInteger(value: unknown, where: Where): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    fail(where, 'a whole number of at least 1', value);
  }
  return value;
}

export function expectBoolean(value: unknown, where: Where): boolean {
  if (typeof value !== 'boolean') fail(where, 'true or false', value);
  return value;
}

export function expectList<T>(value: unknown, where: Where, item: (value: unknown, where: Where) => T): T[] {
  if (!Array.isArray(value)) fail(where, 'a list', value);
  return value.map((v, i) => item(v, { source: where.source, key: `${where.key}[${i}]` }));
}

// Server name grammar (appendices, "Server Name"): hostname [ ":" port ], where hostname is an
// IPv4 literal, a bracketed IPv6 literal, or 1-255 characters of [A-Za-z0-9.-].
const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(?::[0-9]{1,5})?$/;

export function isServerName(text: string): boolean {
  if (!SERVER_NAME.test(text)) return false;
  const port = /:([0-9]{1,5})$/.exec(text.startsWith('[') ? text.slice(text.indexOf(']')) : text);
  return port === null || Number(port[1]) <= 65535;
}

export function expectServerName(value: unknown, where: Where): string {
  const expected = 'a server name: a host name, IPv4 or [IPv6] address, optionally with :PORT';
  if (typeof value !== 'string' || !isServerName(value)) fail(where, expected, value);
  return value;
}

/**
 * A room version Hearth implements (protocol/room-versions.ts). Versions are strings, but YAML
 * reads `default_room_version: 11` as a number, so a whole number is taken as its digits.
 */
export function expectRoomVersion(value: unknown, where: Where): string {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !SUPPORTED_ROOM_VERSIONS.includes(text)) {
    fail(where, `a room version Hearth implements: ${SUPPORTED_ROOM_VERSIONS.map((v) => `'${v}'`).join(', ')}`, value);
  }
  return text;
}

// Registration tokens (client-server API, m.login.registration_token): [A-Za-z0-9._~-], 1-64 chars.
const REGISTRATION_TOKEN = /^[A-Za-z0-9._~-]{1,64}$/;

export function expectRegistrationToken(value: unknown, where: Where): string {
  if (typeof value !== 'string' || !REGISTRATION_TOKEN.test(value)) {
    fail(where, '1 to 64 characters of A-Z, a-z, 0-9, ".", "_", "~" or "-"', value);
  }
  return value;
}

// The host check compares the Host header's name without its port (http/host-check.ts), so an
// entry with a port would never match: reject it rather than let it silently do nothing.
export function expectHost(value: unknown, where: Where): string {
  const expected = 'a host name or IP address without a port ([brackets] around IPv6)';
  if (typeof value !== 'string' || !isServerName(value) || /:[0-9]*$/.test(value.replace(/^\[.*\]/, ''))) {
    fail(where, expected, value);
  }
  return value.toLowerCase();
}

/** A `mailto:`, `https:` or `http:` URI a person can follow (the spec's `admin_contact`). */
export function expectContactUri(value: unknown, where: Where): string {
  const expected = 'a mailto:, https:// or http:// URI';
  if (typeof value !== 'string') fail(where, expected, value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(where, expected, value);
  }
  if (!['mailto:', 'https:', 'http:'].includes(url.protocol) || url.href.length <= url.protocol.length) fail(where, expected, value);
  return value;
}

export function expectBaseUrl(value: unknown, where: Where): string {
  const expected = 'an http:// or https:// URL without credentials, query or fragment';
  if (typeof value !== 'string') fail(where, expected, value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(where, expected, value);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(where, expected, value);
  if (url.username || url.password || url.search || url.hash) fail(where, expected, value);
  // No trailing slash, so that `${base}/_matrix/...` joins cleanly.
  return url.href.replace(/\/+$/, '');
}

/** Rejects keys not in `known`, suggesting the intended one for camelCase, kebab-case or typos. */
export function expectKnownKeys(object: Record<string, unknown>, known: readonly string[], source: ConfigSource, prefix = ''): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const suggestion = suggest(key, known);
    const hint = suggestion ? `did you mean '${suggestion}'? ` : '';
    throw new ConfigError({
      source,
      key: prefix + key,
      problem: `unknown key; ${hint}known keys are ${known.join(', ')}`,
    });
  }
}

function suggest(key: string, known: readonly string[]): string | undefined {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
  if (known.includes(snake)) return snake;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(snake, candidate);
    // About one edit in three: catches typos and truncations without suggesting unrelated keys.
    if (d <= Math.max(2, Math.floor(candidate.length / 3)) && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
