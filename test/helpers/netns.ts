// A LAN on one machine for the tests of issue #15: a Linux bridge in this (the root) network
// namespace and n network namespaces ("hosts"), each with a veth cable to the bridge, an address
// 10.X.Y.(i+2)/24 and a default route via the bridge's 10.X.Y.1 (multicast-dns sends to
// 224.0.0.251 through the routing table: without a route it gets ENETUNREACH). Real multicast
// flows between the hosts and nowhere else: the bridge is its own link, 224.0.0.251 is never routed.
//
// Everything made is named `hl<pid, 5 base36 chars><lan counter>…`, so that a later run can tell
// what an earlier, crashed run left (its pid is dead) from what a concurrent test file owns (alive).
// Needs root and iproute2 (`ip netns`); capture() needs tcpdump. See canMakeNamespaces().
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every name this helper makes starts with it (H2a's discovery tests use `hd`). */
const PREFIX = 'hl';
const OWNER = process.pid.toString(36).padStart(5, '0').slice(-5);
const NAME_PATTERN = new RegExp(`^${PREFIX}([0-9a-z]{5})([0-9a-z])`);
/** How long tcpdump may take to say it listens: it is one small process, but the machine is shared. */
const CAPTURE_START_TIMEOUT_MS = 15_000;

export interface LanHost {
  /** The network namespace's name (for `ip netns exec`). */
  ns: string;
  /** The veth end inside the namespace. */
  dev: string;
  /** Its current IPv4 address (changes with readdress). */
  address: string;
  /** The MAC address of its veth end: identifies its packets on the bridge whatever its address. */
  mac: string;
}

export interface Packet {
  /** Seconds since the epoch, as tcpdump prints it. */
  ts: number;
  srcMac: string;
  /** Source IP (v4 or v6), or '' for a packet that is not IP. */
  from: string;
  to: string;
  srcPort?: number;
  dstPort?: number;
  /** tcpdump's one-line decoding, for failure messages. */
  line: string;
}

export interface Capture {
  /** Stops tcpdump and returns every packet it saw on the bridge. */
  stop(): Promise<Packet[]>;
}

export interface Lan {
  /** `10.X.Y`: hosts are `${prefix}.${i + 2}` at first; the bridge is `${prefix}.1`. */
  prefix: string;
  /** The bridge's address, the hosts' default gateway: this (root) namespace reaches the hosts from it. */
  gateway: string;
  bridge: string;
  hosts: LanHost[];
  /** Spawns `cmd args` inside host i's namespace (tracked: killed by destroy() and at exit). */
  exec(i: number, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Runs `cmd args` inside host i's namespace to completion; resolves with its stdout. */
  run(i: number, cmd: string, args: string[]): Promise<string>;
  /** Moves host i to another address of the LAN (`10.X.Y.n`, or just `n`), keeping its route. */
  readdress(i: number, newAddr: string | number): Promise<void>;
  /** Takes host i's address (and with it its default route) away, as when a laptop leaves the network. */
  unaddress(i: number): Promise<void>;
  /** Starts tcpdump on the bridge; resolves once it listens. */
  capture(): Promise<Capture>;
  /** Kills what exec() started and removes the namespaces, veths and bridge. */
  destroy(): Promise<void>;
}

let lanCounter = 0;
const liveLans = new Set<{ names: string[]; children: Set<ChildProcess> }>();

/** Why namespaces cannot be made here, or undefined when they can (root, iproute2, `ip netns add` works). */
export async function namespacesUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root';
  const probe = `${PREFIX}${OWNER}zn9`;
  try {
    await run('ip', ['netns', 'add', probe]);
  } catch (err) {
    return `ip netns add failed: ${(err as Error).message.split('\n')[0]}`;
  }
  await run('ip', ['netns', 'del', probe]).catch(() => undefined);
  return undefined;
}

export async function canMakeNamespaces(): Promise<boolean> {
  return (await namespacesUnavailable()) === undefined;
}

/**
 * The loud skip the issue asks for: when namespaces cannot be made, a banner on stderr (a CI log
 * shows it even where the reporter folds skips away) and the reason, for `describe(name, { skip })`
 * or `t.skip()`; false when the LAN tests can run.
 */
export async function lanTestsSkipped(what: string): Promise<string | false> {
  const why = await namespacesUnavailable();
  if (why === undefined) return false;
  const message = `NO NETWORK NAMESPACES (${why}): ${what} did NOT run`;
  process.stderr.write(`\n${'!'.repeat(100)}\n!!! ${message}\n${'!'.repeat(100)}\n\n`);
  return message;
}

/** True if tcpdump can be run (the capture checks need it). */
export function hasTcpdump(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function createLan(opts: { hosts: number }): Promise<Lan> {
  await removeStale();
  const tag = `${PREFIX}${OWNER}${(lanCounter++ % 36).toString(36)}`;
  const bridge = `${tag}b`;
  const prefix = await freeSubnet();
  const gateway = `${prefix}.1`;
  const names: string[] = [bridge];
  const children = new Set<ChildProcess>();
  const entry = { names, children };
  liveLans.add(entry);
  const hosts: LanHost[] = [];
  try {
    await ip('link', 'add', bridge, 'type', 'bridge');
    // No IGMP snooping: a bridge that has seen no querier may stop flooding multicast to ports.
    await ip('link', 'set', bridge, 'type', 'bridge', 'mcast_snooping', '0').catch(() => undefined);
    await ip('addr', 'add', `${gateway}/24`, 'dev', bridge);
    await ip('link', 'set', bridge, 'up');
    for (let i = 0; i < opts.hosts; i++) {
      const ns = `${tag}n${i}`;
      const outside = `${tag}v${i}`;
      const dev = `${tag}p${i}`;
      names.push(ns, outside);
      await ip('netns', 'add', ns);
      await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', dev);
      await ip('link', 'set', dev, 'netns', ns);
      await ip('link', 'set', outside, 'master', bridge);
      await ip('link', 'set', outside, 'up');
      const address = `${prefix}.${i + 2}`;
      await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', dev);
      await ip('-n', ns, 'link', 'set', dev, 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'route', 'add', 'default', 'via', gateway);
      const mac = JSON.parse(await ip('-n', ns, '-j', 'link', 'show', dev))[0].address as string;
      hosts.push({ ns, dev, address, mac });
    }
  } catch (err) {
    await destroyEntry(entry);
    throw err;
  }

  const lan: Lan = {
    prefix,
    gateway,
    bridge,
    hosts,
    exec(i, cmd, args, spawnOpts = {}) {
      const child = spawn('ip', ['netns', 'exec', host(i).ns, cmd, ...args], spawnOpts);
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    },
    async run(i, cmd, args) {
      return (await run('ip', ['netns', 'exec', host(i).ns, cmd, ...args])).stdout;
    },
    async readdress(i, newAddr) {
      const h = host(i);
      const address = typeof newAddr === 'number' ? `${prefix}.${newAddr}` : newAddr;
      await ip('-n', h.ns, 'addr', 'flush', 'dev', h.dev);
      await ip('-n', h.ns, 'addr', 'add', `${address}/24`, 'dev', h.dev);
      // Flushing the address took the default route with it.
      await ip('-n', h.ns, 'route', 'replace', 'default', 'via', gateway);
      h.address = address;
    },
    async unaddress(i) {
      const h = host(i);
      await ip('-n', h.ns, 'addr', 'flush', 'dev', h.dev);
      h.address = '';
    },
    async capture() {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-capture-')), 'bridge.pcap');
      // --immediate-mode -U: each packet is handed over and written as it comes (libpcap otherwise
      // holds a block for up to a second), so that a stop right after a packet still has it.
      const tcpdump = spawn('tcpdump', ['-i', bridge, '-n', '--immediate-mode', '-U', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.add(tcpdump);
      const exited = new Promise<void>((resolve) => tcpdump.on('exit', () => (children.delete(tcpdump), resolve())));
      let stderr = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), CAPTURE_START_TIMEOUT_MS);
        tcpdump.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
          if (/listening on/.test(stderr)) {
            clearTimeout(timer);
            resolve();
          }
        });
        tcpdump.on('error', (err) => (clearTimeout(timer), reject(err)));
        void exited.then(() => (clearTimeout(timer), reject(new Error(`tcpdump exited: ${stderr}`))));
      });
      return {
        async stop() {
          tcpdump.kill('SIGINT');
          await exited;
          const text = (await run('tcpdump', ['-r', file, '-n', '-e', '-tt'], { maxBuffer: 64 * 1024 * 1024 })).stdout;
          fs.rmSync(path.dirname(file), { recursive: true, force: true });
          return text.split('\n').filter(Boolean).map(parsePacket);
        },
      };
    },
    async destroy() {
      liveLans.delete(entry);
      await destroyEntry(entry);
    },
  };
  return lan;

  function host(i: number): LanHost {
    const h = hosts[i];
    if (!h) throw new Error(`no host ${i} on this LAN (it has ${hosts.length})`);
    return h;
  }
}

