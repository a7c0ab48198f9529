// Summarises a Chrome trace (bench/renderer.ts with BENCH_TRACE_DIR): the renderer main thread's
// own CPU time (tdur, so time lost to other processes on a shared machine is left out) by kind of
// work, for the top-level tasks and the main steps inside them.
//   node bench/diag/trace-summary.ts TRACE.json
import { readFileSync } from 'node:fs';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/diag/trace-summary.ts TRACE.json');
const raw = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] } | TraceEvent[];
const events = Array.isArray(raw) ? raw : raw.traceEvents;

// The renderer main thread of the page: the CrRendererMain thread with the most work.
const mains = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
const work = new Map<string, number>();
for (const m of mains) {
  const key = `${m.pid}:${m.tid}`;
  work.set(
    key,
    events.filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === key).reduce((s, e) => s + (e.tdur ?? 0), 0),
  );
}
const [main] = [...work.entries()].sort((a, b) => b[1] - a[1]);
if (!main) throw new Error('no renderer main thread in the trace');
const onMain = events.filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === main[0]);

const STEPS = [
  'FunctionCall',
  'EvaluateScript',
  'v8.run',
  'RunMicrotasks',
  'UpdateLayoutTree',
  'Layout',
  'PrePaint',
  'Paint',
  'Layerize',
  'Commit',
  'HitTest',
  'ParseHTML',
  'MajorGC',
  'MinorGC',
  'V8.GC_SCAVENGER',
  'ScrollLayer',
  'EventDispatch',
  'FireAnimationFrame',
  'TimerFire',
  'XHRReadyStateChange',
];
const byName = new Map<string, { ms: number; n: number }>();
for (const e of onMain) {
  if (!STEPS.includes(e.name) && e.name !== 'RunTask' && e.name !== 'ThreadControllerImpl::RunTask') continue;
  const t = byName.get(e.name) ?? { ms: 0, n: 0 };
  t.ms += (e.tdur ?? e.dur ?? 0) / 1000;
  t.n++;
  byName.set(e.name, t);
}
const wall = (Math.max(...onMain.map((e) => e.ts + (e.dur ?? 0))) - Math.min(...onMain.map((e) => e.ts))) / 1000;
process.stdout.write(`main thread ${main[0]}: ${Math.round(main[1] / 1000)} ms CPU over ${Math.round(wall)} ms wall (nested steps overlap their tasks)\n`);
for (const [name, t] of [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms))
  process.stdout.write(`${name.padEnd(32)} ${t.ms.toFixed(1).padStart(9)} ms  ${String(t.n).padStart(6)}\n`);
