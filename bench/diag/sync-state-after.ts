// What /sync's use_state_after (MSC4222) costs, and that a normal /sync costs what it did: Bob in
// N rooms of 5 messages; his initial /sync (median of 7), an incremental one with nothing new, and
// one after Alice writes a message in each of 10 rooms (medians of 15), without and with the flag,
// as wall time and as the server's CPU time per request (in 10 ms ticks: for the initial sync).
//   node bench/diag/sync-state-after.ts [rooms=200]      prints the JSON result
// HEARTH_ROOT=dir runs another checkout's server on the same data (its /sync ignores the flag if
// it predates it): run both and compare the `without` figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { HttpClient } from '../lib/http.ts';
import { sendPath, type BenchUser } from '../lib/matrix.ts';
import { cpuMs, startServer } from '../lib/process.ts';
import { median, round } from '../lib/stats.ts';
import { Fixture } from '../lib/fixtures.ts';

const API = '/_matrix/client/v3';
const INITIAL_RUNS = 7;
const INCREMENTAL_RUNS = 15;
const ROOMS_WRITTEN_PER_ROUND = 10;

const here = fileURLToPath(new URL('../..', import.meta.url));
const serverRoot = process.env.HEARTH_ROOT ?? here;

interface Figures {
  wallMs: number;
  serverCpuMs: number;
}

async function measure(pid: number, runs: number, once: () => Promise<void>): Promise<Figures> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs(pid);
    const t0 = performance.now();
    await once();
    wall.push(performance.now() - t0);
    cpu.push(cpuMs(pid) - c0);
  }
  return { wallMs: round(median(wall), 2), serverCpuMs: round(median(cpu), 2) };
}

async function main(rooms: number) {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-diag-state-after-'));
  try {
    const f = await Fixture.open(here, dir);
    const alice = await f.user('alice');
    const bob = await f.user('bob');
    const roomIds: string[] = [];
    for (let i = 0; i < rooms; i++) {
      const roomId = await f.room(alice, `room ${i}`, [bob]);
      await f.messages(roomId, alice, 5, `room ${i} message`);
      roomIds.push(roomId);
    }
    await f.close();

    const s = await startServer(
      process.execPath,
      [join(serverRoot, 'bin', 'hearth.js'), 'serve', '--data-dir', dir, '--listen', '127.0.0.1:0', '--server-name', 'localhost'],
      /^hearth ready client=(\S+)/m,
      60_000,
    );
    const c = new HttpClient(s.url);
    let txn = 0;
    const sync = async (user: BenchUser, query: string) => {
      const res = await c.request('GET', `${API}/sync?timeout=0${query}`, undefined, user.token);
      if (res.status !== 200) throw new Error(`/sync -> ${res.status}`);
      return res.body as { next_batch: string; rooms: { join: Record<string, object> } };
    };
    try {
      const out: Record<string, unknown> = { rooms, server: serverRoot };
      for (const [mode, flag] of [
        ['without', ''],
        ['with', '&use_state_after=true'],
      ] as const) {
        await sync(bob, flag); // warm the caches
        const initial = await measure(s.pid, INITIAL_RUNS, async () => void (await sync(bob, flag)));
        let since = (await sync(bob, flag)).next_batch;
        // An incremental sync with nothing new (timeout 0): the rooms are looked at and skipped.
        const incrementalQuiet = await measure(s.pid, INCREMENTAL_RUNS, async () => {
          since = (await sync(bob, `${flag}&since=${encodeURIComponent(since)}`)).next_batch;
        });
        out[mode] = { initial, incrementalQuiet };
      }
      // Incremental figures with new events in 10 rooms, per mode, interleaved so drift hits both.
      const withNews: Record<string, number[][]> = { without: [[], []], with: [[], []] };
      const sinces: Record<string, string> = {
        without: (await sync(bob, '')).next_batch,
        with: (await sync(bob, '&use_state_after=true')).next_batch,
      };
      for (let round_ = 0; round_ < INCREMENTAL_RUNS; round_++) {
        for (let k = 0; k < ROOMS_WRITTEN_PER_ROUND; k++) {
          const roomId = roomIds[(round_ * ROOMS_WRITTEN_PER_ROUND + k) % roomIds.length]!;
          await c.ok('PUT', sendPath(roomId, `d${++txn}`), { msgtype: 'm.text', body: `news ${txn}` }, alice.token);
        }
        for (const [mode, flag] of [
          ['without', ''],
          ['with', '&use_state_after=true'],
        ] as const) {
          const c0 = cpuMs(s.pid);
          const t0 = performance.now();
          const body = await sync(bob, `${flag}&since=${encodeURIComponent(sinces[mode]!)}`);
          sinces[mode] = body.next_batch;
          withNews[mode]![0]!.push(performance.now() - t0);
          withNews[mode]![1]!.push(cpuMs(s.pid) - c0);
          const joined = Object.values(body.rooms.join);
          if (joined.length !== ROOMS_WRITTEN_PER_ROUND || joined.some((r) => (flag && serverRoot === here ? 'state_after' : 'state') in r === false)) {
            throw new Error(`${mode}: expected ${ROOMS_WRITTEN_PER_ROUND} rooms with their state field, got ${JSON.stringify(body).slice(0, 300)}`);
          }
        }
      }
      for (const mode of ['without', 'with']) {
        (out[mode] as Record<string, unknown>).incrementalTenRoomsNew = {
          wallMs: round(median(withNews[mode]![0]!), 2),
          serverCpuMs: round(median(withNews[mode]![1]!), 2),
        };
      }
      console.log(JSON.stringify(out, null, 2));
    } finally {
      c.close();
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main(Number(process.argv[2] ?? 200));