/** mDNS packets (UDP port 5353 either side) sent by the host with this MAC address. */
export function mdnsPacketsFrom(packets: Packet[], mac: string): Packet[] {
  return packets.filter((p) => p.srcMac === mac.toLowerCase() && (p.srcPort === 5353 || p.dstPort === 5353));
}

/**
 * One line of `tcpdump -n -e -tt`:
 * `1702.123 aa:..:ff > 01:00:5e:00:00:fb, ethertype IPv4 (0x0800), length 99: 10.1.2.3.5353 > 224.0.0.251.5353: ...`
 */
export function parsePacket(line: string): Packet {
  const m = /^(\d+\.\d+) ([0-9a-f:]{17}) > [0-9a-f:]{17}, .*?: (.*)$/.exec(line);
  if (!m) return { ts: 0, srcMac: '', from: '', to: '', line };
  const packet: Packet = { ts: Number(m[1]), srcMac: m[2]!, from: '', to: '', line };
  const ipPart = /^(\S+?)(?:\.(\d+))? > (\S+?)(?:\.(\d+))?:(?:\s|$)/.exec(m[3]!);
  if (ipPart) {
    packet.from = ipPart[1]!;
    packet.to = ipPart[3]!;
    if (ipPart[2] !== undefined) packet.srcPort = Number(ipPart[2]);
    if (ipPart[4] !== undefined) packet.dstPort = Number(ipPart[4]);
  }
  return packet;
}

