// Spawns a server in its own process, waits for the line that says it is ready, and stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface RunningServer {
  child: ChildProcess;
  pid: number;
  /** The URL captured from the ready line. */
  url: string;
  /** From just before spawn() to the ready line arriving on our end of the stdout pipe. */
  readyMs: number;
  stop(): Promise<void>;
}

/**
 * Starts `command args` and resolves once a stdout line matches `ready` (its first capture group
 * is the URL). Rejects with the process's stderr if it exits first or `timeoutMs` passes.
 */
export function startServer(command: string, args: string[], ready: RegExp, timeoutMs = 15_000): Promise<RunningServer> {
  const t0 = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: not ready after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    const early = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited (${code ?? signal}) before ready\n${stderr}`));
    };
    child.once('exit', early);
    // Keep reading after ready so the pipe never fills and blocks the server.
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      if (done) return;
      stdout += s;
      const m = ready.exec(stdout);
      if (!m) return;
      const readyMs = performance.now() - t0;
      done = true;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({
        child,
        pid: child.pid!,
        url: m[1]!,
        readyMs,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(kill);
        },
      });
    });
  });
}

/** Resident set size of a process in KiB, from /proc/<pid>/status (Linux). */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (Linux). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (ticks * 1000) / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux the bench targets (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
