// Starts a real homeserver for a test: real HTTP on a free loopback port, a real SQLite file in a
// fresh temp dir. Nothing is mocked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHomeserver, type Homeserver, type HomeserverOptions } from '../../homeserver/index.ts';
import type { HomeserverConfig } from '../../homeserver/config/types.ts';
import { serverServerValidator, recordValidationFailure, countValidated, type ApiValidator } from './openapi.ts';

export interface TestServer {
  url: string;
  /** Base of the client API: `${url}/_matrix/client/v3`. */
  api: string;
  dataDir: string;
  serverName: string;
  hs: Homeserver;
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Partial<HomeserverConfig> = {}, options: HomeserverOptions = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'hearth-test-'));
  const config: HomeserverConfig = {
    dataDir,
    serverName: 'localhost',
    listen: { host: '127.0.0.1', port: 0 },
    registration: 'open',
    registrationTokens: [],
    allowedHosts: [],
    // Tests register many users and try wrong passwords from 127.0.0.1 in quick succession; the
    // tests of these limits (test/homeserver/clientapi/abuse-limits.test.ts) start with the defaults.
    rateLimit: { perSecond: 1000, burst: 10_000, registrationBurst: 10_000, registrationsPerHour: 1_000_000, failedLoginsPerAddress: 10_000 },
    ...overrides,
  };
  const hs = createHomeserver(config, options);
  const { clientUrl } = await hs.start();
  return {
    url: clientUrl,
    api: `${clientUrl}/_matrix/client/v3`,
    dataDir,
    serverName: config.serverName,
    hs,
    async stop() {
      await hs.stop();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestUser {
  userId: string;
  accessToken: string;
  deviceId: string;
}

/** Registers a user through the real UIA flow (m.login.dummy). */
export async function registerUser(server: TestServer, username: string, password = 'correct horse battery staple'): Promise<TestUser> {
  const first = await fetch(`${server.api}/register`, { method: 'POST', body: JSON.stringify({ username, password }) });
  const { session } = (await first.json()) as { session: string };
  const res = await fetch(`${server.api}/register`, {
    method: 'POST',
    body: JSON.stringify({ username, password, auth: { type: 'm.login.dummy', session } }),
  });
  if (res.status !== 200) throw new Error(`register ${username} failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { user_id: string; access_token: string; device_id: string };
  return { userId: body.user_id, accessToken: body.access_token, deviceId: body.device_id };
}

/** A JSON request with the user's token; returns status and parsed body. */
export async function call(
  server: TestServer,
  user: TestUser | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (user) headers.authorization = `Bearer ${user.accessToken}`;
  const res = await fetch(`${server.api}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // leave as text
  }
  return { status: res.status, body: parsed };
}

/** A free loopback port, so a federating test server can be named `127.0.0.1:<port>` before it starts. */
/**
 * Ports handed out below the kernel's ephemeral range (Linux: 32768-60999), where no outgoing
 * connection takes one: a port from listen(0), closed and listened on again later, could meanwhile
 * become the local end of one of the many loopback connections the other test files make (seen as
 * EADDRINUSE under a loaded full run). Each pick is checked by listening on it.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 };
const handedOut = new Set<number>();

async function canListen(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port free on 127.0.0.1 now, outside the ephemeral range, not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found in ${PORT_RANGE.from}-${PORT_RANGE.to}`);
}

/**
 * A test server with its federation listener on 127.0.0.1:`port`, named `127.0.0.1:<port>` (an
 * IP literal with a port: reached directly, no DNS). `federation` adds trust, allow and deny lists.
 */
export async function startFederatedTestServer(
  port: number,
  federation: Partial<NonNullable<HomeserverConfig['federation']>> = {},
  overrides: Partial<HomeserverConfig> = {},
  options: HomeserverOptions = {},
): Promise<TestServer> {
  const server = await startTestServer(
    {
      serverName: `127.0.0.1:${port}`,
      ...overrides,
      federation: { listen: { host: '127.0.0.1', port }, trustSelfSigned: [], allow: [], deny: [], keyNotaries: [], ...federation },
    },
    options,
  );
  // Every answer this server gets from another one is checked against the server-server OpenAPI;
  // a mismatch is recorded for assertNoValidationFailures() (test/helpers/openapi.ts).
  const client = server.hs.federation?.client;
  if (client) client.observer = federationResponseValidator();
  return server;
}

let ssValidator: ApiValidator | undefined;

function federationResponseValidator() {
  ssValidator ??= serverServerValidator();
  const validator = ssValidator;
  return (method: string, path: string, status: number, body: unknown): void => {
    const urlPath = path.split('?')[0]!;
    const label = `federation ${method} ${urlPath} -> ${status}`;
    try {
      if (body === undefined) {
        if (validator.expectsJson(method, urlPath, status)) recordValidationFailure(`${label}: no JSON body`);
        return;
      }
      const outcome = validator.validateResponse(method, urlPath, status, body);
      if (outcome === 'no-schema' && status >= 400) validator.validateErrorBody(body, label);
      countValidated(outcome);
    } catch (err) {
      recordValidationFailure(`${label}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}
