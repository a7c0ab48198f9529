// Issue #15, "It must show" 3: with LAN sharing off, nothing listens on the LAN side (checked by
// connecting to the federation port at the desktop's LAN address) and nothing is announced (checked
// by capturing on the bridge of a LAN made of network namespaces, test/helpers/netns.ts, while the
// desktop starts and runs for 5 s). Switching sharing on at run time (PUT .../org.hearth.lan/sharing,
// by the desktop's admin) makes it listen and announce, so that a desktop next to it lists it; off
// again, it says goodbye, stops listening, and sends nothing more.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLan, hasTcpdump, lanTestsSkipped, mdnsPacketsFrom, type Lan } from '../helpers/netns.ts';
import {
  CLIENT_PORT,
  FEDERATION_PORT,
  lanCall,
  lanDesktop,
  lanOk,
  nearbyNames,
  registerLanUser,
  SHARING,
  type LanDesktop,
  type LanUser,
} from '../helpers/lan-desktop.ts';
import { waitForAsync } from '../helpers/poll.ts';

const HEARTH = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));
/** The window: a capture while the desktop starts and then runs this long. */
const QUIET_MS = 5_000;
const LISTED_WITHIN_MS = 5_000;

const skip =
  (await lanTestsSkipped('the LAN sharing-off test of issue #15 (test/lan/lan-sharing-off.test.ts)')) ||
  (hasTcpdump() ? false : 'tcpdump is not installed: the capture on the bridge cannot be made');
if (skip && !skip.startsWith('NO NETWORK')) process.stderr.write(`\n!!! ${skip}: test/lan/lan-sharing-off.test.ts did NOT run\n\n`);

/** Resolves 'refused' when nothing listens at address:port, 'open' when a connection is accepted. */
function probe(address: string, port: number): Promise<'open' | 'refused'> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port });
    socket.once('connect', () => (socket.destroy(), resolve('open')));
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve('refused') : reject(err)));
  });
}

describe('a desktop with LAN sharing off', { skip, timeout: 300_000 }, () => {
  let lan: Lan;
  let scratch: string;
  let off: LanDesktop;
  let watcher: LanDesktop;
  let dave: LanUser;
  let erin: LanUser;

  before(async () => {
    lan = await createLan({ hosts: 2 });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-lan-off-'));
    // Host 1 shares and browses: it would list host 0 if host 0 announced anything.
    watcher = lanDesktop(lan, 1, { dataDir: path.join(scratch, 'watcher'), sharing: true });
    await watcher.start();
    erin = await registerLanUser(watcher, 'erin');
    off = lanDesktop(lan, 0, { dataDir: path.join(scratch, 'off'), sharing: false });
  });

  after(async () => {
    await Promise.all([off, watcher].map((d) => d?.stop()));
    const keep = process.env.HEARTH_LAN_LOGS;
    if (keep) {
      fs.mkdirSync(keep, { recursive: true });
      for (const d of [off, watcher]) if (d) fs.writeFileSync(path.join(keep, `off-host${d.index}.log`), d.log());
    }
    await lan?.destroy();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('nothing listens on its LAN address and nothing is announced while it starts and runs 5 s', async () => {
    const capture = await lan.capture();
    let packets;
    try {
      await off.start();
      dave = await registerLanUser(off, 'dave');
      await new Promise((r) => setTimeout(r, QUIET_MS));
      assert.equal(await probe(lan.hosts[0]!.address, FEDERATION_PORT), 'refused', 'the federation port is closed on the LAN side');
    } finally {
      packets = await capture.stop();
    }
    // The capture saw this desktop's traffic: its client API's answers to the registration above.
    assert.ok(
      packets.some((p) => p.srcMac === lan.hosts[0]!.mac && p.srcPort === CLIENT_PORT),
      "the capture saw the desktop's other packets",
    );
    assert.deepEqual(
      mdnsPacketsFrom(packets, lan.hosts[0]!.mac).map((p) => p.line),
      [],
      'no mDNS packet from the desktop with sharing off',
    );
    assert.deepEqual(await nearbyNames(erin), [], 'the desktop next to it lists nobody');
    const sharing = await lanOk(dave, 'GET', SHARING);
    assert.equal(sharing.enabled, false);
  });

  test("only the desktop's admin may switch sharing on", async () => {
    const refused = await lanCall(dave, 'PUT', SHARING, { enabled: true });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(await probe(lan.hosts[0]!.address, FEDERATION_PORT), 'refused');
  });

  test('switched on at run time, it listens and announces: the desktop next to it lists it', async () => {
    // The desktop app makes its local account an admin; `hearth admin grant` does it here.
    await promisify(execFile)(process.execPath, [HEARTH, 'admin', 'grant', 'dave', '--data-dir', off.dataDir]);
    const capture = await lan.capture();
    let packets;
    try {
      assert.deepEqual(await lanOk(dave, 'PUT', SHARING, { enabled: true }), {});
      assert.equal(await probe(lan.hosts[0]!.address, FEDERATION_PORT), 'open', 'the federation port listens once sharing is on');
      await waitForAsync('the watcher to list the desktop', async () => (await nearbyNames(erin)).includes(off.serverName), LISTED_WITHIN_MS, 50);
    } finally {
      packets = await capture.stop();
    }
    assert.ok(
      mdnsPacketsFrom(packets, lan.hosts[0]!.mac).some((p) => p.line.includes('_hearth._tcp')),
      'an mDNS packet from the desktop names _hearth._tcp',
    );
    assert.equal((await lanOk(dave, 'GET', SHARING)).enabled, true);
  });

  test('switched off again, it says goodbye, stops listening and sends nothing more', async () => {
    assert.deepEqual(await lanOk(dave, 'PUT', SHARING, { enabled: false }), {});
    assert.equal(await probe(lan.hosts[0]!.address, FEDERATION_PORT), 'refused');
    // Its goodbye removes it from the watcher's list (a silent peer would stay for tens of seconds).
    await waitForAsync('the watcher to drop the desktop', async () => !(await nearbyNames(erin)).includes(off.serverName), LISTED_WITHIN_MS, 50);
    const capture = await lan.capture();
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const packets = await capture.stop();
    assert.deepEqual(
      mdnsPacketsFrom(packets, lan.hosts[0]!.mac).map((p) => p.line),
      [],
      'no mDNS packet after sharing went off',
    );
  });
});
