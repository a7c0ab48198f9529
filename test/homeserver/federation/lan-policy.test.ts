// Federation policy 'lan' (issue #15): the desktop federates only with LAN peers discovery has
// pinned and the configured domains, requests in and out; the domains change at run time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startFederatedTestServer, type TestServer } from '../../helpers/server.ts';
import { signedRequest } from '../../helpers/federation.ts';
import { lanServerName } from '../../../homeserver/protocol/lan-identity.ts';
import { decodeSigningKeyFile, generateSigningKey, type SigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { FederationRequestError } from '../../../homeserver/federation/client.ts';
import { TableDirectory, startDesktop, type Desktop } from './lan-desktops.ts';

describe("policy 'lan': LAN peers and configured domains only", () => {
  const lan = new TableDirectory();
  let l: Desktop, desk: Desktop;
  let open: TestServer, domain: TestServer;
  let openPort: number, domainPort: number;
  let openKey: SigningKey, domainKey: SigningKey;

  before(async () => {
    [openPort, domainPort] = [await freePort(), await freePort()];
    const lPort = await freePort();
    open = await startFederatedTestServer(openPort, { trustSelfSigned: [`127.0.0.1:${lPort}`] });
    domain = await startFederatedTestServer(domainPort, { trustSelfSigned: [`127.0.0.1:${lPort}`] });
    openKey = signingKeyOf(open);
    domainKey = signingKeyOf(domain);
    const deskKey = generateSigningKey();
    const deskName = lanServerName(deskKey.publicKey);
    desk = await startDesktop(new TableDirectory(), { key: deskKey });
    lan.announce(desk.peer);
    l = await startDesktop(lan, {
      port: lPort,
      federation: {
        policy: 'lan',
        domains: [domain.serverName],
        trustSelfSigned: [domain.serverName, open.serverName],
        privatePeers: [deskName],
      },
    });
  });
  after(async () => {
    await Promise.all([l?.server.stop(), desk?.server.stop(), open?.stop(), domain?.stop()]);
  });

  const profilePath = () => `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(`@nobody:${l.server.serverName}`)}`;

  test('a server that is neither a LAN peer nor a configured domain is refused both ways', async () => {
    const inbound = await signedRequest(l.port, {
      method: 'GET',
      path: profilePath(),
      origin: open.serverName,
      destination: l.server.serverName,
      key: openKey,
    });
    assert.equal(inbound.status, 403, JSON.stringify(inbound.body));
    assert.equal(inbound.body.errcode, 'M_FORBIDDEN');
    const outbound = await l.server.hs.federation!.client.request(open.serverName, 'GET', '/_matrix/federation/v1/version').catch((e: unknown) => e);
    assert.ok(outbound instanceof FederationRequestError);
    assert.equal(outbound.kind, 'forbidden');
    // A LAN name discovery never pinned is no better than an unknown domain.
    const stranger = generateSigningKey();
    const strangerName = lanServerName(stranger.publicKey);
    const fromStranger = await signedRequest(l.port, {
      method: 'GET',
      path: profilePath(),
      origin: strangerName,
      destination: l.server.serverName,
      key: stranger,
    });
    assert.equal(fromStranger.status, 403, JSON.stringify(fromStranger.body));
  });

  test('a configured domain and a known LAN peer are allowed both ways', async () => {
    const inbound = await signedRequest(l.port, {
      method: 'GET',
      path: profilePath(),
      origin: domain.serverName,
      destination: l.server.serverName,
      key: domainKey,
    });
    assert.equal(inbound.status, 404, JSON.stringify(inbound.body)); // Through the ACL: no such user.
    await l.server.hs.federation!.client.request(domain.serverName, 'GET', '/_matrix/federation/v1/version');
    const fromDesk = await signedRequest(l.port, {
      method: 'GET',
      path: profilePath(),
      origin: desk.peer.serverName,
      destination: l.server.serverName,
      key: desk.key,
    });
    assert.equal(fromDesk.status, 404, JSON.stringify(fromDesk.body));
  });

  test('the domains can be changed at run time', async () => {
    l.server.hs.federation!.setDomains([open.serverName]);
    try {
      const inbound = await signedRequest(l.port, {
        method: 'GET',
        path: profilePath(),
        origin: open.serverName,
        destination: l.server.serverName,
        key: openKey,
      });
      assert.equal(inbound.status, 404, JSON.stringify(inbound.body));
      const dropped = await signedRequest(l.port, {
        method: 'GET',
        path: profilePath(),
        origin: domain.serverName,
        destination: l.server.serverName,
        key: domainKey,
      });
      assert.equal(dropped.status, 403, JSON.stringify(dropped.body));
    } finally {
      l.server.hs.federation!.setDomains([domain.serverName]);
    }
  });
});

function signingKeyOf(server: TestServer): SigningKey {
  return decodeSigningKeyFile(readFileSync(join(server.dataDir, 'signing.key'), 'utf8'));
}
