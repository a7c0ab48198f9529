// The JavaScript in a Chrome trace taken with the V8 sampling profiler on
// (bench/renderer.ts with BENCH_TRACE_DIR and BENCH_TRACE_JS=1): self and inclusive time per
// function, over every sampled thread. Build the client unminified first to read the names:
//   npx vite build --config renderer/vite.config.ts --minify false
//   node bench/diag/trace-profile.ts TRACE.json [top=30]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  parent?: number;
  callFrame: CallFrame;
}
interface ChunkEvent {
  name: string;
  id?: string;
  pid: number;
  args?: { data?: { cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] }; timeDeltas?: number[] } };
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/diag/trace-profile.ts TRACE.json [top]');
const top = Number(topArg ?? 30);
const raw = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: ChunkEvent[] } | ChunkEvent[];
const events = Array.isArray(raw) ? raw : raw.traceEvents;

// Each profile (one per sampled thread) arrives in chunks: nodes and samples are appended.
const profiles = new Map<string, { nodes: Map<number, ProfileNode>; samples: number[]; deltas: number[] }>();
for (const e of events) {
  if (e.name !== 'ProfileChunk') continue;
  const key = `${e.pid}:${e.id}`;
  let p = profiles.get(key);
  if (!p) profiles.set(key, (p = { nodes: new Map(), samples: [], deltas: [] }));
  const data = e.args?.data;
  for (const n of data?.cpuProfile?.nodes ?? []) p.nodes.set(n.id, n);
  p.samples.push(...(data?.cpuProfile?.samples ?? []));
  p.deltas.push(...(data?.timeDeltas ?? []));
}
if (profiles.size === 0) throw new Error('no ProfileChunk in the trace: trace with BENCH_TRACE_JS=1');

const label = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${(f.url ?? '').replace(/^.*\//, '')}:${(f.lineNumber ?? -1) + 1}`;
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
for (const p of profiles.values()) {
  for (let i = 0; i < p.samples.length; i++) {
    // A sample's time is the gap to the next one.
    const ms = (p.deltas[i + 1] ?? 0) / 1000;
    const leaf = p.nodes.get(p.samples[i]!);
    if (!leaf || leaf.callFrame.functionName === '(idle)' || leaf.callFrame.functionName === '(program)') continue;
    total += ms;
    self.set(label(leaf.callFrame), (self.get(label(leaf.callFrame)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = leaf; n; n = n.parent === undefined ? undefined : p.nodes.get(n.parent)) {
      const l = label(n.callFrame);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + ms);
    }
  }
}
const print = (title: string, m: Map<string, number>) => {
  process.stdout.write(`${title}\n`);
  for (const [name, ms] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${ms.toFixed(1).padStart(9)} ms  ${name}\n`);
};
process.stdout.write(`sampled JS (not idle): ${total.toFixed(0)} ms\n`);
print('self:', self);
print('inclusive:', inclusive);
