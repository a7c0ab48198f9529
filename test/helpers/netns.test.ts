// The test LAN (netns.ts) is what the LAN tests of issue #15 stand on: multicast from one
// namespace reaches the others (and is seen by a capture on the bridge), readdress keeps the host
// reachable and routed, and nothing is left behind, neither by destroy() nor by a test process
// that exits without calling it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLan, hasTcpdump, lanTestsSkipped, parsePacket, type Lan } from './netns.ts';
import { waitForAsync } from './poll.ts';

const HELPER = fileURLToPath(new URL('./netns.ts', import.meta.url));
/** A group and port of no protocol anyone runs here: the check needs multicast, not mDNS. */
const GROUP = '239.255.77.77';
const PORT = 47_777;

const receiver = `
const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true });
s.on('message', (m, r) => console.log(JSON.stringify({ text: String(m), from: r.address })));
s.bind(${PORT}, () => { s.addMembership('${GROUP}'); console.log('ready'); });`;
const sender = `
const s = require('node:dgram').createSocket('udp4');
s.send('hello lan', ${PORT}, '${GROUP}', (err) => { if (err) { console.error(err.code); process.exit(1); } s.close(); });`;

function ourNames(): string[] {
  const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return [...ns.split('\n').map((l) => l.split(' ')[0]!), ...links.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '')].filter((n) =>
    n.startsWith(`hl${process.pid.toString(36).padStart(5, '0').slice(-5)}`),
  );
}

const skip = await lanTestsSkipped('the tests of the test LAN helper (test/helpers/netns.test.ts)');

describe('a LAN of network namespaces on a bridge', { skip, timeout: 120_000 }, () => {
  let lan: Lan;
  before(async () => {
    lan = await createLan({ hosts: 3 });
  });
  after(async () => {
    await lan?.destroy();
  });

  test('a multicast datagram sent in one namespace reaches the others, from the sender address, and the capture sees it', async (t) => {
    const capture = hasTcpdump() ? await lan.capture() : undefined;
    if (!capture) t.diagnostic('tcpdump not installed: capture not checked');
    const outs = ['', ''];
    const receivers = [1, 2].map((i, k) => {
      const c = lan.exec(i, process.execPath, ['-e', receiver], { stdio: ['ignore', 'pipe', 'inherit'] });
      c.stdout!.setEncoding('utf8').on('data', (d: string) => (outs[k] += d));
      return c;
    });
    try {
      await waitForAsync('the receivers', async () => outs.every((o) => o.includes('ready')));
      // Default route via the bridge: without it, sending to a multicast group fails (ENETUNREACH).
      await lan.run(0, process.execPath, ['-e', sender]);
      await waitForAsync('the datagram at both receivers', async () => outs.every((o) => o.includes('hello lan')));
      for (const o of outs) assert.match(o, new RegExp(`"from":"${lan.hosts[0]!.address.replaceAll('.', '\\.')}"`));
      if (capture) {
        const packets = await capture.stop();
        const seen = packets.find((p) => p.srcMac === lan.hosts[0]!.mac && p.to === GROUP && p.dstPort === PORT);
        assert.ok(seen, `the capture has the datagram: ${packets.map((p) => p.line).join('\n')}`);
        assert.equal(seen.from, lan.hosts[0]!.address);
      }
    } finally {
      for (const r of receivers) r.kill('SIGKILL');
    }
  });

  test('a host moved to another address is reachable there, with its default route, and no longer at the old one', async () => {
    const old = lan.hosts[2]!.address;
    await lan.readdress(2, 150);
    assert.equal(lan.hosts[2]!.address, `${lan.prefix}.150`);
    assert.match(await lan.run(2, 'ip', ['route']), new RegExp(`default via ${lan.gateway.replaceAll('.', '\\.')}`));
    assert.doesNotMatch(await lan.run(2, 'ip', ['-4', '-o', 'addr']), new RegExp(`${old.replaceAll('.', '\\.')}/`));
    await lan.run(0, 'ping', ['-c', '1', '-W', '5', lan.hosts[2]!.address]).catch(async () => {
      // No ping binary: reach it over TCP instead.
      await lan.run(0, process.execPath, [
        '-e',
        `require('node:net').connect(1, '${lan.hosts[2]!.address}').on('error', (e) => process.exit(e.code === 'ECONNREFUSED' ? 0 : 1))`,
      ]);
    });
  });

  test('destroy removes every namespace and link it made', async () => {
    const other = await createLan({ hosts: 2 });
    const names = [other.bridge, ...other.hosts.map((h) => h.ns)];
    for (const n of names) assert.ok(ourNames().includes(n), `${n} exists`);
    await other.destroy();
    for (const n of names) assert.ok(!ourNames().includes(n), `${n} removed`);
  });
});

test('a test process that exits without destroying its LAN leaves nothing behind', { skip }, () => {
  const script = `import { createLan } from ${JSON.stringify(HELPER)};
const lan = await createLan({ hosts: 2 });
console.log(JSON.stringify([lan.bridge, ...lan.hosts.map((h) => h.ns)]));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const names = JSON.parse(out) as string[];
  const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  for (const n of names) assert.ok(!ns.includes(n) && !links.includes(`: ${n}:`), `${n} removed at exit`);
});

test('tcpdump lines are read into source MAC, addresses and ports', () => {
  const p = parsePacket(
    '1796664248.015123 aa:19:4f:6a:5c:29 > 01:00:5e:00:00:fb, ethertype IPv4 (0x0800), length 120: 10.214.189.2.5353 > 224.0.0.251.5353: 0 PTR (QM)? _hearth._tcp.local. (40)',
  );
  assert.deepEqual(
    { srcMac: p.srcMac, from: p.from, srcPort: p.srcPort, to: p.to, dstPort: p.dstPort },
    { srcMac: 'aa:19:4f:6a:5c:29', from: '10.214.189.2', srcPort: 5353, to: '224.0.0.251', dstPort: 5353 },
  );
  const v6 = parsePacket(
    '1796664248.1 26:f8:dd:95:04:8c > 33:33:00:00:00:16, ethertype IPv6 (0x86dd), length 90: :: > ff02::16: HBH ICMP6, multicast listener report v2',
  );
  assert.deepEqual({ from: v6.from, to: v6.to, srcPort: v6.srcPort }, { from: '::', to: 'ff02::16', srcPort: undefined });
  const arp = parsePacket(
    '1796664248.2 26:f8:dd:95:04:8c > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.1.2.3 tell 10.1.2.4, length 28',
  );
  assert.equal(arp.srcMac, '26:f8:dd:95:04:8c');
  assert.equal(arp.to, '');
});
