// The desktop's homeserver as a LAN peer (issue #15, part H2b): a key-bound name, a federation
// listener on the LAN that stays closed until the user shares, a remembered federation port, and
// a local account that is a server admin so its user may switch sharing. Sharing is never switched
// on here: that would announce over mDNS on the machine's real LAN (test/lan/ does it in namespaces).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { desktopHomeserverConfig } from '../../main/homeserver-config.ts';
import { startDesktopHomeserver } from '../../main/desktop-homeserver.ts';
import { chooseFederationPort } from '../../main/federation-port.ts';
import { LOOPBACK_HOST, readRememberedPort, rememberPort } from '../../main/port.ts';
import { decodeSigningKeyFile } from '../../homeserver/protocol/signing-key.ts';
import { lanServerName } from '../../homeserver/protocol/lan-identity.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-lan-desktop-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => path.join(scratch, `${++counter}-${name}`);

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, LOOPBACK_HOST, () => resolve(server));
  });
}
const boundPort = (server: net.Server) => (server.address() as net.AddressInfo).port;
const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, LOOPBACK_HOST, () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe("the desktop homeserver's config", () => {
  test('is named after the data dir signing key, federates on the LAN under policy lan, sharing off', () => {
    const dataDir = fresh('data');
    const config = desktopHomeserverConfig({ dataDir, port: 0, federationPort: 8448 });
    const key = decodeSigningKeyFile(fs.readFileSync(path.join(dataDir, 'signing.key'), 'utf8'));
    assert.equal(config.serverName, lanServerName(key.publicKey));
    assert.deepEqual(config.federation?.listen, { host: '0.0.0.0', port: 8448 });
    assert.equal(config.federation?.policy, 'lan');
    assert.deepEqual(config.federation?.domains, []);
    assert.deepEqual(config.lan, { sharing: false });
    assert.equal(config.listen.host, '127.0.0.1', 'the client listener stays on loopback');
    assert.equal(desktopHomeserverConfig({ dataDir, port: 0, federationPort: 8448 }).serverName, config.serverName, 'stable across launches');
  });
});

describe('the federation port', () => {
  test('a remembered free port is kept', async () => {
    const file = fresh('federation-port');
    const probe = await listen(0);
    const port = boundPort(probe);
    await close(probe);
    rememberPort(file, port);
    assert.equal(await chooseFederationPort(file, LOOPBACK_HOST), port);
  });

  test('a remembered port that is taken gives way to a free one, which is remembered', async () => {
    const file = fresh('federation-port');
    const squatter = await listen(0);
    try {
      rememberPort(file, boundPort(squatter));
      const chosen = await chooseFederationPort(file, LOOPBACK_HOST);
      assert.notEqual(chosen, boundPort(squatter));
      assert.equal(readRememberedPort(file), chosen);
    } finally {
      await close(squatter);
    }
  });
});

describe('startDesktopHomeserver with LAN sharing off', () => {
  test('nothing listens on the federation port, and the local account (made admin) may change the sharing setting', async () => {
    const dataDir = fresh('data');
    const portFile = fresh('client-port');
    const federationPortFile = fresh('federation-port');
    const running = await startDesktopHomeserver({ dataDir, portFile, federationPortFile, federationHost: LOOPBACK_HOST });
    try {
      const federationPort = readRememberedPort(federationPortFile);
      assert.ok(federationPort !== undefined);
      assert.equal(await refused(federationPort), true);
      const hs = running.homeserver;
      assert.equal(hs.serverName, lanServerName(decodeSigningKeyFile(fs.readFileSync(path.join(dataDir, 'signing.key'), 'utf8')).publicKey));
      const tokenFor = async (admin: boolean) => {
        const { token } = await hs.loginTokenFor('me', admin ? { admin: true } : {});
        const res = await fetch(`${running.clientUrl}/_matrix/client/v3/login`, { method: 'POST', body: JSON.stringify({ type: 'm.login.token', token }) });
        return ((await res.json()) as { access_token: string }).access_token;
      };
      const sharing = (token: string, method: string, body?: unknown) =>
        fetch(`${running.clientUrl}/_matrix/client/unstable/org.hearth.lan/sharing`, {
          method,
          headers: { authorization: `Bearer ${token}` },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      // An account made before the desktop's account was an admin is made one on its next sign-in.
      const before = await tokenFor(false);
      assert.equal((await sharing(before, 'PUT', { announce_label: true })).status, 403);
      const token = await tokenFor(true);
      assert.equal((await sharing(token, 'PUT', { announce_label: true })).status, 200);
      assert.deepEqual(await (await sharing(token, 'GET')).json(), { enabled: false, announce_label: true, policy: 'lan', domains: [] });
      assert.equal(await refused(federationPort), true, 'still closed: sharing is off');
    } finally {
      await running.homeserver.stop();
    }
  });
});
