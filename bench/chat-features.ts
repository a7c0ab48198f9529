// Issue 5's figures: /sync latency for a typing notification and for a read receipt (one user
// acts, the other's parked long-poll returns it), and /search latency over 100,000 messages.
// Hearth runs in its own process; the 100,000 messages are written beforehand straight through the
// room service (full signed PDUs, indexed as any send is) so seeding takes seconds, not minutes.
//   node bench/chat-features.ts     prints the JSON result
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { HttpClient } from './lib/http.ts';
import { createPublicRoom, join as joinRoom, register, sendText, type BenchUser } from './lib/matrix.ts';
import { startServer, sleep } from './lib/process.ts';
import { median, percentile, round } from './lib/stats.ts';
import { Database } from '../homeserver/storage/database.ts';
import { RoomService } from '../homeserver/rooms/room-service.ts';
import { Notifier } from '../homeserver/sync/notifier.ts';
import { decodeSigningKeyFile } from '../homeserver/protocol/signing-key.ts';
import { readFileSync, writeFileSync } from 'node:fs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEARTH_BIN = join(ROOT, 'bin', 'hearth.js');
const API = '/_matrix/client/v3';
const SAMPLES = 200;
const WARMUP = 20;
const PARK_MS = 5;
const SEARCH_MESSAGES = 100_000;
const SEED_BATCH = 1000;
const SEARCH_QUERIES = 60;

function log(msg: string): void {
  process.stderr.write(`[bench:features] ${msg}\n`);
}

function summary(ms: number[]) {
  return { p50_ms: round(median(ms)), p99_ms: round(percentile(ms, 99)), samples: ms.length };
}

async function syncOnce(c: HttpClient, u: BenchUser, since: string, timeoutMs: number): Promise<any> {
  return c.ok('GET', `${API}/sync?${new URLSearchParams({ since, timeout: String(timeoutMs) })}`, undefined, u.token);
}

async function initialToken(c: HttpClient, u: BenchUser): Promise<string> {
  return (await c.ok('GET', `${API}/sync?timeout=0`, undefined, u.token)).next_batch as string;
}

/** Parks `watcher`'s long-poll, runs `act`, and times until the poll returns something `seen` accepts. */
async function timeEphemeral(
  c: HttpClient,
  watcher: BenchUser,
  since: string,
  act: () => Promise<void>,
  seen: (body: any) => boolean,
): Promise<{ ms: number; next: string }> {
  let token = since;
  const poll = (async () => {
    for (;;) {
      const body = await syncOnce(c, watcher, token, 30_000);
      token = body.next_batch;
      if (seen(body)) return token;
    }
  })();
  await sleep(PARK_MS);
  const t0 = performance.now();
  await act();
  const next = await poll;
  return { ms: performance.now() - t0, next };
}

function ephemeralOf(body: any, roomId: string, type: string): any[] {
  return (body.rooms?.join?.[roomId]?.ephemeral?.events ?? []).filter((e: any) => e.type === type);
}

async function typingAndReceipts(url: string) {
  const c = new HttpClient(url);
  const alice = await register(c, 'alice');
  const bob = await register(c, 'bob');
  const roomId = await createPublicRoom(c, alice, 'features');
  await joinRoom(c, bob, roomId);
  const room = encodeURIComponent(roomId);
  let bobSince = await initialToken(c, bob);
  let aliceSince = await initialToken(c, alice);

  const typing: number[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const on = i % 2 === 0;
    const r = await timeEphemeral(
      c,
      bob,
      bobSince,
      async () => void (await c.ok('PUT', `${API}/rooms/${room}/typing/${encodeURIComponent(alice.userId)}`, { typing: on, timeout: 30_000 }, alice.token)),
      (body) => ephemeralOf(body, roomId, 'm.typing').some((e) => e.content.user_ids.includes(alice.userId) === on),
    );
    bobSince = r.next;
    if (i >= WARMUP) typing.push(r.ms);
  }

  const receipts: number[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const eventId = await sendText(c, alice, roomId, `r${i}`, `read me ${i}`);
    // Let alice's own stream move past her message before timing bob's receipt.
    aliceSince = (await syncOnce(c, alice, aliceSince, 0)).next_batch;
    const r = await timeEphemeral(
      c,
      alice,
      aliceSince,
      async () => void (await c.ok('POST', `${API}/rooms/${room}/receipt/m.read/${encodeURIComponent(eventId)}`, {}, bob.token)),
      (body) => ephemeralOf(body, roomId, 'm.receipt').some((e) => e.content[eventId]?.['m.read']?.[bob.userId]),
    );
    aliceSince = r.next;
    if (i >= WARMUP) receipts.push(r.ms);
  }
  return { typing_to_sync: summary(typing), receipt_to_sync: summary(receipts) };
}

/** A deterministic vocabulary: common words appear in many messages, rare ones in few. */
function vocabulary(): string[] {
  const syll = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vo', 'shi', 'pe', 'da', 'go', 'ze', 'bu', 'fi', 'ro', 'wa'];
  const words: string[] = [];
  for (const a of syll) for (const b of syll) for (const c of ['', 'n', 'r', 'l']) words.push(a + b + c);
  return words; // 1024 words
}

