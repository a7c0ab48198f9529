// Turns one run's results into the markdown table and the whole of BENCHMARKS.md.
import type { Machine } from './machine.ts';

interface Throughput {
  perSecond: number;
  requests: number;
  errors: number;
  /** Server process CPU (user + system) over warm-up and window, per answered request. */
  serverCpuMsPerRequest: number;
  firstError?: string;
}

export interface Results {
  date: string;
  command: string;
  /** Git commit of the server measured. */
  revision: string;
  /** What `hearth serve` ran: compiled dist/ or the TypeScript sources. */
  hearthCode: string;
  machine: Machine;
  sendToSync: { samples: number; parkMs: number; p50Ms: number; p99Ms: number; maxMs: number; sendRttP50Ms: number };
  throughput: {
    windowSeconds: number;
    /** Alternating Hearth/baseline rounds per sender count; the figures are the median-ratio round's. */
    rounds: number;
    hearth1: Throughput;
    baseline1: Throughput;
    ratio1: number;
    ratios1: number[];
    hearth16: Throughput;
    baseline16: Throughput;
    ratio16: number;
    ratios16: number[];
  };
  coldStart: { runs: number; freshMs: number[]; freshMedianMs: number; existingMs: number[]; existingMedianMs: number };
  rss: { hearthIdleMiB: number; baselineIdleMiB: number; hearthAfterSetupMiB: number; hearthAfterLoadMiB: number };
  benchSeconds: number;
}

const pass = (ok: boolean) => (ok ? 'pass' : '**FAIL**');

export function renderTable(r: Results): string {
  const t = r.throughput;
  const errs = (x: Throughput) => (x.errors > 0 ? ` (${x.errors} errors)` : '');
  const rows: string[][] = [
    ['Send → /sync, p50', `${r.sendToSync.p50Ms} ms`, '—', '< 5 ms', pass(r.sendToSync.p50Ms < 5)],
    ['Send → /sync, p99', `${r.sendToSync.p99Ms} ms`, '—', '—', ''],
    ['Sends/s, 1 sender', `${t.hearth1.perSecond}${errs(t.hearth1)}`, `${t.baseline1.perSecond}${errs(t.baseline1)}`, '—', `${t.ratio1} × baseline`],
    [
      'Sends/s, 16 senders',
      `${t.hearth16.perSecond}${errs(t.hearth16)}`,
      `${t.baseline16.perSecond}${errs(t.baseline16)}`,
      '≥ 0.5 × baseline',
      `${pass(t.ratio16 >= 0.5)} (${t.ratio16} ×)`,
    ],
    ['Cold start to ready, fresh data dir (median)', `${r.coldStart.freshMedianMs} ms`, '—', '< 500 ms', pass(r.coldStart.freshMedianMs < 500)],
    ['Cold start to ready, existing data dir (median)', `${r.coldStart.existingMedianMs} ms`, '—', '< 500 ms', pass(r.coldStart.existingMedianMs < 500)],
    ['Idle RSS', `${r.rss.hearthIdleMiB} MiB`, `${r.rss.baselineIdleMiB} MiB`, '< 100 MB', pass(r.rss.hearthIdleMiB * 1.048576 < 100)],
  ];
  const head = ['Figure', 'Hearth', 'Baseline', 'Target', 'Result'];
  return [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n') + '\n';
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function renderBenchmarksMd(r: Results): string {
  const m = r.machine;
  const s = r.sendToSync;
  const t = r.throughput;
  return `# Benchmarks

Measured by \`bench/run.ts\`. Regenerate this file with:

\`\`\`
${r.command}
\`\`\`

(\`npm run bench\` alone prints the same JSON summary and table without writing the file.)

- Date: ${r.date}
- Revision: ${r.revision}
- Hearth ran ${r.hearthCode}
- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB memory, ${m.os}
- Node: ${m.node}; data dirs on ${m.tmpFilesystem} (the bench's temp dir)
- Load average (1 min) when the run began: ${m.loadAverage1m}
- Whole run: ${r.benchSeconds} s
${m.loadAverage1m > 1 ? `\n**The machine was busy when this run began** (load ${m.loadAverage1m} on ${m.cores} cores): other work shared the cores and the disk, so these figures are pessimistic. Re-run on an idle machine before comparing.\n` : ''}
${renderTable(r)}
Extra figures from the same run: send → /sync max ${s.maxMs} ms over ${s.samples} samples; A's own
send round trip p50 ${s.sendRttP50Ms} ms; the load server's RSS after its set-up (18
registrations, 2 s idle) ${r.rss.hearthAfterSetupMiB} MiB and right after the throughput runs ${r.rss.hearthAfterLoadMiB} MiB; server CPU per send (user + system), Hearth vs baseline:
${t.hearth1.serverCpuMsPerRequest} vs ${t.baseline1.serverCpuMsPerRequest} ms with 1 sender,
${t.hearth16.serverCpuMsPerRequest} vs ${t.baseline16.serverCpuMsPerRequest} ms with 16; throughput ratio in each of the
${t.rounds} alternating rounds (the table shows the median round) [${t.ratios1.join(', ')}] with 1 sender,
[${t.ratios16.join(', ')}] with 16; cold-start runs fresh [${r.coldStart.freshMs.join(', ')}] ms, existing
[${r.coldStart.existingMs.join(', ')}] ms.

## How each figure is measured

Hearth runs as its own process (\`node bin/hearth.js serve --data-dir DIR --listen 127.0.0.1:0
--server-name localhost\`), and so does the baseline; the bench process only generates load, over
keep-alive HTTP (\`node:http\` Agent) on loopback. Both share the machine's cores with the load
generator, alike.

- **Baseline**: \`bench/baseline-server.ts\`, a bare Koa app with one POST handler that parses the
  JSON body, inserts it as one row into sqlite3 (WAL, \`synchronous=FULL\`, as Hearth's storage;
  each insert its own durable transaction) and answers JSON.
- **Send → /sync**: user B keeps a long-poll \`/sync?timeout=30000&since=<next_batch>\` open; ${s.parkMs} ms
  after issuing it, user A sends \`PUT /rooms/{id}/send/m.room.message/{txn}\`. The figure is from
  just before A's send to B's \`/sync\` response that contains the event. ${s.samples} sequential samples
  after 30 warm-up rounds, in a room with 18 members; percentiles by nearest rank.
- **Sends/s**: N senders (1 or 16), each a different user joined to the same room, each sending
  sequentially (next request when the last answered) over its own connection; 1 s warm-up, then
  the ${r.throughput.windowSeconds} s window counts answered requests. The baseline gets the same
  loop against its POST handler. Hearth and baseline windows alternate, ${r.throughput.rounds} rounds of each per
  sender count, and the table shows the round with the median ratio. For this figure only,
  the load server's \`hearth.yaml\` lifts the per-user rate limit (default 50/s), so that the figure
  is the server's capacity rather than the limiter's.
- **Cold start**: from just before \`spawn()\` to the \`hearth ready\` line on its stdout (which
  includes Node's own start-up and \`bin/hearth.js\` choosing dist/ or the sources); median of
  ${r.coldStart.runs} runs on fresh data dirs (after one untimed start that warms the page cache), and of
  ${r.coldStart.runs} runs on one existing data dir holding two users, a room and 20 messages.
- **Idle RSS**: \`VmRSS\` from \`/proc/<pid>/status\` of a Hearth started on a fresh data dir,
  after 2 registrations, a room, a join, 20 sends and a sync each, then 2 s idle. The baseline's
  figure is its own process after 5 requests and 2 s idle.
`;
}
