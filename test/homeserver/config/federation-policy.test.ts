// The federation policy keys of the config file (issue #15): `federation.policy` and `federation.domains`.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../homeserver/config/load.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-config-policy-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

function dataDir(yaml: string): string {
  const dir = path.join(scratch, `data-${++counter}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'hearth.yaml'), yaml);
  return dir;
}

describe('federation.policy and federation.domains', () => {
  test("policy 'lan' with its domains is read from the file", () => {
    const config = loadConfig({ dataDir: dataDir('federation:\n  listen: 0.0.0.0:8448\n  policy: lan\n  domains: [example.org, matrix.example.com:8448]\n') });
    assert.equal(config.federation?.policy, 'lan');
    assert.deepEqual(config.federation?.domains, ['example.org', 'matrix.example.com:8448']);
  });

  test('without the keys the policy is left to its default (open)', () => {
    const config = loadConfig({ dataDir: dataDir('federation:\n  listen: 0.0.0.0:8448\n') });
    assert.equal(config.federation?.policy, undefined);
    assert.equal(config.federation?.domains, undefined);
  });

  test('an unknown policy or a domain that is not a server name is a config error naming the key', () => {
    assert.throws(
      () => loadConfig({ dataDir: dataDir('federation:\n  policy: closed\n') }),
      (err: unknown) => err instanceof ConfigError && /federation\.policy.*one of 'open', 'lan'/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ dataDir: dataDir('federation:\n  domains: [not a name]\n') }),
      (err: unknown) => err instanceof ConfigError && /federation\.domains.*expected a server name/.test(err.message),
    );
  });
});
