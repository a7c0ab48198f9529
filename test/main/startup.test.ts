// The startup order with the real homeserver (temp data dir, loopback port 0) and stand-ins only
// for the Electron window, which plain Node cannot create.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDesktopHomeserver, type RunningHomeserver } from '../../main/desktop-homeserver.ts';
import { LoginTokenHandoff } from '../../main/login-token.ts';
import { startUp } from '../../main/startup.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-startup-test-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => path.join(scratch, `${++counter}-${name}`);

/** Whether the server at `url` answers a client request right now. */
async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/_matrix/client/versions`)).status === 200;
  } catch {
    return false;
  }
}

function loginWithToken(clientUrl: string, token: string): Promise<Response> {
  return fetch(`${clientUrl}/_matrix/client/v3/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'm.login.token', token }),
  });
}

interface FakeWindow {
  origin: string;
  loadedUrl?: string;
}

describe('startUp', () => {
  test('starts the homeserver, mints the token, then opens the window on the ready server; the token logs in exactly once', async () => {
    const events: string[] = [];
    let running: RunningHomeserver | undefined;
    const handoff = new LoginTokenHandoff({
      mint: async () => {
        assert.ok(running, 'a token is minted only after the homeserver started');
        events.push('mint');
        return running.homeserver.loginTokenFor('alice');
      },
    });
    let answeredAtWindowCreation: Promise<boolean> | undefined;
    let serverAnsweredAtLoad = false;

    try {
      const started = await startUp<FakeWindow>({
        startHomeserver: async () => {
          events.push('start homeserver');
          running = await startDesktopHomeserver({ dataDir: fresh('data'), portFile: fresh('client-port') });
          events.push('homeserver ready');
          return running;
        },
        prepareLoginToken: () => handoff.prepare(),
        createWindow: (origin) => {
          events.push('create window');
          // Synchronous like BrowserWindow's constructor: the request goes out now, checked below.
          answeredAtWindowCreation = answers(running!.clientUrl);
          return { origin };
        },
        loadUrl: async (window, url) => {
          events.push('load url');
          serverAnsweredAtLoad = await answers(url);
          window.loadedUrl = url;
        },
      });

      assert.deepEqual(events, ['start homeserver', 'homeserver ready', 'mint', 'create window', 'load url']);
      assert.equal(await answeredAtWindowCreation, true, 'the server answered when the window was created');
      assert.ok(serverAnsweredAtLoad, 'the server answered when the URL was loaded');

      const window = started.window;
      assert.equal(window.loadedUrl, running!.clientUrl, 'the window shows the homeserver client URL');
      assert.equal(window.origin, new URL(running!.clientUrl).origin, 'the window is restricted to that origin');
      assert.equal(started.appOrigin, window.origin);
      // The desktop is named after its signing key (issue #15), a LAN name.
      const alice = `@alice:${running!.homeserver.serverName}`;
      assert.match(alice, /^@alice:[a-z2-7]{26}\.local$/);
      assert.equal(started.userId, alice);

      // The page asks for its token (window.hearth.getLoginToken) and signs in with it.
      const token = await handoff.take();
      assert.ok(token);
      assert.equal(await handoff.take(), null, 'the token is handed out once');

      const first = await loginWithToken(started.clientUrl, token.token);
      assert.equal(first.status, 200);
      const session = (await first.json()) as { user_id: string; access_token: string };
      assert.equal(session.user_id, alice);
      const whoami = await fetch(`${started.clientUrl}/_matrix/client/v3/account/whoami`, {
        headers: { authorization: `Bearer ${session.access_token}` },
      });
      assert.equal(((await whoami.json()) as { user_id: string }).user_id, alice);

      const replay = await loginWithToken(started.clientUrl, token.token);
      assert.equal(replay.status, 403, 'the same token does not log in twice');
      assert.equal(((await replay.json()) as { errcode: string }).errcode, 'M_FORBIDDEN');
    } finally {
      await running?.homeserver.stop();
    }
  });

  test('the second launch on the same data signs in the same account, not a new one', async () => {
    const dataDir = fresh('data');
    const portFile = fresh('client-port');
    const userIds: string[] = [];
    for (let launch = 0; launch < 2; launch++) {
      const running = await startDesktopHomeserver({ dataDir, portFile });
      try {
        const handoff = new LoginTokenHandoff({ mint: () => running.homeserver.loginTokenFor('alice') });
        const started = await startUp({
          startHomeserver: async () => running,
          prepareLoginToken: () => handoff.prepare(),
          createWindow: (origin) => ({ origin }),
          loadUrl: async () => {},
        });
        const token = await handoff.take();
        const res = await loginWithToken(started.clientUrl, token!.token);
        assert.equal(res.status, 200);
        userIds.push(((await res.json()) as { user_id: string }).user_id);
      } finally {
        await running.homeserver.stop();
      }
    }
    assert.equal(userIds[1], userIds[0]);
    assert.match(userIds[0]!, /^@alice:[a-z2-7]{26}\.local$/, 'named after the signing key, the same at each launch');
  });

  test('when the homeserver cannot start, no token is minted and no window is opened', async () => {
    // A file where the data folder should be: the real homeserver fails to create its data dir.
    const dataDir = fresh('not-a-folder');
    fs.writeFileSync(dataDir, 'in the way');
    const events: string[] = [];
    await assert.rejects(
      startUp({
        startHomeserver: () => startDesktopHomeserver({ dataDir, portFile: fresh('client-port') }),
        prepareLoginToken: async () => {
          events.push('mint');
          return { userId: '@alice:localhost', token: 'never' };
        },
        createWindow: () => events.push('create window'),
        loadUrl: async () => {
          events.push('load url');
        },
      }),
      (error: NodeJS.ErrnoException) => error.code === 'EEXIST' || error.code === 'ENOTDIR',
    );
    assert.deepEqual(events, []);
  });

  test('when minting the token fails, no window is opened', async () => {
    const running = await startDesktopHomeserver({ dataDir: fresh('data'), portFile: fresh('client-port') });
    const events: string[] = [];
    try {
      await assert.rejects(
        startUp({
          startHomeserver: async () => running,
          // The real homeserver, stopped under our feet: its database is closed.
          prepareLoginToken: async () => {
            await running.homeserver.stop();
            return running.homeserver.loginTokenFor('alice');
          },
          createWindow: () => events.push('create window'),
          loadUrl: async () => {
            events.push('load url');
          },
        }),
      );
      assert.deepEqual(events, []);
    } finally {
      await running.homeserver.stop().catch(() => {});
    }
  });
});
