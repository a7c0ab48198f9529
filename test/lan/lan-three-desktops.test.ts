// Issue #15, "It must show" 1, 2 and 4: a LAN built on this machine from network namespaces on a
// bridge (test/helpers/netns.ts), a Hearth desktop (`hearth serve`, LAN sharing on, policy 'lan')
// in each of three, found by real multicast DNS-SD. A user on A invites a user on B picked from A's
// "people nearby" list; they chat both ways; C's user joins; A stops and leaves B's and C's lists;
// while it is away B and C send; A comes back at another address with the same name and key, and
// what was sent while it was away arrives once. Then a crafted announcer claims A's name with its
// own key (refused, reported, never listed), and a peer that was never announced is never contacted
// (a listener counts connections; a capture on the bridge shows no packet towards it and no DNS).
// The bounds (5 s to list, 10 s to drop a peer that stopped) are the issue's own.
// Where namespaces cannot be made (not root, no iproute2) the tests are skipped with a banner.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { createLan, hasTcpdump, lanTestsSkipped, type Capture, type Lan } from '../helpers/netns.ts';
import {
  invitedRooms,
  lanCall,
  lanDesktop,
  lanOk,
  messageBodies,
  nearby,
  nearbyNames,
  registerLanUser,
  sendText,
  serverKeys,
  type LanDesktop,
  type LanUser,
  type Nearby,
} from '../helpers/lan-desktop.ts';
import { waitForAsync } from '../helpers/poll.ts';
import { lanServerName, nameMatchesKey } from '../../homeserver/protocol/lan-identity.ts';
import { generateSigningKey } from '../../homeserver/protocol/signing-key.ts';

/** The issue's bounds: listed within 5 s by real multicast; gone from the lists within 10 s of stopping. */
const LISTED_WITHIN_MS = 5_000;
const GONE_WITHIN_MS = 10_000;
/** Federation between processes on a shared 2-core machine: deliveries get longer than on loopback. */
const DELIVERY_MS = 30_000;
/** The content of the user's `org.hearth.lan.nearby` global account data, as /sync delivers it. */
async function nearbyAccountData(user: LanUser): Promise<Nearby | undefined> {
  const s = await lanOk(user, 'GET', '/client/v3/sync?timeout=0');
  return (s.account_data?.events ?? []).find((e: { type: string }) => e.type === 'org.hearth.lan.nearby')?.content;
}

/** How long a peer is watched for contacting what it must not (the never-announced name). */
const QUIET_WATCH_MS = 3_000;
const IMPOSTOR = new URL('../fixtures/lan-impostor.ts', import.meta.url).pathname;
const COUNTING_LISTENER = new URL('../fixtures/lan-counting-listener.ts', import.meta.url).pathname;

const skip = await lanTestsSkipped('the three-desktop LAN test of issue #15 (test/lan/lan-three-desktops.test.ts)');

