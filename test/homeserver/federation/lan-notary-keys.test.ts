// Keys of a LAN name from a notary (issue #15): only the key the name is bound to is believed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { freePort } from '../../helpers/server.ts';
import { lanServerName } from '../../../homeserver/protocol/lan-identity.ts';
import { generateSigningKey } from '../../../homeserver/protocol/signing-key.ts';
import { generateSelfSigned } from '../../../homeserver/federation/tls.ts';
import { ourKeyDocument } from '../../../homeserver/federation/keys.ts';
import { signJson } from '../../../homeserver/protocol/signing.ts';
import { TableDirectory, startDesktop, type Desktop } from './lan-desktops.ts';

describe('keys of a LAN name from a notary', () => {
  // A notary we do not own, serving whatever key document the test gives it for any server.
  let notary: https.Server;
  let notaryName: string;
  const notaryKey = generateSigningKey();
  let served: object | undefined;
  let c: Desktop;
  const keyB = generateSigningKey();
  const nameB = lanServerName(keyB.publicKey);

  before(async () => {
    const port = await freePort();
    notaryName = `127.0.0.1:${port}`;
    const pair = await generateSelfSigned('127.0.0.1', '127.0.0.1');
    notary = https.createServer({ cert: pair.cert, key: pair.key }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/_matrix/key/v2/server') return res.end(JSON.stringify(ourKeyDocument(notaryName, notaryKey, Date.now())));
        if (req.url === '/_matrix/key/v2/query') return res.end(JSON.stringify({ server_keys: served ? [signJson(served, notaryName, notaryKey)] : [] }));
        res.statusCode = 404;
        res.end(JSON.stringify({ errcode: 'M_UNRECOGNIZED', error: 'no' }));
      });
    });
    await new Promise<void>((r) => notary.listen(port, '127.0.0.1', r));
    // B is not on C's LAN now: C can only ask the notary.
    c = await startDesktop(new TableDirectory(), { federation: { keyNotaries: [notaryName], trustSelfSigned: [notaryName] } });
  });
  after(async () => {
    await c?.server.stop();
    notary?.close();
  });

  test("a notary's key for a LAN name that is not the key the name is bound to is ignored", async () => {
    const keyM = generateSigningKey();
    served = ourKeyDocument(nameB, keyM, Date.now());
    assert.equal(await c.server.hs.federation!.remoteKeys.getKey(nameB, keyM.keyId), null);
  });

  test("a notary's copy of the bound key is believed (the notary path works)", async () => {
    served = ourKeyDocument(nameB, keyB, Date.now());
    const key = await c.server.hs.federation!.remoteKeys.getKey(nameB, keyB.keyId);
    assert.deepEqual(key && Buffer.from(key), Buffer.from(keyB.publicKey));
  });
});
