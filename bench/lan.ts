// Issue #15's figures, on a LAN built on this machine from network namespaces on a bridge
// (test/helpers/netns.ts), each desktop a `hearth serve` with LAN sharing on (test/helpers/lan-desktop.ts),
// found by real multicast DNS-SD:
//  - listed: from a peer's spawn (and from its ready line) until another desktop's
//    GET /_matrix/client/unstable/org.hearth.lan/nearby lists it; the first run is a peer never
//    seen before, the others the same peer started again after its goodbye;
//  - first message between two fresh desktops (new data dirs, each the other's first peer): from
//    the invite request on X until X's user sees the first message of Y's user, who joins as soon
//    as the invite reaches Y and then sends (invite over federation, make_join/send_join, send);
//  - delivery to a returning peer: Y stops, X's user sends, Y starts again at another address; from
//    Y's ready line, and from X listing Y again (its reappearance on the LAN), until Y's user sees
//    the message (X's queue retried when Y reappears, not at the next backoff tick).
// Needs root (network namespaces); elsewhere it throws, and `npm run bench` records it as skipped.
//   node bench/lan.ts [--runs N]   prints the JSON result
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLan, namespacesUnavailable, type Lan } from '../test/helpers/netns.ts';
import { lanDesktop, lanOk, messageBodies, nearbyNames, registerLanUser, sendText, type LanDesktop, type LanUser } from '../test/helpers/lan-desktop.ts';
import { median, round } from './lib/stats.ts';

const DEFAULT_RUNS = 5;
/** First-message runs each start two fresh desktops: fewer of them. */
const FRESH_PAIR_RUNS = 3;
const POLL_MS = 10;
const WAIT_MS = 60_000;
/** How long Y stays away with a message queued for it: long enough for X to have tried and backed off. */
const AWAY_MS = 5_000;

function log(msg: string): void {
  process.stderr.write(`[bench:lan] ${msg}\n`);
}

