// A JSON request whose response is checked against the spec before the test sees it: every error
// must be the standard error body, and every response the spec describes must match its schema.
import assert from 'node:assert/strict';
import { clientServerValidator } from './openapi.ts';
import type { TestServer, TestUser } from './server.ts';

const validator = clientServerValidator();

/** Any running homeserver: a TestServer, or a child process's `hearth ready client=URL`. */
export type ServerLike = Pick<TestServer, 'url'>;

export interface CheckedResponse {
  status: number;
  body: any;
  headers: Headers;
}

export interface CheckedOptions {
  /** The raw request body, sent as is (for bodies that are not JSON). */
  raw?: string;
  headers?: Record<string, string>;
  /** The path is deliberately not an operation of the spec (or not with this method). */
  unspecified?: boolean;
}

/** The full URL path: as given when it starts with '/_matrix' or '/.well-known', else under /_matrix/client/v3. */
export function fullPath(path: string): string {
  return path.startsWith('/_matrix/') || path.startsWith('/.well-known/') ? path : `/_matrix/client/v3${path}`;
}

/** Sends a request and validates the response; fails the test on any shape the spec does not allow. */
export async function checked(
  server: ServerLike,
  user: TestUser | undefined,
  method: string,
  path: string,
  body?: unknown,
  opts: CheckedOptions = {},
): Promise<CheckedResponse> {
  const urlPath = fullPath(path);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  if (user) headers.authorization = `Bearer ${user.accessToken}`;
  const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const res = await fetch(`${server.url}${urlPath}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      assert.fail(`${method} ${urlPath} -> ${res.status}: body is not JSON: ${text.slice(0, 200)}`);
    }
  }
  validate(method, urlPath, res.status, parsed, opts.unspecified ?? false);
  return { status: res.status, body: parsed, headers: res.headers };
}

export function validate(method: string, urlPath: string, status: number, body: unknown, unspecified = false): void {
  const context = `${method} ${urlPath} -> ${status}`;
  // A UIA 401 is the auth state (flows, session), not an error body, unless a stage failed.
  const isUia = status === 401 && typeof body === 'object' && body !== null && 'flows' in body;
  if (status >= 400 && (!isUia || 'errcode' in body)) validator.validateErrorBody(body, context);
  if (!unspecified) validator.validateResponse(method, urlPath, status, body);
}

/** Asserts a standard error with this status and errcode; returns the body for further checks. */
export function assertError(res: CheckedResponse, status: number, errcode: string): any {
  assert.equal(res.status, status, `expected ${status} ${errcode}, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.errcode, errcode, `expected ${errcode}, got ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The server still answers: /versions, and whoami when a user is given. */
export async function assertStillServing(server: ServerLike, user?: TestUser): Promise<void> {
  const versions = await checked(server, undefined, 'GET', '/_matrix/client/versions');
  assert.equal(versions.status, 200);
  if (user) {
    const whoami = await checked(server, user, 'GET', '/account/whoami');
    assert.equal(whoami.status, 200);
    assert.equal(whoami.body.user_id, user.userId);
  }
}

/** Every event of a room, oldest first, by paginating /messages backwards until there is no `end`. */
export async function allMessages(server: ServerLike, user: TestUser, roomId: string): Promise<any[]> {
  const events: any[] = [];
  let from: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const q = new URLSearchParams({ dir: 'b', limit: '1000' });
    if (from) q.set('from', from);
    const res = await checked(server, user, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?${q}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    events.push(...res.body.chunk);
    if (res.body.end === undefined || res.body.end === from) return events.reverse();
    from = res.body.end;
  }
  assert.fail('pagination did not end');
}
