// A LAN on one machine for discovery's tests: n network namespaces on a bridge of their own.
// Interim: test/helpers/netns.ts (issue #15, part H3) replaces this once it is on main.
// Every namespace gets a default route (multicast-dns sends through the routing table) and no
// address of the root namespace is involved: nothing announced here reaches a real network.
import { execFileSync, spawnSync } from 'node:child_process';

const run = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** True when we may make namespaces (root, iproute2, a kernel that allows it). */
export function canMakeNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `hdprobe${process.pid % 100000}`;
  const made = spawnSync('ip', ['netns', 'add', probe]).status === 0;
  if (made) spawnSync('ip', ['netns', 'del', probe]);
  return made;
}

export interface TestLan {
  /** Namespace names, index i. */
  ns: string[];
  /** Current IPv4 address of host i. */
  address(i: number): string;
  /** Moves host i to another address in the same /24 (the old one disappears). */
  readdress(i: number, lastOctet: number): string;
  /** Takes host i's address (and so its default route) away, as when a laptop leaves the network. */
  unaddress(i: number): void;
  destroy(): void;
}

export function createLan(hosts: number): TestLan {
  const id = process.pid % 100000;
  const net = `10.${150 + (id % 50)}.${Math.floor(id / 50) % 250}`;
  const bridge = `hd${id}b`;
  const ns = Array.from({ length: hosts }, (_, i) => `hd${id}n${i}`);
  const addresses = ns.map((_, i) => `${net}.${i + 2}`);
  const destroy = () => {
    for (const n of ns) spawnSync('ip', ['netns', 'del', n]);
    spawnSync('ip', ['link', 'del', bridge]);
  };
  destroy();
  process.once('exit', destroy);
  run('link', 'add', bridge, 'type', 'bridge');
  run('link', 'set', bridge, 'up');
  ns.forEach((n, i) => {
    const veth = `hd${id}v${i}`;
    run('netns', 'add', n);
    run('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n);
    run('link', 'set', veth, 'master', bridge);
    run('link', 'set', veth, 'up');
    run('-n', n, 'link', 'set', 'lo', 'up');
    run('-n', n, 'addr', 'add', `${addresses[i]}/24`, 'dev', 'eth0');
    run('-n', n, 'link', 'set', 'eth0', 'up');
    run('-n', n, 'route', 'add', 'default', 'dev', 'eth0');
  });
  return {
    ns,
    address: (i) => addresses[i]!,
    readdress(i, lastOctet) {
      const n = ns[i]!;
      run('-n', n, 'addr', 'flush', 'dev', 'eth0');
      addresses[i] = `${net}.${lastOctet}`;
      run('-n', n, 'addr', 'add', `${addresses[i]}/24`, 'dev', 'eth0');
      run('-n', n, 'route', 'replace', 'default', 'dev', 'eth0');
      return addresses[i];
    },
    unaddress(i) {
      run('-n', ns[i]!, 'addr', 'flush', 'dev', 'eth0');
    },
    destroy,
  };
}
