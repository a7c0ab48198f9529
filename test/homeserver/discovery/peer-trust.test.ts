// Discovery's trust store over a real SQLite file (homeserver/discovery/peer-trust.ts): pins
// survive a restart, and neither pins nor reports grow without bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Database } from '../../../homeserver/storage/database.ts';
import { MAX_PINNED_PEERS, MAX_REPORTS, MAX_REPORTS_PER_WINDOW, PeerTrust, REPORT_REPEAT_MS } from '../../../homeserver/discovery/peer-trust.ts';
import type { LanPeer } from '../../../homeserver/discovery/index.ts';

async function withDb(fn: (file: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-peer-trust-'));
  try {
    await fn(path.join(dir, 'hearth.db'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const peer = (n: number, lastSeenTs: number): LanPeer => ({
  serverName: `peer${n}.local`,
  port: 8448,
  keyId: 'ed25519:k',
  publicKey: 'pk',
  tlsFingerprint: `fp${n}`,
  version: 't',
  users: ['alice'],
  addresses: ['10.0.0.2'],
  lastSeenTs,
});

test('pinned peers and reports survive a restart (a new trust store on the same database)', async () => {
  await withDb(async (file) => {
    let db = await Database.open(file);
    const trust = new PeerTrust(db, () => {});
    await trust.loaded;
    trust.remember(peer(1, 1000));
    trust.report({ serverName: peer(1, 0).serverName, kind: 'impostor', detail: 'd', from: '10.0.0.9', ts: 2000 });
    await db.close();

    db = await Database.open(file);
    const again = new PeerTrust(db, () => {});
    await again.loaded;
    assert.ok(again.isKnown(peer(1, 0).serverName.toUpperCase()), 'known, whatever the case');
    assert.equal(again.pin(peer(1, 0).serverName)?.tlsFingerprint, 'fp1');
    assert.deepEqual(await again.reports(), [{ serverName: peer(1, 0).serverName, kind: 'impostor', detail: 'd', from: '10.0.0.9', ts: 2000 }]);
    await db.close();
  });
});

test('a peer announcing again keeps the certificate pinned at first contact in the store', async () => {
  await withDb(async (file) => {
    const db = await Database.open(file);
    const trust = new PeerTrust(db, () => {});
    await trust.loaded;
    trust.remember(peer(1, 1000));
    trust.remember({ ...peer(1, 5000), tlsFingerprint: 'other' });
    await db.close();
    const reopened = await Database.open(file);
    const t = new PeerTrust(reopened, () => {});
    await t.loaded;
    assert.equal(t.pin(peer(1, 0).serverName)?.tlsFingerprint, 'fp1');
    assert.equal(t.pin(peer(1, 0).serverName)?.firstSeenTs, 1000);
    await reopened.close();
  });
});

test('a forgotten peer is pinned afresh, with its new certificate, at its next announcement, also after a restart', async () => {
  await withDb(async (file) => {
    const db = await Database.open(file);
    const trust = new PeerTrust(db, () => {});
    await trust.loaded;
    trust.remember(peer(1, 1000));
    await trust.forget(peer(1, 0).serverName.toUpperCase());
    assert.equal(trust.isKnown(peer(1, 0).serverName), false);
    await db.close();
    const reopened = await Database.open(file);
    const t = new PeerTrust(reopened, () => {});
    await t.loaded;
    assert.equal(t.isKnown(peer(1, 0).serverName), false, 'forgotten in SQLite too');
    t.remember({ ...peer(1, 9000), tlsFingerprint: 'renewed' });
    assert.equal(t.pin(peer(1, 0).serverName)?.tlsFingerprint, 'renewed');
    assert.equal(t.pin(peer(1, 0).serverName)?.firstSeenTs, 9000);
    await reopened.close();
  });
});

test(`at most ${MAX_PINNED_PEERS} peers stay pinned: the one seen longest ago is dropped`, async () => {
  await withDb(async (file) => {
    const db = await Database.open(file);
    const trust = new PeerTrust(db, () => {});
    await trust.loaded;
    // Peer 0 is seen first (oldest); the others later.
    for (let n = 0; n <= MAX_PINNED_PEERS; n++) trust.remember(peer(n, 10_000 + n));
    await db.close();
    const reopened = await Database.open(file);
    const t = new PeerTrust(reopened, () => {});
    await t.loaded;
    assert.ok(!t.isKnown(peer(0, 0).serverName), 'the oldest is gone');
    assert.ok(t.isKnown(peer(MAX_PINNED_PEERS, 0).serverName));
    assert.equal((await reopened.reader.all('SELECT server_name FROM lan_peers')).length, MAX_PINNED_PEERS);
    assert.ok(!trust.isKnown(peer(0, 0).serverName), 'dropped from memory too');
    await reopened.close();
  });
});

test(`reports: the same (name, sender, kind) once per window, at most ${MAX_REPORTS_PER_WINDOW} per window, ${MAX_REPORTS} kept`, async () => {
  await withDb(async (file) => {
    const db = await Database.open(file);
    const trust = new PeerTrust(db, () => {});
    await trust.loaded;
    const r = (name: string, ts: number, from = '10.0.0.9') => ({ serverName: name, kind: 'bad-announcement' as const, detail: 'd', from, ts });
    assert.equal(trust.report(r('x.local', 0)), true);
    assert.equal(trust.report(r('x.local', 1)), false, 'a repeat within the window');
    assert.equal(trust.report(r('x.local', 2, '10.0.0.8')), true, 'another sender is another report');
    let recorded = 2;
    for (let i = 0; i < 100; i++) if (trust.report(r(`y${i}.local`, 3))) recorded++;
    assert.equal(recorded, MAX_REPORTS_PER_WINDOW, 'a flood of forged names fills one window only');
    assert.equal(trust.report(r('x.local', REPORT_REPEAT_MS + 5)), true, 'the next window reports again');

    let ts = 10 * REPORT_REPEAT_MS;
    for (let i = 0; i < MAX_REPORTS + 30; i++, ts += REPORT_REPEAT_MS) trust.report(r(`z${i}.local`, ts));
    const kept = await trust.reports();
    assert.equal(kept.length, MAX_REPORTS);
    assert.equal(kept[0]!.serverName, `z${MAX_REPORTS + 29}.local`, 'newest first');
    assert.equal((await db.reader.all('SELECT report_id FROM lan_reports')).length, MAX_REPORTS);
    await db.close();
  });
});
