// A Hearth desktop on a test LAN (test/helpers/netns.ts): `hearth serve` run inside host i's
// network namespace with the desktop's LAN config: a key-bound server name (no server_name: the
// config derives it from the data dir's signing key), federation on 0.0.0.0:8448 under policy
// 'lan', LAN sharing on or off. Its client API listens on the host's LAN address (not loopback),
// only so that this test process, in the root namespace, reaches it over the bridge; the federation
// port is the one the checks of "nothing listens on the LAN" look at.
// Used by test/lan/ and bench/lan.ts.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Lan } from './netns.ts';

const HEARTH = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));
/** Each desktop has its namespace to itself, so both ports are fixed: 8448 as the spec's default. */
export const CLIENT_PORT = 8008;
export const FEDERATION_PORT = 8448;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export interface LanDesktop {
  /** The host (namespace) index it runs on. */
  index: number;
  dataDir: string;
  /** The key-bound name, read from the ready line (stable across restarts). */
  serverName: string;
  /** The client API's base URL on the host's current address. */
  url(): string;
  /** Spawns `hearth serve`; resolves at its ready line with the ms from spawn to ready. */
  start(): Promise<number>;
  /** Sends `signal` (SIGTERM: a clean stop, goodbyes sent) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  running(): boolean;
  /** Everything every run wrote to stderr, for a failing test. */
  log(): string;
}

/** `webRoot`: the built web client to serve at `/` (the browser tests, test/e2e/). */
export function lanDesktop(lan: Lan, index: number, opts: { dataDir: string; sharing: boolean; webRoot?: string }): LanDesktop {
  const dataDir = opts.dataDir;
  fs.mkdirSync(dataDir, { recursive: true });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';
  let runs = 0;
  const desktop: LanDesktop = {
    index,
    dataDir,
    serverName: '',
    url: () => `http://${lan.hosts[index]!.address}:${CLIENT_PORT}`,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    log: () => stderr,
    async start() {
      const address = lan.hosts[index]!.address;
      fs.writeFileSync(path.join(dataDir, 'hearth.yaml'), desktopConfig(address, opts.sharing, opts.webRoot));
      runs++;
      stderr += `---- run ${runs} of host ${index} at ${address}\n`;
      const t0 = performance.now();
      const c = lan.exec(index, process.execPath, [HEARTH, 'serve', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      exited = new Promise((resolve) => c.once('exit', () => resolve()));
      let stdout = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`host ${index} not ready after ${READY_TIMEOUT_MS} ms:\n${stderr.slice(-3000)}`)), READY_TIMEOUT_MS);
        c.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const m = /^hearth ready client=\S+ server_name=(\S+)/m.exec(stdout);
          if (m) {
            clearTimeout(timer);
            desktop.serverName = m[1]!;
            resolve();
          }
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`host ${index} exited (${c.exitCode ?? c.signalCode}) before ready:\n${stderr.slice(-3000)}`));
        });
      });
      return performance.now() - t0;
    },
    async stop(signal = 'SIGTERM') {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      c.kill(signal);
      const kill = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(kill);
    },
  };
  return desktop;
}

function desktopConfig(address: string, sharing: boolean, webRoot?: string): string {
  return [
    ...(webRoot !== undefined ? [`web_root: ${JSON.stringify(webRoot)}`] : []),
    `listen: "${address}:${CLIENT_PORT}"`,
    'registration: open',
    // The tests register, invite and send in quick succession from one address.
    'rate_limit:',
    '  per_second: 100000',
    '  burst: 100000',
    '  registration_burst: 100000',
    'federation:',
    `  listen: "0.0.0.0:${FEDERATION_PORT}"`,
    '  policy: lan',
    'lan:',
    `  sharing: ${sharing}`,
    '',
  ].join('\n');
}

export interface LanUser {
  userId: string;
  accessToken: string;
  /** The desktop it lives on (its URL follows the host's address). */
  desktop: LanDesktop;
}

/**
 * Registers `username` on the desktop through the real UIA flow (m.login.dummy), without a
 * password (the spec makes it optional): scrypt would add a second per user on a busy machine,
 * inside the few seconds the LAN checks allow.
 */
export async function registerLanUser(desktop: LanDesktop, username: string): Promise<LanUser> {
  const url = `${desktop.url()}/_matrix/client/v3/register`;
  const first = await fetch(url, { method: 'POST', body: JSON.stringify({ username }) });
  const { session } = (await first.json()) as { session: string };
  const res = await fetch(url, { method: 'POST', body: JSON.stringify({ username, auth: { type: 'm.login.dummy', session } }) });
  if (res.status !== 200) throw new Error(`register ${username} on host ${desktop.index}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { user_id: string; access_token: string };
  return { userId: body.user_id, accessToken: body.access_token, desktop };
}

/** A JSON request to the user's desktop (`path` from `/_matrix/`), with the user's token. */
export async function lanCall(user: LanUser, method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${user.desktop.url()}/_matrix${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed };
}

/** lanCall that throws unless the answer is 200. */
export async function lanOk(user: LanUser, method: string, urlPath: string, body?: unknown): Promise<any> {
  const r = await lanCall(user, method, urlPath, body);
  if (r.status !== 200) throw new Error(`${method} ${urlPath} on host ${user.desktop.index} -> ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export const NEARBY = '/client/unstable/org.hearth.lan/nearby';
export const SHARING = '/client/unstable/org.hearth.lan/sharing';

export interface NearbyPeer {
  server_name: string;
  label?: string;
  version: string;
  addresses: string[];
  last_seen_ts: number;
  users: Array<{ user_id: string; displayname?: string; avatar_url?: string }>;
}

export interface Nearby {
  sharing: boolean;
  server_name: string;
  peers: NearbyPeer[];
  reports: Array<{ server_name: string; kind: string; detail: string; from: string; ts: number }>;
}

export async function nearby(user: LanUser): Promise<Nearby> {
  return (await lanOk(user, 'GET', NEARBY)) as Nearby;
}

/** The peers' server names in the user's /nearby, sorted. */
export async function nearbyNames(user: LanUser): Promise<string[]> {
  return (await nearby(user)).peers.map((p) => p.server_name).sort();
}

let txn = 0;

/** Sends an m.text; resolves with the event id. */
export async function sendText(user: LanUser, roomId: string, body: string): Promise<string> {
  const r = await lanOk(user, 'PUT', `/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/lan-${process.pid}-${++txn}`, {
    msgtype: 'm.text',
    body,
  });
  return r.event_id as string;
}

/** The bodies of the m.room.message events in the room, oldest first (up to 1,000). */
export async function messageBodies(user: LanUser, roomId: string): Promise<string[]> {
  const r = await lanOk(user, 'GET', `/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=1000`);
  return (r.chunk as Array<{ type: string; content: { body?: unknown } }>)
    .filter((e) => e.type === 'm.room.message' && typeof e.content.body === 'string')
    .map((e) => e.content.body as string)
    .reverse();
}

/** The room ids the user has a pending invite to, from an initial /sync. */
export async function invitedRooms(user: LanUser): Promise<string[]> {
  const r = await lanOk(user, 'GET', '/client/v3/sync?timeout=0');
  return Object.keys(r.rooms?.invite ?? {});
}

/**
 * A desktop's signing keys as its federation listener serves them (GET /_matrix/key/v2/server,
 * the self-signed certificate accepted: this is a look, not a trust decision).
 */
export function serverKeys(address: string): Promise<Record<string, { key: string }>> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port: FEDERATION_PORT, path: '/_matrix/key/v2/server', rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text).verify_keys);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}
