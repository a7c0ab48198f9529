import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startDesktopHomeserver } from '../../main/desktop-homeserver.ts';
import { isUsablePort, listenOnPreferredPort, LOOPBACK_HOST, portOf, readRememberedPort, rememberPort } from '../../main/port.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-port-test-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => path.join(scratch, `${++counter}-${name}`);

/** A real TCP listener on loopback; resolves with its server once bound. */
function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, LOOPBACK_HOST, () => resolve(server));
  });
}
const boundPort = (server: net.Server) => (server.address() as net.AddressInfo).port;
const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** A port that was free a moment ago (bound by the OS, then released). */
async function freePort(): Promise<number> {
  const server = await listen(0);
  const port = boundPort(server);
  await close(server);
  return port;
}

describe('the remembered port', () => {
  test('round-trips through its file', () => {
    const file = fresh('client-port');
    rememberPort(file, 45123);
    assert.equal(readRememberedPort(file), 45123);
  });

  const unusable: Array<[string, string]> = [
    ['0\n', 'port 0'],
    ['80\n', 'a privileged port'],
    ['70000\n', 'beyond 65535'],
    ['45123abc', 'trailing garbage'],
    ['-5', 'negative'],
    ['', 'empty'],
  ];
  for (const [text, what] of unusable) {
    test(`is ignored when the file holds ${what}`, () => {
      const file = fresh('client-port');
      fs.writeFileSync(file, text);
      assert.equal(readRememberedPort(file), undefined);
    });
  }

  test('is undefined when there is no file yet (first launch)', () => {
    assert.equal(readRememberedPort(fresh('missing')), undefined);
  });

  test('isUsablePort accepts 1024..65535 integers only', () => {
    assert.deepEqual([1023, 1024, 65535, 65536, 4000.5, NaN, '4000'].map(isUsablePort), [false, true, true, false, false, false, false]);
  });

  test('portOf reads explicit and default ports', () => {
    assert.equal(portOf('http://127.0.0.1:45123'), 45123);
    assert.equal(portOf('http://127.0.0.1/'), 80);
  });
});

describe('listenOnPreferredPort, over real loopback sockets', () => {
  test('a free preferred port is the one used', async () => {
    const preferred = await freePort();
    const { result: server, fellBack } = await listenOnPreferredPort(preferred, listen);
    try {
      assert.equal(boundPort(server), preferred);
      assert.equal(fellBack, false);
    } finally {
      await close(server);
    }
  });

  test('a taken preferred port falls back to a free one the OS picks', async () => {
    const squatter = await listen(0);
    const taken = boundPort(squatter);
    const tried: number[] = [];
    try {
      const { result: server, fellBack } = await listenOnPreferredPort(taken, (port) => {
        tried.push(port);
        return listen(port);
      });
      assert.deepEqual(tried, [taken, 0]);
      assert.equal(fellBack, true);
      assert.notEqual(boundPort(server), taken);
      await close(server);
    } finally {
      await close(squatter);
    }
  });

  test('no remembered port: the OS picks one', async () => {
    const tried: number[] = [];
    const { result: server } = await listenOnPreferredPort(undefined, (port) => {
      tried.push(port);
      return listen(port);
    });
    assert.deepEqual(tried, [0]);
    assert.ok(boundPort(server) > 0);
    await close(server);
  });

  test('a failure other than "port unavailable" is not retried', async () => {
    let calls = 0;
    await assert.rejects(
      listenOnPreferredPort(45123, async () => {
        calls++;
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      }),
      /disk full/,
    );
    assert.equal(calls, 1);
  });
});

describe('startDesktopHomeserver: the real homeserver keeps its origin across launches', () => {
  test('first launch picks a port; the next launch gets the same port, hence the same origin', async () => {
    const dataDir = fresh('data');
    const portFile = fresh('client-port');
    const first = await startDesktopHomeserver({ dataDir, portFile });
    const firstPort = portOf(first.clientUrl);
    assert.equal(new URL(first.clientUrl).hostname, LOOPBACK_HOST);
    assert.equal(readRememberedPort(portFile), firstPort);
    await first.homeserver.stop();

    const second = await startDesktopHomeserver({ dataDir, portFile });
    try {
      assert.equal(second.clientUrl, first.clientUrl);
      assert.equal(second.movedPort, false);
      const res = await fetch(`${second.clientUrl}/_matrix/client/versions`);
      assert.equal(res.status, 200);
    } finally {
      await second.homeserver.stop();
    }
  });

  test('when another program holds the remembered port, the homeserver starts on a new one and remembers it', async () => {
    const dataDir = fresh('data');
    const portFile = fresh('client-port');
    const squatter = await listen(0);
    rememberPort(portFile, boundPort(squatter));
    try {
      const running = await startDesktopHomeserver({ dataDir, portFile });
      try {
        assert.equal(running.movedPort, true);
        assert.notEqual(portOf(running.clientUrl), boundPort(squatter));
        assert.equal(readRememberedPort(portFile), portOf(running.clientUrl));
        // The homeserver on the new port works, so the failed first attempt left nothing half-open.
        const res = await fetch(`${running.clientUrl}/_matrix/client/versions`);
        assert.equal(res.status, 200);
      } finally {
        await running.homeserver.stop();
      }
    } finally {
      await close(squatter);
    }
  });

  test('the desktop homeserver refuses registration: only the app creates the local account', async () => {
    const running = await startDesktopHomeserver({ dataDir: fresh('data'), portFile: fresh('client-port') });
    try {
      const res = await fetch(`${running.clientUrl}/_matrix/client/v3/register`, {
        method: 'POST',
        body: JSON.stringify({ username: 'intruder', password: 'p4ssw0rd-long-enough' }),
      });
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { errcode: string }).errcode, 'M_FORBIDDEN');
    } finally {
      await running.homeserver.stop();
    }
  });
});
