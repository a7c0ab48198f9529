// Desktops for federation tests on loopback (issue #15): real Hearth federation listeners whose
// server names are key-bound LAN names, and a LanDirectory table saying where each one is (the
// seam between discovery and federation; discovery itself is tested in network namespaces).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { freePort, startFederatedTestServer, type TestServer } from '../../helpers/server.ts';
import { certFingerprint, lanServerName } from '../../../homeserver/protocol/lan-identity.ts';
import { encodeSigningKeyFile, generateSigningKey, type SigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { encodeUnpaddedBase64 } from '../../../homeserver/protocol/base64.ts';
import type { LanDirectory, LanPeer } from '../../../homeserver/discovery/lan-directory.ts';
import type { FederationConfig } from '../../../homeserver/config/types.ts';
import { FederationClient } from '../../../homeserver/federation/client.ts';
import { ServerAcl } from '../../../homeserver/federation/server-acl.ts';
import { AddressPolicy } from '../../../homeserver/federation/address-policy.ts';
import type { ServerResolver } from '../../../homeserver/federation/discovery.ts';
import { CERT_FILE } from '../../../homeserver/federation/tls.ts';
import { Database } from '../../../homeserver/storage/database.ts';

/** What discovery would say: peers present now, and every name ever pinned. */
export class TableDirectory implements LanDirectory {
  readonly peers = new Map<string, LanPeer>();
  readonly known = new Set<string>();
  announce(peer: LanPeer): void {
    this.peers.set(peer.serverName, peer);
    this.known.add(peer.serverName);
  }
  leave(name: string): void {
    this.peers.delete(name);
  }
  present(name: string): LanPeer | undefined {
    return this.peers.get(name.toLowerCase());
  }
  presentPeers(): LanPeer[] {
    return [...this.peers.values()];
  }
  isKnown(name: string): boolean {
    return this.known.has(name.toLowerCase());
  }
}

export interface Desktop {
  server: TestServer;
  key: SigningKey;
  port: number;
  /** What it would announce, at 127.0.0.1. */
  peer: LanPeer;
}

/**
 * A Hearth whose data dir holds `key` and whose name is `name` (by default the one `key` is bound
 * to). Loopback peers must be configured (`privatePeers`): discovery never offers loopback.
 */
export async function startDesktop(
  lan: LanDirectory,
  opts: { key?: SigningKey; name?: string; port?: number; federation?: Partial<FederationConfig> } = {},
): Promise<Desktop> {
  const key = opts.key ?? generateSigningKey();
  const port = opts.port ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-lan-'));
  writeFileSync(join(dataDir, 'signing.key'), encodeSigningKeyFile(key) + '\n', { mode: 0o600 });
  const name = opts.name ?? lanServerName(key.publicKey);
  const server = await startFederatedTestServer(port, opts.federation ?? {}, { serverName: name, dataDir }, { lanDirectory: lan });
  const stop = server.stop;
  server.stop = async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const tlsFingerprint = certFingerprint(new X509Certificate(readFileSync(join(dataDir, CERT_FILE))).raw);
  const peer: LanPeer = {
    serverName: name,
    port,
    keyId: key.keyId,
    publicKey: encodeUnpaddedBase64(key.publicKey),
    tlsFingerprint,
    version: 'test',
    users: [],
    addresses: ['127.0.0.1'],
    lastSeenTs: Date.now(),
  };
  return { server, key, port, peer };
}

/** A federation client of our own outside any server, with a temp SQLite file; `done` cleans up. */
export async function standaloneClient(
  lan: LanDirectory,
  configured: string[],
  resolver?: ServerResolver,
): Promise<{ client: FederationClient; done: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-lan-'));
  const db = await Database.open(join(dataDir, 'db.sqlite'));
  const client = new FederationClient({
    serverName: 'us.example',
    signingKey: generateSigningKey(),
    db,
    acl: new ServerAcl(),
    trustSelfSigned: [],
    policy: new AddressPolicy(configured, lan),
    ...(resolver ? { resolver } : {}),
    lan,
  });
  return {
    client,
    async done() {
      client.close();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
