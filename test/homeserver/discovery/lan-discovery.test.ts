// LAN discovery over real multicast (issue #15): each desktop is a process in a network namespace
// of its own, on a bridge; forged announcements come from another namespace. Needs root (to make
// namespaces): elsewhere the tests are skipped, loudly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateSigningKey, type SigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { announcementTxt, lanServerName } from '../../../homeserver/protocol/lan-identity.ts';
import { encodeUnpaddedBase64 } from '../../../homeserver/protocol/base64.ts';
import type { LanPeer, LanReport } from '../../../homeserver/discovery/index.ts';
import { waitForAsync } from '../../helpers/poll.ts';
import { createLan, lanTestsSkipped, type Lan } from '../../helpers/netns.ts';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
// Skipped loudly (a banner on stderr) where namespaces cannot be made.
const NO_NAMESPACES = await lanTestsSkipped('LAN discovery over multicast');

type Event = { event: string; peer?: LanPeer; report?: LanReport; reports?: LanReport[]; peers?: LanPeer[]; known?: boolean };

let lan: Lan;
let tmp: string;
const children = new Set<ChildProcess>();

before(async () => {
  if (NO_NAMESPACES) return;
  lan = await createLan({ hosts: 4 });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-lan-disc-'));
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await lan?.destroy();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const fingerprint = () => randomBytes(32).toString('base64url');

/** A discovery process in namespace `host`, with its own key (unless given) and database. */
class Desktop {
  readonly key: SigningKey;
  readonly name: string;
  readonly tls: string;
  readonly events: Event[] = [];
  private readonly child: ChildProcess;

  constructor(host: number, opts: { key?: SigningKey; silenceMs?: number; dbFile?: string; mdnsInterface?: string } = {}) {
    this.key = opts.key ?? generateSigningKey();
    this.name = lanServerName(this.key.publicKey);
    this.tls = fingerprint();
    const args = {
      dbFile: opts.dbFile ?? path.join(tmp, `${this.name}-${randomBytes(4).toString('hex')}.db`),
      seed: Buffer.from(this.key.seed).toString('hex'),
      keyId: this.key.keyId,
      own: { port: 8448, tlsFingerprint: this.tls, version: 'test', users: ['alice'] },
      queryIntervalMs: 500,
      // Long unless a test is about silence: a peer then leaves only by saying goodbye.
      silenceMs: opts.silenceMs ?? 600_000,
      mdns: opts.mdnsInterface ? { interface: opts.mdnsInterface } : undefined,
    };
    this.child = spawn('ip', ['netns', 'exec', lan.hosts[host]!.ns, process.execPath, path.join(fixtures, 'lan-discovery-node.ts'), JSON.stringify(args)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // Its stderr (a crash) is kept with its events, so a failure shows it.
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.events.push({ event: 'stderr', line } as Event));
    children.add(this.child);
    this.child.on('exit', (code, sig) => {
      children.delete(this.child);
      this.events.push({ event: 'exit', code, sig } as Event);
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.events.push(JSON.parse(line) as Event));
  }

  send(cmd: object): void {
    this.child.stdin!.write(JSON.stringify(cmd) + '\n');
  }

  /** The first event from index `from` on that matches. */
  async waitFor(what: string, match: (e: Event) => boolean, from = 0): Promise<Event> {
    try {
      return await waitForAsync(what, async () => this.events.slice(from).find(match), 20_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; its last events: ${JSON.stringify(this.events.slice(-8))}`, { cause: err });
    }
  }

  peerUp(name: string, from = 0): Promise<Event> {
    return this.waitFor(`peer-up of ${name}`, (e) => e.event === 'peer-up' && e.peer!.serverName === name, from);
  }

  async ask(cmd: object, answer: string): Promise<Event> {
    const from = this.events.length;
    this.send(cmd);
    return this.waitFor(answer, (e) => e.event === answer, from);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  async exit(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.send({ cmd: 'exit' });
    await exited;
  }
}

/** A DNS-SD announcement as a forger would send it: `txtKey` signs, `sn` is the name it claims. */
function forgedAnnouncement(o: { txtKey: SigningKey; sn?: string; target?: string; addresses: string[]; tls?: string; port?: number }) {
  const sn = o.sn ?? lanServerName(o.txtKey.publicKey);
  const target = o.target ?? sn;
  const port = o.port ?? 8448;
  const txt = announcementTxt(
    {
      serverName: sn,
      port,
      keyId: o.txtKey.keyId,
      publicKey: encodeUnpaddedBase64(o.txtKey.publicKey),
      tlsFingerprint: o.tls ?? fingerprint(),
      version: 'forged',
      users: ['mallory'],
    },
    o.txtKey,
  );
  const fqdn = `${target.split('.')[0]}._hearth._tcp.local`;
  return {
    answers: [{ name: '_hearth._tcp.local', type: 'PTR', data: fqdn }],
    additionals: [
      { name: fqdn, type: 'SRV', data: { port, target } },
      { name: fqdn, type: 'TXT', data: Object.entries(txt).map(([k, v]) => `${k}=${v}`) },
      ...o.addresses.map((a) => ({ name: target, type: 'A', data: a })),
    ],
  };
}

/** Sends `packets` from namespace `host`, in order, and waits until they are out. */
async function forge(host: number, packets: object[]): Promise<void> {
  const file = path.join(tmp, `packets-${randomBytes(4).toString('hex')}.json`);
  fs.writeFileSync(file, JSON.stringify(packets));
  const child = spawn('ip', ['netns', 'exec', lan.hosts[host]!.ns, process.execPath, path.join(fixtures, 'lan-mdns-send.ts'), file], {
    stdio: 'inherit',
  });
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 0, 'the forger sent its packets');
}

test(
  'two desktops on a LAN see each other by multicast at their own addresses, and one that says goodbye is gone at once',
  { skip: NO_NAMESPACES },
  async () => {
    const a = new Desktop(0);
    const b = new Desktop(1);
    const bOnA = await a.peerUp(b.name);
    const aOnB = await b.peerUp(a.name);
    assert.deepEqual(bOnA.peer!.addresses, [lan.hosts[1]!.address]);
    assert.deepEqual(aOnB.peer!.addresses, [lan.hosts[0]!.address]);
    assert.equal(bOnA.peer!.tlsFingerprint, b.tls);
    assert.deepEqual(bOnA.peer!.users, ['alice']);
    assert.ok(!a.events.some((e) => e.event === 'peer-up' && e.peer!.serverName === a.name), 'a desktop never lists itself');

    // Silence is 10 minutes here: only the goodbye can remove b now.
    const mark = a.events.length;
    await b.ask({ cmd: 'stop' }, 'stopped');
    await a.waitFor('peer-down of b', (e) => e.event === 'peer-down' && e.peer!.serverName === b.name, mark);
    assert.equal((await a.ask({ cmd: 'present' }, 'present')).peers!.length, 0);

    // Sharing on again: b is found again, same name.
    const again = a.events.length;
    await b.ask({ cmd: 'start' }, 'started');
    await a.peerUp(b.name, again);
    await Promise.all([a.exit(), b.exit()]);
  },
);

test('a desktop that vanishes without a goodbye is dropped once it has been silent for silenceMs', { skip: NO_NAMESPACES }, async () => {
  const a = new Desktop(0, { silenceMs: 1_500 });
  const b = new Desktop(1);
  await a.peerUp(b.name);
  const mark = a.events.length;
  b.kill();
  await a.waitFor('peer-down of the silent b', (e) => e.event === 'peer-down' && e.peer!.serverName === b.name, mark);
  await a.exit();
});

test(
  'forged announcements: an impostor of a known name is reported and ignored, a changed certificate is reported, bad targets and addresses are ignored',
  { skip: NO_NAMESPACES },
  async () => {
    const a = new Desktop(0);
    const b = new Desktop(1);
    await a.peerUp(b.name);
    const forger = lan.hosts[2]!.address;
    const fresh = () => generateSigningKey();
    const [wrongTarget, outside, loopback, notFromSender, mixed, control] = [fresh(), fresh(), fresh(), fresh(), fresh(), fresh()];
    const name = (k: SigningKey) => lanServerName(k.publicKey);
    await forge(2, [
      // b's name with the forger's own key.
      forgedAnnouncement({ txtKey: fresh(), sn: b.name, addresses: [forger] }),
      // b's own signed record (b's key) pointing b's name at another certificate.
      forgedAnnouncement({ txtKey: b.key, tls: fingerprint(), addresses: [forger] }),
      // Valid records, but the SRV target is another host than the name signed.
      forgedAnnouncement({ txtKey: wrongTarget, target: 'printer.local', addresses: [forger] }),
      // Its address is outside our subnet (the sender's own is the only one left, and not announced).
      forgedAnnouncement({ txtKey: outside, addresses: ['192.168.254.7'] }),
      forgedAnnouncement({ txtKey: loopback, addresses: ['127.0.0.1'] }),
      // In our subnet, but not the address the packet came from.
      forgedAnnouncement({ txtKey: notFromSender, addresses: [`${forger.split('.').slice(0, 3).join('.')}.250`] }),
      // The sender's address among loopback and foreign ones: only the sender's is kept.
      forgedAnnouncement({ txtKey: mixed, addresses: ['127.0.0.1', '192.168.254.7', forger, '::1'] }),
      // Sent last: once a has seen it, a has read every packet before it.
      forgedAnnouncement({ txtKey: control, addresses: [forger] }),
    ]);
    await a.peerUp(name(control));

    const impostor = await a.waitFor('impostor report', (e) => e.event === 'report' && e.report!.kind === 'impostor');
    assert.equal(impostor.report!.serverName, b.name);
    assert.equal(impostor.report!.from, forger);
    const changed = await a.waitFor('certificate-changed report', (e) => e.event === 'report' && e.report!.kind === 'certificate-changed');
    assert.equal(changed.report!.serverName, b.name);

    const present = (await a.ask({ cmd: 'present', name: b.name }, 'present')).peers!;
    const bNow = present.find((p) => p.serverName === b.name)!;
    assert.deepEqual(bNow.addresses, [lan.hosts[1]!.address], 'b is still where b said it is');
    assert.equal(bNow.tlsFingerprint, b.tls, 'with the certificate pinned at first contact');
    for (const k of [wrongTarget, outside, loopback, notFromSender]) {
      assert.ok(!present.some((p) => p.serverName === name(k)), `${name(k)} is not listed`);
      assert.ok(!a.events.some((e) => e.event === 'peer-up' && e.peer!.serverName === name(k)));
    }
    assert.deepEqual(present.find((p) => p.serverName === name(mixed))?.addresses, [forger]);

    const reports = (await a.ask({ cmd: 'reports' }, 'reports')).reports!;
    assert.deepEqual(reports.map((r) => r.kind).sort(), ['bad-announcement', 'certificate-changed', 'impostor'], 'kept in the database');

    // The same forgery again is not reported again (once a minute per name, sender and kind).
    await forge(2, [forgedAnnouncement({ txtKey: fresh(), sn: b.name, addresses: [forger] }), forgedAnnouncement({ txtKey: fresh(), addresses: [forger] })]);
    await waitForAsync('the second control', async () => a.events.filter((e) => e.event === 'peer-up').length >= 4);
    assert.equal(a.events.filter((e) => e.event === 'report' && e.report!.kind === 'impostor').length, 1);
    await Promise.all([a.exit(), b.exit()]);
  },
);

test("a desktop whose address changes is found at its new address without leaving the others' lists", { skip: NO_NAMESPACES }, async () => {
  const a = new Desktop(0);
  const b = new Desktop(3);
  await a.peerUp(b.name);
  const mark = a.events.length;
  await lan.readdress(3, 40);
  const moved = lan.hosts[3]!.address;
  const up = await a.waitFor('b at its new address', (e) => e.event === 'peer-up' && e.peer!.serverName === b.name && e.peer!.addresses.includes(moved), mark);
  assert.deepEqual(up.peer!.addresses, [moved]);
  assert.ok(!a.events.slice(mark).some((e) => e.event === 'peer-down'), 'b never left');
  await Promise.all([a.exit(), b.exit()]);
});

test('a desktop started before its interface has an address announces once it gets one, and survives losing it', { skip: NO_NAMESPACES }, async () => {
  await lan.unaddress(3);
  const b = new Desktop(3);
  await b.waitFor('b started', (e) => e.event === 'started');
  const a = new Desktop(0);
  await lan.readdress(3, 41);
  const first = lan.hosts[3]!.address;
  const up = await a.waitFor('b once it has an address', (e) => e.event === 'peer-up' && e.peer!.serverName === b.name);
  assert.deepEqual(up.peer!.addresses, [first]);

  let mark = b.events.length;
  await lan.unaddress(3);
  await b.waitFor('b noticing it has no address', (e) => e.event === 'log' && /addresses are now none/.test(String((e as { msg?: string }).msg)), mark);
  mark = a.events.length;
  await lan.readdress(3, 42);
  const second = lan.hosts[3]!.address;
  await a.waitFor('b at its next address', (e) => e.event === 'peer-up' && e.peer!.serverName === b.name && e.peer!.addresses.includes(second), mark);
  assert.ok(!b.events.some((e) => e.event === 'stderr' || e.event === 'exit'), 'b never crashed');
  await Promise.all([a.exit(), b.exit()]);
});

test('pins outlive a restart: after one, a known peer that is away is still protected from impostors', { skip: NO_NAMESPACES }, async () => {
  const dbFile = path.join(tmp, 'a-restarted.db');
  let a = new Desktop(0, { dbFile });
  const key = a.key;
  const b = new Desktop(1);
  await a.peerUp(b.name);
  await Promise.all([a.exit(), b.exit()]);

  a = new Desktop(0, { dbFile, key });
  await a.waitFor('a started again', (e) => e.event === 'started');
  assert.equal((await a.ask({ cmd: 'present', name: b.name }, 'present')).known, true, 'b is known while away');
  const control = generateSigningKey();
  await forge(2, [
    forgedAnnouncement({ txtKey: generateSigningKey(), sn: b.name, addresses: [lan.hosts[2]!.address] }),
    forgedAnnouncement({ txtKey: control, addresses: [lan.hosts[2]!.address] }),
  ]);
  await a.peerUp(lanServerName(control.publicKey));
  const reports = (await a.ask({ cmd: 'reports' }, 'reports')).reports!;
  assert.equal(reports.find((r) => r.serverName === b.name)?.kind, 'impostor');
  await a.exit();
});

test(
  'an update of the label and users reaches the others without the desktop leaving, cut to what an announcement may hold',
  { skip: NO_NAMESPACES },
  async () => {
    const a = new Desktop(0);
    const b = new Desktop(1);
    await a.peerUp(b.name);
    const mark = a.events.length;
    const users = Array.from({ length: 60 }, (_, i) => `user${i}`);
    const label = 'É'.repeat(100); // 200 bytes of UTF-8
    await b.ask({ cmd: 'update', own: { port: 8448, tlsFingerprint: b.tls, version: 'test', users, label } }, 'updated');
    const updated = await waitForAsync('b with its new users on a', async () => {
      const peer = (await a.ask({ cmd: 'present' }, 'present')).peers!.find((p) => p.serverName === b.name);
      return peer && peer.users.length > 1 ? peer : undefined;
    });
    assert.deepEqual(updated.users, users.slice(0, updated.users.length), 'the first users, in order');
    assert.ok(Buffer.byteLength(updated.users.join(',')) <= 200 && updated.users.length < users.length);
    assert.ok(updated.label!.length > 0 && Buffer.byteLength(updated.label!) <= 120 && label.startsWith(updated.label!));
    assert.ok(!a.events.slice(mark).some((e) => e.event === 'peer-down' || e.event === 'report'), 'b never left, nothing was refused');
    await Promise.all([a.exit(), b.exit()]);
  },
);

test('a desktop pinned to one interface (mdns.interface) still hears the LAN and is heard', { skip: NO_NAMESPACES }, async () => {
  const a = new Desktop(0, { mdnsInterface: lan.hosts[0]!.address });
  const b = new Desktop(1);
  await a.peerUp(b.name);
  await b.peerUp(a.name);
  await Promise.all([a.exit(), b.exit()]);
});

test('at most 256 peers are present at once: a LAN full of announcers cannot grow the list further', { skip: NO_NAMESPACES }, async () => {
  const a = new Desktop(0);
  const b = new Desktop(1);
  await a.peerUp(b.name);
  const forger = lan.hosts[2]!.address;
  const many = Array.from({ length: 300 }, () => forgedAnnouncement({ txtKey: generateSigningKey(), addresses: [forger] }));
  // A burst this size overflows a socket buffer on a busy machine: send it again until the list
  // is full (packets a has read again change nothing), checking it never grows past the limit.
  let present: LanPeer[] = [];
  for (let round = 0; round < 10 && present.length < 256; round++) {
    await forge(2, many);
    present = (await a.ask({ cmd: 'present' }, 'present')).peers!;
    assert.ok(present.length <= 256, `${present.length} peers present`);
  }
  assert.equal(present.length, 256);
  assert.ok(
    present.some((p) => p.serverName === b.name),
    'the peers already present stay',
  );
  await Promise.all([a.exit(), b.exit()]);
});

test("a goodbye sent from another address than the peer's does not remove it", { skip: NO_NAMESPACES }, async () => {
  const a = new Desktop(0);
  const b = new Desktop(1);
  await a.peerUp(b.name);
  const control = generateSigningKey();
  const fqdn = `${b.name.split('.')[0]}._hearth._tcp.local`;
  await forge(2, [
    { answers: [{ name: '_hearth._tcp.local', type: 'PTR', ttl: 0, data: fqdn }] },
    forgedAnnouncement({ txtKey: control, addresses: [lan.hosts[2]!.address] }),
  ]);
  await a.peerUp(lanServerName(control.publicKey));
  assert.ok(!a.events.some((e) => e.event === 'peer-down'), 'b was not removed');
  assert.ok((await a.ask({ cmd: 'present' }, 'present')).peers!.some((p) => p.serverName === b.name));
  await Promise.all([a.exit(), b.exit()]);
});
