// A homeserver with `lan` for tests (issue #15): key-bound name, federation listener on loopback,
// and discovery as a table the test fills (announcing over mDNS here would announce on the
// machine's real LAN; test/lan/ runs the real one in namespaces).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHomeserver, type Homeserver } from '../../../homeserver/index.ts';
import type { HomeserverConfig } from '../../../homeserver/config/types.ts';
import { loadOrCreateSigningKey } from '../../../homeserver/config/signing-key-file.ts';
import { lanServerName } from '../../../homeserver/protocol/lan-identity.ts';
import type { LanDiscoveryService, LanPeer, LanReport, OwnAnnouncement } from '../../../homeserver/discovery/lan-directory.ts';
import { call, freePort, type TestServer, type TestUser } from '../../helpers/server.ts';

export const LAN = '/_matrix/client/unstable/org.hearth.lan';

/** Discovery without mDNS: what it was asked to announce, and the peers the test says are there. */
export class TableDiscovery extends EventEmitter implements LanDiscoveryService {
  running = false;
  own: OwnAnnouncement | undefined;
  starts = 0;
  peers: LanPeer[] = [];
  reportList: LanReport[] = [];
  async start(own: OwnAnnouncement) {
    this.own = own;
    this.running = true;
    this.starts++;
  }
  async stop() {
    this.running = false;
  }
  async update(own: OwnAnnouncement) {
    this.own = own;
  }
  present(name: string) {
    return this.running ? this.peers.find((p) => p.serverName === name) : undefined;
  }
  presentPeers() {
    return this.running ? [...this.peers] : [];
  }
  isKnown(name: string) {
    return this.peers.some((p) => p.serverName === name);
  }
  async reports() {
    return this.reportList;
  }
  forgotten: string[] = [];
  async forget(name: string) {
    this.forgotten.push(name);
  }
}

export interface LanServer extends TestServer {
  discovery: TableDiscovery;
  fedPort: number;
  admin: TestUser;
}

/** A homeserver with `lan`, its key-bound name, its federation listener on 127.0.0.1:fedPort. */
export async function startLanServer(
  opts: {
    dataDir?: string;
    fedPort?: number;
    sharing?: boolean;
    federation?: Partial<NonNullable<HomeserverConfig['federation']>>;
    discovery?: TableDiscovery;
    discoveryCannotBeMade?: boolean;
  } = {},
): Promise<LanServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'hearth-lan-'));
  const serverName = lanServerName(loadOrCreateSigningKey(dataDir).publicKey);
  const fedPort = opts.fedPort ?? (await freePort());
  const config: HomeserverConfig = {
    dataDir,
    serverName,
    listen: { host: '127.0.0.1', port: 0 },
    registration: 'open',
    registrationTokens: [],
    allowedHosts: [],
    rateLimit: { perSecond: 1000, burst: 10_000, registrationBurst: 10_000, registrationsPerHour: 1_000_000 },
    federation: { listen: { host: '127.0.0.1', port: fedPort }, trustSelfSigned: [], allow: [], deny: [], keyNotaries: [], ...opts.federation },
    lan: { sharing: opts.sharing ?? false },
  };
  const discovery = opts.discovery ?? new TableDiscovery();
  const hs: Homeserver = createHomeserver(config, {
    createLanDiscovery: () => {
      if (opts.discoveryCannotBeMade) throw new Error('no discovery here');
      return discovery;
    },
  });
  const { clientUrl } = await hs.start();
  const server: TestServer = { url: clientUrl, api: `${clientUrl}/_matrix/client/v3`, dataDir, serverName, hs, stop: () => hs.stop() };
  const { token } = await hs.loginTokenFor('owner', { admin: true });
  const login = await call(server, undefined, 'POST', '/login', { type: 'm.login.token', token });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  const admin = { userId: login.body.user_id, accessToken: login.body.access_token, deviceId: login.body.device_id };
  return { ...server, discovery, fedPort, admin };
}

/** Calls an org.hearth.lan endpoint. */
export async function lan(server: TestServer, user: TestUser | undefined, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (user) headers.authorization = `Bearer ${user.accessToken}`;
  const res = await fetch(`${server.url}${LAN}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as any };
}

/** Connects to 127.0.0.1:port over TLS: the certificate served, or the connection error's code. */
export function connect(port: number): Promise<{ cert: X509Certificate } | { error: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'x.local' }, () => {
      const cert = new X509Certificate(socket.getPeerX509Certificate()!.raw);
      socket.destroy();
      resolve({ cert });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

/** True when nothing accepts TCP connections on 127.0.0.1:port. */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}
