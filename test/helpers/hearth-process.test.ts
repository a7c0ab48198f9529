// A test file that ends without stopping its `hearth serve` children (as one ended by its timeout
// does) leaves none of them running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HELPER = fileURLToPath(new URL('./hearth-process.ts', import.meta.url));

/** Pids whose command line names `needle`. */
function processesNaming(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

test(
  'a test process that exits without stopping its hearth serve children leaves none running',
  { skip: process.platform !== 'linux' && 'reads /proc' },
  async () => {
    const script = `
    import { startCluster } from ${JSON.stringify(HELPER)};
    const cluster = await startCluster(1, { tmpPrefix: 'hearth-orphan-check-' });
    process.stdout.write(cluster.servers[0].dataDir + '\\n');
    process.exit(0);
  `;
    const dataDir = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 }).trim();
    assert.ok(dataDir.includes('hearth-orphan-check-'), dataDir);
    await new Promise((r) => setTimeout(r, 500));
    const left = processesNaming(dataDir);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    rmSync(dirname(dataDir), { recursive: true, force: true });
    assert.deepEqual(left, [], 'hearth serve processes outlived the test process that started them');
  },
);
