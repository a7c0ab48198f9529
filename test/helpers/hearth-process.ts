// Hearth servers as real `hearth serve` child processes that federate over loopback: each is named
// `127.0.0.1:<federation port>` (an IP literal with a port is reached directly, no DNS), trusts the
// others' self-signed certificates, and keeps its own data dir, so that one can be killed and
// started again on the same ports and data. What a process logs is kept for a failing test.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './server.ts';
import { serverServerValidator } from './openapi.ts';

const HEARTH = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface HearthProcess {
  /** `127.0.0.1:<federationPort>`. */
  serverName: string;
  /** The client API's base URL (http://127.0.0.1:<clientPort>). */
  url: string;
  clientPort: number;
  federationPort: number;
  dataDir: string;
  /** Everything the current and earlier runs wrote to stderr. */
  log(): string;
  running(): boolean;
  /** Sends `signal` and resolves once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts it again on the same ports and data dir; resolves at its ready line. */
  start(): Promise<void>;
}

export interface Cluster {
  servers: HearthProcess[];
  /** Stops every process still running and removes the data dirs. */
  close(): Promise<void>;
}

/** Starts `count` federating `hearth serve` processes in parallel. */
export async function startCluster(count: number, opts: { tmpPrefix?: string } = {}): Promise<Cluster> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), opts.tmpPrefix ?? 'hearth-cluster-'));
  const ports: Array<{ client: number; federation: number }> = [];
  const taken = new Set<number>();
  const pick = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) return (taken.add(p), p);
    }
  };
  for (let i = 0; i < count; i++) ports.push({ client: await pick(), federation: await pick() });
  const names = ports.map((p) => `127.0.0.1:${p.federation}`);
  const servers = ports.map((p, i) =>
    hearthProcess(
      path.join(scratch, `hs${i + 1}`),
      p.client,
      p.federation,
      names.filter((n) => n !== names[i]),
    ),
  );
  const cluster: Cluster = {
    servers,
    async close() {
      await Promise.all(servers.map((s) => (s.running() ? s.stop('SIGKILL') : undefined)));
      // HEARTH_CLUSTER_LOGS=DIR keeps each process's stderr there, for a failing run.
      const keep = process.env.HEARTH_CLUSTER_LOGS;
      if (keep) {
        fs.mkdirSync(keep, { recursive: true });
        servers.forEach((s, i) => fs.writeFileSync(path.join(keep, `hs${i + 1}.log`), s.log()));
      }
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(servers.map((s) => s.start()));
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

function hearthProcess(dataDir: string, clientPort: number, federationPort: number, trusted: string[]): HearthProcess {
  fs.mkdirSync(dataDir, { recursive: true });
  // Three users each sending 100 messages as fast as the server answers, plus their /sync loops
  // and crypto requests, exceed the default per-client rate limit: these tests are about federation.
  fs.writeFileSync(path.join(dataDir, 'hearth.yaml'), 'rate_limit:\n  per_second: 100000\n  burst: 100000\n');
  const serverName = `127.0.0.1:${federationPort}`;
  const args = [
    HEARTH,
    'serve',
    '--data-dir',
    dataDir,
    '--server-name',
    serverName,
    '--listen',
    `127.0.0.1:${clientPort}`,
    '--federation-listen',
    serverName,
    '--registration',
    'open',
    ...trusted.flatMap((n) => ['--trust-self-signed', n]),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
  let stderr = '';
  let run = 0;

  return {
    serverName,
    url: `http://127.0.0.1:${clientPort}`,
    clientPort,
    federationPort,
    dataDir,
    log: () => stderr,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async stop(signal = 'SIGTERM') {
      if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async start() {
      run++;
      stderr += `---- run ${run} of ${serverName}\n`;
      const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      liveChildren.add(c);
      c.on('exit', () => liveChildren.delete(c));
      c.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      exited = new Promise((resolve) => c.on('exit', (code, sig) => resolve({ code, signal: sig })));
      let stdout = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${serverName} not ready after ${READY_TIMEOUT_MS} ms:\n${stderr.slice(-3000)}`)), READY_TIMEOUT_MS);
        c.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          if (/^hearth ready client=/m.test(stdout)) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`${serverName} exited (${code ?? signal}) before ready:\n${stderr.slice(-3000)}`));
        });
      });
    },
  };
}

/**
 * Children still running when this test process exits are killed: a test file ended by its
 * timeout never reaches its own stop(), and a `hearth serve` left behind keeps its ports, its data
 * dir and a core busy for the rest of the run (seen after durability-mixed timed out under load).
 * Only a SIGKILL of this process escapes it.
 */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of liveChildren) c.kill('SIGKILL');
});

const federationValidator = serverServerValidator();

/**
 * An unauthenticated GET on a process's federation listener (its self-signed certificate
 * accepted), validated against the server-server OpenAPI; resolves with the parsed body.
 */
export function federationGet(server: HearthProcess, urlPath: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.federationPort, path: urlPath, method: 'GET', rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          const body = JSON.parse(text);
          const status = res.statusCode ?? 0;
          if (status >= 400) federationValidator.validateErrorBody(body, `GET ${urlPath} -> ${status}`);
          federationValidator.validateResponse('GET', urlPath, status, body);
          resolve({ status, body });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}
