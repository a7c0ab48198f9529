// The `lan:` config section (issue #15): a sharing desktop is named after its signing key.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../homeserver/config/load.ts';
import { decodeSigningKeyFile } from '../../../homeserver/protocol/signing-key.ts';
import { lanServerName } from '../../../homeserver/protocol/lan-identity.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-lan-config-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

/** A config file outside a data dir that does not exist yet. */
function configFile(yaml: string): { file: string; dataDir: string } {
  const dir = path.join(scratch, `c-${++counter}`);
  fs.mkdirSync(dir);
  const dataDir = path.join(dir, 'data');
  const file = path.join(dir, 'hearth.yaml');
  fs.writeFileSync(file, `data_dir: ${dataDir}\n${yaml}`);
  return { file, dataDir };
}

const keyOf = (dataDir: string) => decodeSigningKeyFile(fs.readFileSync(path.join(dataDir, 'signing.key'), 'utf8'));

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError, but the config loaded');
}

describe('the lan section', () => {
  test('without server_name the name is the one bound to a new signing key, created 0600 in the data dir', () => {
    const { file, dataDir } = configFile('federation:\n  listen: 0.0.0.0:8448\nlan:\n  sharing: true\n');
    const config = loadConfig({ config: file }, {});
    const key = keyOf(dataDir);
    assert.equal(config.serverName, lanServerName(key.publicKey));
    assert.match(config.serverName, /^[a-z2-7]{26}\.local$/);
    assert.deepEqual(config.lan, { sharing: true, announceLabel: false });
    if (process.platform !== 'win32') assert.equal(fs.statSync(path.join(dataDir, 'signing.key')).mode & 0o777, 0o600);
  });

  test('the name is stable: a second load reads the same key and gives the same name', () => {
    const { file } = configFile('federation:\n  listen: 0.0.0.0:8448\nlan: {}\n');
    const first = loadConfig({ config: file }, {});
    const second = loadConfig({ config: file }, {});
    assert.equal(second.serverName, first.serverName);
    assert.deepEqual(first.lan, { sharing: false, announceLabel: false });
  });

  test('announce_label is read; sharing defaults to false', () => {
    const { file } = configFile('federation:\n  listen: 0.0.0.0:8448\nlan:\n  announce_label: true\n');
    assert.deepEqual(loadConfig({ config: file }, {}).lan, { sharing: false, announceLabel: true });
  });

  test('a server_name that is not the key-bound one is a ConfigError naming the right one', () => {
    const { file, dataDir } = configFile('server_name: example.org\nfederation:\n  listen: 0.0.0.0:8448\nlan:\n  sharing: true\n');
    const error = configError(() => loadConfig({ config: file }, {}));
    assert.equal(error.key, 'server_name');
    assert.ok(error.message.includes(lanServerName(keyOf(dataDir).publicKey)), error.message);
  });

  test('the key-bound name given explicitly is accepted', () => {
    const { file } = configFile('federation:\n  listen: 0.0.0.0:8448\nlan:\n  sharing: true\n');
    const name = loadConfig({ config: file }, {}).serverName;
    assert.equal(loadConfig({ config: file, serverName: name }, {}).serverName, name);
  });

  test('lan without federation.listen is a ConfigError', () => {
    const { file } = configFile('lan:\n  sharing: true\n');
    assert.equal(configError(() => loadConfig({ config: file }, {})).key, 'lan');
  });

  test('unknown keys and non-booleans in lan are ConfigErrors', () => {
    assert.equal(
      configError(() => loadConfig({ config: configFile('federation:\n  listen: 0.0.0.0:8448\nlan:\n  shareing: true\n').file }, {})).key,
      'lan.shareing',
    );
    assert.equal(
      configError(() => loadConfig({ config: configFile('federation:\n  listen: 0.0.0.0:8448\nlan:\n  sharing: yes\n').file }, {})).key,
      'lan.sharing',
    );
    assert.equal(configError(() => loadConfig({ config: configFile('federation:\n  listen: 0.0.0.0:8448\nlan: true\n').file }, {})).key, 'lan');
  });

  test('without lan the server name stays the default and no key is created by loading', () => {
    const { file, dataDir } = configFile('');
    assert.equal(loadConfig({ config: file }, {}).serverName, 'localhost');
    assert.equal(fs.existsSync(path.join(dataDir, 'signing.key')), false);
  });
});