describe('three Hearth desktops on a LAN of network namespaces', { skip, timeout: 600_000 }, () => {
  let lan: Lan;
  let scratch: string;
  let A: LanDesktop, B: LanDesktop, C: LanDesktop;
  let alice: LanUser, bob: LanUser, carol: LanUser;
  let readyAt = 0;
  let roomId = '';
  let aliceKeyBefore = '';
  const extra: ChildProcess[] = [];

  before(async () => {
    // Hosts 0-2 are the desktops, 3 is for the impostor and the never-announced listener.
    lan = await createLan({ hosts: 4 });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-lan-'));
    [A, B, C] = ['a', 'b', 'c'].map((n, i) => lanDesktop(lan, i, { dataDir: path.join(scratch, n), sharing: true })) as [LanDesktop, LanDesktop, LanDesktop];
    await Promise.all([A, B, C].map((d) => d.start()));
    readyAt = performance.now();
    [alice, bob, carol] = await Promise.all([registerLanUser(A, 'alice'), registerLanUser(B, 'bob'), registerLanUser(C, 'carol')]);
  });

  after(async () => {
    for (const c of extra) c.kill('SIGKILL');
    await Promise.all([A, B, C].map((d) => d?.stop()));
    // HEARTH_LAN_LOGS=DIR keeps each desktop's stderr, for a failing run.
    const keep = process.env.HEARTH_LAN_LOGS;
    if (keep) {
      fs.mkdirSync(keep, { recursive: true });
      for (const d of [A, B, C]) if (d) fs.writeFileSync(path.join(keep, `three-host${d.index}.log`), d.log());
    }
    await lan?.destroy();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('each desktop lists the other two within 5 s of being ready, found by real multicast', async () => {
    const want = (me: LanDesktop) =>
      [A, B, C]
        .filter((d) => d !== me)
        .map((d) => d.serverName)
        .sort();
    const left = LISTED_WITHIN_MS - (performance.now() - readyAt);
    await waitForAsync(
      'every desktop to list the other two',
      async () => {
        const lists = await Promise.all([alice, bob, carol].map((u) => nearbyNames(u)));
        return lists.every((l, i) => JSON.stringify(l) === JSON.stringify(want([A, B, C][i]!)));
      },
      Math.max(0, left),
      50,
    ).catch(async (err) => {
      const lists = await Promise.all([alice, bob, carol].map((u) => nearby(u)));
      throw new Error(`${(err as Error).message}; names ${[A, B, C].map((d) => d.serverName)}; lists ${JSON.stringify(lists)}`);
    });
    // Each is listed at its namespace's address, under its key-bound name.
    const fromB = await nearby(bob);
    assert.deepEqual(fromB.peers.find((p) => p.server_name === A.serverName)?.addresses, [lan.hosts[0]!.address]);
    assert.equal(fromB.server_name, B.serverName);
    assert.equal(fromB.sharing, true);
  });

  test("A's user invites B's user picked from A's nearby list, and they chat both ways", async () => {
    // The list shows each peer's local users (announced) once the peer has them.
    const bobListed = await waitForAsync("bob in A's nearby list", async () =>
      (await nearby(alice)).peers.find((p) => p.server_name === B.serverName)?.users.find((u) => u.user_id === bob.userId),
    );
    roomId = (await lanOk(alice, 'POST', '/client/v3/createRoom', { preset: 'private_chat', is_direct: true })).room_id;
    await lanOk(alice, 'POST', `/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: bobListed.user_id });
    await waitForAsync('the invite at B', async () => (await invitedRooms(bob)).includes(roomId), DELIVERY_MS);
    await lanOk(bob, 'POST', `/client/v3/join/${encodeURIComponent(roomId)}`, {});

    await sendText(alice, roomId, 'hello bob, from the desk by the window');
    await waitForAsync("alice's message at B", async () => (await messageBodies(bob, roomId)).includes('hello bob, from the desk by the window'), DELIVERY_MS);
    await sendText(bob, roomId, 'hello alice, no server anywhere');
    await waitForAsync("bob's message at A", async () => (await messageBodies(alice, roomId)).includes('hello alice, no server anywhere'), DELIVERY_MS);
  });

  test("C's user, invited from the nearby list, joins and talks with both", async () => {
    const carolListed = await waitForAsync("carol in A's nearby list", async () =>
      (await nearby(alice)).peers.find((p) => p.server_name === C.serverName)?.users.find((u) => u.user_id === carol.userId),
    );
    await lanOk(alice, 'POST', `/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: carolListed.user_id });
    await waitForAsync('the invite at C', async () => (await invitedRooms(carol)).includes(roomId), DELIVERY_MS);
    await lanOk(carol, 'POST', `/client/v3/join/${encodeURIComponent(roomId)}`, {});
    await sendText(carol, roomId, 'carol here');
    for (const u of [alice, bob]) {
      await waitForAsync(`carol's message at ${u.userId}`, async () => (await messageBodies(u, roomId)).includes('carol here'), DELIVERY_MS);
    }
    await sendText(bob, roomId, 'welcome carol');
    await waitForAsync("bob's welcome at C", async () => (await messageBodies(carol, roomId)).includes('welcome carol'), DELIVERY_MS);
  });

  test("A stops and leaves B's and C's lists within 10 s, and bob's /sync says so", async () => {
    aliceKeyBefore = Object.values(await serverKeys(lan.hosts[0]!.address))[0]!.key;
    const stoppedAt = performance.now();
    await A.stop('SIGTERM');
    await waitForAsync(
      "A gone from B's and C's lists",
      async () => {
        const lists = await Promise.all([bob, carol].map((u) => nearbyNames(u)));
        return lists.every((l) => !l.includes(A.serverName));
      },
      Math.max(0, GONE_WITHIN_MS - (performance.now() - stoppedAt)),
      50,
    );
    // Clients that do not poll /nearby learn it through /sync.
    await waitForAsync("A gone from bob's org.hearth.lan.nearby account data", async () => {
      const content = await nearbyAccountData(bob);
      return content !== undefined && !content.peers.some((p) => p.server_name === A.serverName);
    });
  });

  test('A comes back at another address and is found again (lists and /sync) with the same name and key; what was sent while it was away arrives once', async () => {
    const away = ['sent while A was away 1', 'sent while A was away 2', 'sent while A was away 3'];
    for (const body of away) await sendText(bob, roomId, body);
    await sendText(carol, roomId, 'carol, also while A was away');
    const nameBefore = A.serverName;
    const oldAddress = lan.hosts[0]!.address;
    await lan.readdress(0, 100);
    assert.notEqual(lan.hosts[0]!.address, oldAddress);
    await A.start();
    const backAt = performance.now();
    assert.equal(A.serverName, nameBefore, 'the name survives the restart and the new address');
    await waitForAsync(
      "A back in B's and C's lists at its new address",
      async () => {
        const lists = await Promise.all([bob, carol].map((u) => nearby(u)));
        return lists.every((l) => JSON.stringify(l.peers.find((p) => p.server_name === nameBefore)?.addresses) === JSON.stringify([lan.hosts[0]!.address]));
      },
      Math.max(0, LISTED_WITHIN_MS - (performance.now() - backAt)),
      50,
    );
    await waitForAsync("A back in bob's org.hearth.lan.nearby account data, at its new address", async () =>
      (await nearbyAccountData(bob))?.peers.some((p) => p.server_name === nameBefore && p.addresses.includes(lan.hosts[0]!.address)),
    );
    const keys = Object.values(await serverKeys(lan.hosts[0]!.address)).map((k) => k.key);
    assert.deepEqual(keys, [aliceKeyBefore], 'the same signing key');
    assert.ok(nameMatchesKey(nameBefore, aliceKeyBefore));

    const expected = [...away, 'carol, also while A was away'];
    await waitForAsync(
      'the messages sent while A was away, at A',
      async () => {
        const bodies = await messageBodies(alice, roomId);
        return expected.every((b) => bodies.includes(b));
      },
      DELIVERY_MS,
    );
    // One more, sent now, arrives after them on the same queue: any repeat of the earlier ones would be in by then.
    await sendText(bob, roomId, 'after A came back');
    await waitForAsync('the message sent after the return, at A', async () => (await messageBodies(alice, roomId)).includes('after A came back'), DELIVERY_MS);
    const bodies = await messageBodies(alice, roomId);
    for (const b of [...expected, 'after A came back']) assert.equal(bodies.filter((x) => x === b).length, 1, `${b} arrived once`);
  });

  test("a peer announcing A's name with another key is refused, reported, and never listed", async () => {
    const impostor = lan.exec(3, process.execPath, [IMPOSTOR, A.serverName], { stdio: ['ignore', 'pipe', 'pipe'] });
    extra.push(impostor);
    let out = '';
    impostor.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    impostor.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
    try {
      await waitForAsync('the impostor to announce', async () => out.includes('announced'));
      for (const u of [bob, carol]) {
        const report = await waitForAsync(`an impostor report at ${u.userId}`, async () =>
          (await nearby(u)).reports.find((r) => r.kind === 'impostor' && r.server_name === A.serverName),
        );
        assert.equal(report.from, lan.hosts[3]!.address);
        const list = await nearby(u);
        const a = list.peers.find((p) => p.server_name === A.serverName);
        assert.deepEqual(a?.addresses, [lan.hosts[0]!.address], 'A stays listed at its own address only');
        assert.ok(!list.peers.some((p) => p.addresses.includes(lan.hosts[3]!.address)), 'nothing is listed at the impostor address');
        assert.ok(!list.peers.some((p) => p.users.some((x) => x.user_id.startsWith('@mallory:'))), "the impostor's users are not listed");
      }
      // A is still reached at its own address: federation goes on.
      await sendText(bob, roomId, 'still you, A?');
      await waitForAsync("bob's message at A after the impostor", async () => (await messageBodies(alice, roomId)).includes('still you, A?'), DELIVERY_MS);
    } finally {
      impostor.kill('SIGTERM');
    }
  });

  test('a peer that was never announced is not contacted: no connection, no packet towards it, no DNS', async (t) => {
    const listener = lan.exec(3, process.execPath, [COUNTING_LISTENER, '8448'], { stdio: ['ignore', 'pipe', 'pipe'] });
    extra.push(listener);
    let out = '';
    listener.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    let capture: Capture | undefined;
    try {
      await waitForAsync('the counting listener', async () => out.includes('listening'));
      if (hasTcpdump()) capture = await lan.capture();
      else t.diagnostic('tcpdump not installed: only the listener counts connections');
      const ghost = lanServerName(generateSigningKey().publicKey);
      const ghostUser = `@x:${ghost}`;
      const tries = [
        await lanCall(bob, 'GET', `/client/v3/profile/${encodeURIComponent(ghostUser)}`),
        await lanCall(bob, 'POST', `/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: ghostUser }),
        await lanCall(bob, 'POST', `/client/v3/join/${encodeURIComponent(`#room:${ghost}`)}`, {}),
        await lanCall(bob, 'GET', `/client/v3/directory/room/${encodeURIComponent(`#room:${ghost}`)}`),
        await lanCall(bob, 'POST', '/client/v3/createRoom', { invite: [ghostUser], preset: 'private_chat', is_direct: true }),
      ];
      for (const r of tries.slice(0, 4))
        assert.ok((r.status >= 400 && r.status < 500) || r.status === 502 || r.status === 504, `refused, not a crash: ${r.status} ${JSON.stringify(r.body)}`);
      // A room created with an invite to the ghost may be made without it or refused; either way nothing goes out.
      await new Promise((r) => setTimeout(r, QUIET_WATCH_MS));
      assert.equal(out.split('\n').filter((l) => l.startsWith('{')).length, 0, `connections to the never-announced host: ${out}`);
      if (capture) {
        const packets = await capture.stop();
        capture = undefined;
        const towardsIt = packets.filter((p) => p.to === lan.hosts[3]!.address && p.srcMac !== lan.hosts[3]!.mac);
        assert.deepEqual(
          towardsIt.map((p) => p.line),
          [],
          'no packet towards the never-announced host',
        );
        const dns = packets.filter((p) => p.srcMac === lan.hosts[1]!.mac && p.dstPort === 53);
        assert.deepEqual(
          dns.map((p) => p.line),
          [],
          'B looks no LAN name up in DNS',
        );
      }
    } finally {
      await capture?.stop();
      listener.kill('SIGTERM');
    }
  });
});