async function until<T>(what: string, check: () => Promise<T | undefined | null | false>): Promise<T> {
  const deadline = performance.now() + WAIT_MS;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function summary(ms: number[]) {
  return { median_ms: round(median(ms), 0), runs_ms: ms.map((v) => round(v, 0)) };
}

export async function benchLan(opts: { runs?: number } = {}): Promise<Record<string, unknown>> {
  const why = await namespacesUnavailable();
  if (why !== undefined) throw new Error(`NO NETWORK NAMESPACES (${why}): the LAN figures were not measured`);
  const runs = opts.runs ?? DEFAULT_RUNS;
  const scratch = mkdtempSync(join(tmpdir(), 'hearth-bench-lan-'));
  const desktops: LanDesktop[] = [];
  let lan: Lan | undefined;
  const desktop = (host: number, name: string) => {
    const d = lanDesktop(lan!, host, { dataDir: join(scratch, name), sharing: true });
    desktops.push(d);
    return d;
  };
  try {
    lan = await createLan({ hosts: 4 });

    // --- listed ---------------------------------------------------------------------------
    log(`time to be listed (${runs} runs)...`);
    const watcher = desktop(0, 'watcher');
    await watcher.start();
    const w = await registerLanUser(watcher, 'watcher');
    const peer = desktop(1, 'peer');
    const fromSpawn: number[] = [];
    const fromReady: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const readyMs = await peer.start();
      await until('the peer listed', async () => (await nearbyNames(w)).includes(peer.serverName));
      const listedMs = performance.now() - t0;
      fromSpawn.push(listedMs);
      fromReady.push(listedMs - readyMs);
      log(`run ${i + 1}: listed ${round(listedMs, 0)} ms after spawn, ${round(listedMs - readyMs, 0)} ms after ready`);
      await peer.stop();
      await until('the peer gone', async () => !(await nearbyNames(w)).includes(peer.serverName));
    }
    await watcher.stop();

    // --- first message between two fresh desktops -----------------------------------------
    log(`first message between two fresh desktops (${FRESH_PAIR_RUNS} runs)...`);
    const firstMessage: number[] = [];
    const inviteArrived: number[] = [];
    let pair: { X: LanDesktop; Y: LanDesktop; x: LanUser; y: LanUser; roomId: string } | undefined;
    for (let i = 0; i < FRESH_PAIR_RUNS; i++) {
      const X = desktop(2, `x${i}`);
      const Y = desktop(3, `y${i}`);
      await Promise.all([X.start(), Y.start()]);
      const [x, y] = await Promise.all([registerLanUser(X, 'xavier'), registerLanUser(Y, 'yvonne')]);
      await until('Y and its user listed at X', async () =>
        (await lanOk(x, 'GET', '/client/unstable/org.hearth.lan/nearby')).peers.some(
          (p: { server_name: string; users: Array<{ user_id: string }> }) => p.server_name === Y.serverName && p.users.some((u) => u.user_id === y.userId),
        ),
      );
      const roomId = (await lanOk(x, 'POST', '/client/v3/createRoom', { preset: 'private_chat', is_direct: true })).room_id as string;
      const t0 = performance.now();
      await lanOk(x, 'POST', `/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: y.userId });
      await until('the invite at Y', async () => Object.keys((await lanOk(y, 'GET', '/client/v3/sync?timeout=0')).rooms?.invite ?? {}).includes(roomId));
      inviteArrived.push(performance.now() - t0);
      await lanOk(y, 'POST', `/client/v3/join/${encodeURIComponent(roomId)}`, {});
      await sendText(y, roomId, 'hello from the next desk');
      await until("Y's first message at X", async () => (await messageBodies(x, roomId)).includes('hello from the next desk'));
      firstMessage.push(performance.now() - t0);
      log(`run ${i + 1}: invite at Y ${round(inviteArrived.at(-1)!, 0)} ms, first message at X ${round(firstMessage.at(-1)!, 0)} ms after the invite`);
      if (i < FRESH_PAIR_RUNS - 1) await Promise.all([X.stop(), Y.stop()]);
      else pair = { X, Y, x, y, roomId };
    }

    // --- delivery to a returning peer -----------------------------------------------------
    log(`delivery to a returning peer (${runs} runs)...`);
    const { X, Y, x, y, roomId } = pair!;
    const sinceReady: number[] = [];
    const sinceListed: number[] = [];
    for (let i = 0; i < runs; i++) {
      await Y.stop();
      await until('Y gone from X', async () => !(await nearbyNames(x)).includes(Y.serverName));
      const body = `while you were away ${i}`;
      await sendText(x, roomId, body);
      await new Promise((r) => setTimeout(r, AWAY_MS));
      // Back at another address each time, as a laptop moving between desks would.
      await lan.readdress(3, 100 + i);
      await Y.start();
      const tReady = performance.now();
      let tListed = 0;
      const listed = until('Y listed at X again', async () => (await nearbyNames(x)).includes(Y.serverName)).then(() => (tListed = performance.now()));
      await until('the message at Y', async () => (await messageBodies(y, roomId)).includes(body));
      const tSeen = performance.now();
      await listed;
      sinceReady.push(tSeen - tReady);
      sinceListed.push(Math.max(0, tSeen - tListed));
      log(`run ${i + 1}: seen at Y ${round(tSeen - tReady, 0)} ms after its ready line, ${round(tSeen - tListed, 0)} ms after X listed it`);
    }
    await Promise.all([X.stop(), Y.stop()]);

    return {
      listed_by_another: {
        what: "a peer's spawn (and its ready line) to another desktop's /nearby listing it; run 1 never seen before, then restarts after a goodbye",
        from_spawn: summary(fromSpawn),
        from_ready: summary(fromReady),
      },
      first_message_fresh_desktops: {
        what: "invite on X -> Y's user joins as soon as the invite arrives -> Y's first message seen by X's user",
        invite_at_y: summary(inviteArrived),
        first_message_at_x: summary(firstMessage),
      },
      delivery_to_returning_peer: {
        what: `a message sent while Y was away (${AWAY_MS / 1000} s, queued on X); Y starts again at another address`,
        from_ready: summary(sinceReady),
        from_listed_again: summary(sinceListed),
      },
    };
  } finally {
    await Promise.all(desktops.map((d) => d.stop('SIGKILL')));
    await lan?.destroy();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { runs: { type: 'string' } } });
  const t0 = performance.now();
  const result = await benchLan(values.runs !== undefined ? { runs: Number(values.runs) } : {});
  console.log(JSON.stringify({ ...result, bench_seconds: round((performance.now() - t0) / 1000, 1) }, null, 2));
}