function sentence(words: string[], i: number): string {
  // A skewed pick (index squared) makes low-index words common and high-index words rare.
  let x = (i * 2654435761) >>> 0;
  const out: string[] = [];
  for (let k = 0; k < 8; k++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const r = x / 2 ** 32;
    out.push(words[Math.floor(r * r * words.length)]!);
  }
  return out.join(' ');
}

async function seedSearch(dataDir: string): Promise<{ token: string; url: string; stop: () => Promise<void> }> {
  // 1. Create the user and room through the real server, then stop it.
  let s = await startServer(
    process.execPath,
    [HEARTH_BIN, 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--server-name', 'localhost'],
    /^hearth ready client=(\S+)/m,
  );
  const c = new HttpClient(s.url);
  const alice = await register(c, 'alice');
  const roomId = await createPublicRoom(c, alice, 'search');
  await s.stop();
  // 2. Append the messages through the room service, in batches of one transaction each.
  const t0 = performance.now();
  const db = await Database.open(join(dataDir, 'hearth.sqlite'));
  const signingKey = decodeSigningKeyFile(readFileSync(join(dataDir, 'signing.key'), 'utf8'));
  const rooms = new RoomService({ db, serverName: 'localhost', signingKey, notifier: new Notifier() });
  await rooms.init();
  const words = vocabulary();
  for (let i = 0; i < SEARCH_MESSAGES; i += SEED_BATCH) {
    await rooms.write(async (w) => {
      for (let k = i; k < Math.min(i + SEED_BATCH, SEARCH_MESSAGES); k++) {
        await w.append(roomId, { type: 'm.room.message', sender: alice.userId, content: { msgtype: 'm.text', body: sentence(words, k) } });
      }
    });
    if ((i / SEED_BATCH) % 20 === 0) log(`seeded ${i + SEED_BATCH} messages`);
  }
  await db.close();
  log(`seeded ${SEARCH_MESSAGES} messages in ${round((performance.now() - t0) / 1000, 1)} s`);
  // 3. Serve them.
  s = await startServer(
    process.execPath,
    [HEARTH_BIN, 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--server-name', 'localhost'],
    /^hearth ready client=(\S+)/m,
  );
  return { token: alice.token, url: s.url, stop: () => s.stop() };
}

async function searchLatency(dataDir: string) {
  const seeded = await seedSearch(dataDir);
  try {
    const c = new HttpClient(seeded.url);
    const words = vocabulary();
    const search = async (term: string, order: 'rank' | 'recent') => {
      const t0 = performance.now();
      const body = await c.ok(
        'POST',
        `${API}/search`,
        { search_categories: { room_events: { search_term: term, order_by: order, filter: { limit: 10 } } } },
        seeded.token,
      );
      return { ms: performance.now() - t0, count: body.search_categories.room_events.count as number };
    };
    const kinds: Record<string, { term: (i: number) => string; order: 'rank' | 'recent' }> = {
      common_word_rank: { term: (i) => words[i % 8]!, order: 'rank' },
      common_word_recent: { term: (i) => words[i % 8]!, order: 'recent' },
      rare_word_rank: { term: (i) => words[900 + (i % 100)]!, order: 'rank' },
      two_words_rank: { term: (i) => `${words[i % 30]} ${words[40 + (i % 30)]}`, order: 'rank' },
    };
    const out: Record<string, unknown> = { messages: SEARCH_MESSAGES };
    for (const [name, k] of Object.entries(kinds)) {
      for (let i = 0; i < 5; i++) await search(k.term(i), k.order);
      const ms: number[] = [];
      const counts: number[] = [];
      for (let i = 0; i < SEARCH_QUERIES; i++) {
        const r = await search(k.term(i), k.order);
        ms.push(r.ms);
        counts.push(r.count);
      }
      out[name] = { ...summary(ms), median_hits: median(counts) };
    }
    return out;
  } finally {
    await seeded.stop();
  }
}

export async function benchChatFeatures(): Promise<Record<string, unknown>> {
  const dirs = [mkdtempSync(join(tmpdir(), 'hearth-bench-features-')), mkdtempSync(join(tmpdir(), 'hearth-bench-search-'))];
  // A bench client sends hundreds of requests a second: lift the per-user rate limit (default 50/s).
  for (const d of dirs) writeFileSync(join(d, 'hearth.yaml'), 'rate_limit:\n  per_second: 1000000\n  burst: 1000000\n  registration_burst: 1000000\n');
  try {
    const s = await startServer(
      process.execPath,
      [HEARTH_BIN, 'serve', '--data-dir', dirs[0]!, '--listen', '127.0.0.1:0', '--server-name', 'localhost'],
      /^hearth ready client=(\S+)/m,
    );
    let ephemeral;
    try {
      log('typing and receipt latency');
      ephemeral = await typingAndReceipts(s.url);
    } finally {
      await s.stop();
    }
    log(`search over ${SEARCH_MESSAGES} messages`);
    const search = await searchLatency(dirs[1]!);
    return { ...ephemeral, search };
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(await benchChatFeatures(), null, 2));
}
