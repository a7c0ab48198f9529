// People nearby asks each nearby user's server for their profile (discovery/lan-sharing.ts). A LAN
// full of desktops announcing many users must not make one GET /nearby open a request per user at
// once: at most MAX_PROFILE_FETCHES are in flight, and the others start as those finish.
// The federation side is the SharingFederation seam, here a recorder of profile queries: what is
// tested is how many LanSharing starts, not federation (tested on its own in test/homeserver/federation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Database } from '../../../homeserver/storage/database.ts';
import { LanSharing, MAX_PROFILE_FETCHES } from '../../../homeserver/discovery/lan-sharing.ts';
import type { LanDiscoveryService, LanPeer } from '../../../homeserver/discovery/lan-directory.ts';
import { generateSelfSigned } from '../../../homeserver/federation/tls.ts';
import { waitForAsync } from '../../helpers/poll.ts';

class ListedPeers extends EventEmitter {
  running = false;
  peers: LanPeer[] = [];
  async start() {
    this.running = true;
  }
  async stop() {
    this.running = false;
  }
  async update() {}
  async forget() {}
  async reports() {
    return [];
  }
  present(name: string) {
    return this.peers.find((p) => p.serverName === name);
  }
  presentPeers() {
    return this.running ? this.peers : [];
  }
  isKnown() {
    return true;
  }
}

test(`GET /nearby's profile queries: at most ${MAX_PROFILE_FETCHES} at once, the rest as those finish`, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-nearby-profiles-'));
  const db = await Database.open(path.join(dir, 'hearth.sqlite'));
  const { cert } = await generateSelfSigned('localhost', '127.0.0.1');
  const discovery = new ListedPeers();
  // 10 desktops announcing 10 users each: 100 profiles to ask for.
  discovery.peers = Array.from({ length: 10 }, (_, i) => ({
    serverName: `peer${i}.local`,
    port: 8448,
    keyId: 'ed25519:a',
    publicKey: 'pk',
    tlsFingerprint: 'fp',
    version: '1',
    users: Array.from({ length: 10 }, (_, j) => `u${j}`),
    addresses: ['10.0.0.2'],
    lastSeenTs: 1,
  }));
  const asked: Array<() => void> = [];
  let inFlight = 0;
  let most = 0;
  const sharing = new LanSharing({
    db,
    config: {
      dataDir: dir,
      serverName: 'me.local',
      listen: { host: '127.0.0.1', port: 0 },
      registration: 'closed',
      registrationTokens: [],
      allowedHosts: [],
      rateLimit: { perSecond: 1, burst: 1 },
      lan: { sharing: true },
    },
    discovery: () => discovery as unknown as LanDiscoveryService,
    federation: {
      listen: async () => ({ port: 8448, tlsCert: cert }),
      unlisten: async () => {},
      setDomains: () => {},
      peerAppeared: () => {},
      profile: () =>
        new Promise((resolve) => {
          inFlight++;
          most = Math.max(most, inFlight);
          asked.push(() => {
            inFlight--;
            resolve({ displayname: 'someone' });
          });
        }),
    },
    putAccountData: async () => {},
    version: '1',
    log: () => {},
  });
  try {
    await sharing.start();
    await sharing.watch('@owner:me.local');
    await sharing.nearby(false);
    assert.equal(asked.length, MAX_PROFILE_FETCHES, 'only so many asked at first');
    // Answer them one by one: the others are asked (by the push that follows each batch), never more at once.
    for (let answered = 0; answered < 100; answered++) {
      await waitForAsync(`profile query ${answered + 1}`, async () => asked.length > answered);
      asked[answered]!();
    }
    assert.equal(asked.length, 100, 'every profile asked for once');
    assert.ok(most <= MAX_PROFILE_FETCHES, `at most ${MAX_PROFILE_FETCHES} in flight, saw ${most}`);
  } finally {
    await sharing.stop();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