async function ip(...args: string[]): Promise<string> {
  return (await run('ip', args)).stdout;
}

/** A /24 of 10.0.0.0/8 that no interface or route of this machine uses, chosen from the pid. */
async function freeSubnet(): Promise<string> {
  const taken = await ip('-4', '-o', 'route', 'show', 'table', 'all');
  const addrs = await ip('-4', '-o', 'addr', 'show');
  for (let n = 0; n < 1000; n++) {
    const seed = (process.pid * 7 + lanCounter * 131 + n * 977) % (50 * 256);
    const prefix = `10.${200 + Math.floor(seed / 256)}.${seed % 256}`;
    if (!taken.includes(`${prefix}.`) && !addrs.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no free 10.x.y.0/24 for a test LAN');
}

async function destroyEntry(entry: { names: string[]; children: Set<ChildProcess> }): Promise<void> {
  await Promise.all(
    [...entry.children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
  for (const name of [...entry.names].reverse()) await removeName(name);
}

/** Removes a namespace or a link of ours by name; gone already is fine. */
async function removeName(name: string): Promise<void> {
  if (/n\d+$/.test(name)) await run('ip', ['netns', 'del', name]).catch(() => undefined);
  else await run('ip', ['link', 'del', name]).catch(() => undefined);
}

/** What crashed runs left: our prefix, and an owner pid that no longer runs. */
async function removeStale(): Promise<void> {
  const alive = (pid36: string) => {
    try {
      process.kill(parseInt(pid36, 36), 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  const namespaces = (await run('ip', ['netns', 'list']).catch(() => ({ stdout: '' }))).stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
  const links = (await run('ip', ['-o', 'link', 'show']).catch(() => ({ stdout: '' }))).stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
  for (const name of [...namespaces, ...links]) {
    const m = NAME_PATTERN.exec(name);
    if (m && !alive(m[1]!)) await removeName(name);
  }
}

process.once('exit', () => {
  for (const entry of liveLans) {
    for (const c of entry.children) c.kill('SIGKILL');
    for (const name of [...entry.names].reverse()) {
      const args = /n\d+$/.test(name) ? ['netns', 'del', name] : ['link', 'del', name];
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {}
    }
  }
});
