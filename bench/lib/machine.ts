// What the figures were measured on: they mean little without it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** Filesystem type under the bench's temp dirs: fsync cost depends on it. */
  tmpFilesystem: string;
  /** 1-minute load average when the run began: other work on the machine skews every figure. */
  loadAverage1m: number;
}

export function describeMachine(tmpDir: string): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux: keep os.cpus()'s answer
  }
  let tmpFilesystem = 'unknown';
  try {
    const out = execFileSync('df', ['-T', tmpDir], { encoding: 'utf8' }).trim().split('\n').pop() ?? '';
    tmpFilesystem = out.split(/\s+/)[1] ?? 'unknown';
  } catch {
    // df missing: leave unknown
  }
  return {
    cpuModel,
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tmpFilesystem,
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}
