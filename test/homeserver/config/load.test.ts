import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULTS, defaultDataDir, loadConfig, parseListen } from '../../../homeserver/config/load.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-config-test-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A fresh data dir holding the given files. */
function dataDir(files: Record<string, string> = {}): string {
  const dir = path.join(scratch, `data-${++counter}`);
  fs.mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError, but the config loaded');
}

describe('defaults', () => {
  test('with no file and no options every field takes its default, data dir under XDG_DATA_HOME', () => {
    const xdg = path.join(scratch, 'xdg');
    const config = loadConfig({}, { XDG_DATA_HOME: xdg, HOME: '/nonexistent-home' });
    assert.deepEqual(config, {
      dataDir: path.join(xdg, 'hearth'),
      serverName: 'localhost',
      listen: { host: '127.0.0.1', port: 8008 },
      registration: 'open',
      registrationTokens: [],
      allowedHosts: [],
      rateLimit: {
        perSecond: DEFAULTS.rateLimit.perSecond,
        burst: DEFAULTS.rateLimit.burst,
        registrationBurst: 5,
        registrationsPerHour: 6,
        failedLoginsPerAccount: 5,
        failedLoginsPerAddress: 20,
      },
      passwordPolicy: { minimumLength: 8 },
      maxUploadBytes: 50 * 1024 * 1024,
    });
    assert.equal(fs.existsSync(config.dataDir), false, 'loading a config must not create the data dir');
  });

  test('the default rate limit lets a fast client burst and sustain well above a human pace', () => {
    assert.ok(DEFAULTS.rateLimit.burst >= 100);
    assert.ok(DEFAULTS.rateLimit.perSecond >= 20);
  });

  const cases: Array<[string, NodeJS.ProcessEnv, NodeJS.Platform, string]> = [
    ['Linux uses an absolute XDG_DATA_HOME', { XDG_DATA_HOME: '/x/data' }, 'linux', '/x/data/hearth'],
    ['Linux ignores a relative XDG_DATA_HOME', { XDG_DATA_HOME: 'rel' }, 'linux', '/home/u/.local/share/hearth'],
    ['Linux falls back to ~/.local/share', {}, 'linux', '/home/u/.local/share/hearth'],
    ['FreeBSD follows XDG like Linux', {}, 'freebsd', '/home/u/.local/share/hearth'],
    ['macOS uses ~/Library/Application Support', { XDG_DATA_HOME: '/x' }, 'darwin', '/home/u/Library/Application Support/hearth'],
    ['Windows uses %APPDATA%', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u\\AppData\\Roaming\\hearth'],
    ['Windows without %APPDATA% uses the profile', { USERPROFILE: 'C:\\Users\\u' }, 'win32', 'C:\\Users\\u\\AppData\\Roaming\\hearth'],
  ];
  for (const [name, env, platform, expected] of cases) {
    test(`default data dir: ${name}`, () => {
      assert.equal(defaultDataDir(env, platform, '/home/u'), expected);
    });
  }
});

describe('config file', () => {
  const fullYaml = `
# every key
server_name: example.org
listen: "0.0.0.0:8448"
registration: token
registration_tokens: [abc, def-1, abc]
allowed_hosts: [Hearth.LAN, 192.168.1.5, "[fe80::1]"]
rate_limit:
  per_second: 2.5
  burst: 20
  registration_burst: 2
  registrations_per_hour: 0.5
  failed_logins_per_account: 3
  failed_logins_per_address: 9
password_policy:
  minimum_length: 12
refreshable_access_token_lifetime: 600
login_via_existing_session:
  enabled: false
public_base_url: https://matrix.example.org/
admin_contact: mailto:admin@example.org
support:
  contacts:
    - {role: m.role.security, matrix_id: "@security:example.org"}
    - {role: m.role.admin, email_address: help@example.org}
  support_page: https://example.org/help?lang=en
well_known_server: matrix.example.org:443
web_root: web
max_upload_size: 10M
pusher_private_gateways: [Push.LAN, 127.0.0.1, push.lan]
`;

  test('hearth.yaml sets every key; relative paths resolve against its folder', () => {
    const dir = dataDir({ 'hearth.yaml': fullYaml });
    fs.mkdirSync(path.join(dir, 'web'));
    assert.deepEqual(loadConfig({ dataDir: dir }, {}), {
      dataDir: dir,
      serverName: 'example.org',
      listen: { host: '0.0.0.0', port: 8448 },
      registration: 'token',
      registrationTokens: ['abc', 'def-1'],
      allowedHosts: ['hearth.lan', '192.168.1.5', '[fe80::1]'],
      rateLimit: { perSecond: 2.5, burst: 20, registrationBurst: 2, registrationsPerHour: 0.5, failedLoginsPerAccount: 3, failedLoginsPerAddress: 9 },
      passwordPolicy: { minimumLength: 12 },
      refreshableAccessTokenLifetimeMs: 600_000,
      loginViaExistingSession: false,
      maxUploadBytes: 10 * 1024 * 1024,
      publicBaseUrl: 'https://matrix.example.org',
      adminContact: 'mailto:admin@example.org',
      pusherPrivateGateways: ['push.lan', '127.0.0.1'],
      support: {
        contacts: [
          { role: 'm.role.security', matrixId: '@security:example.org' },
          { role: 'm.role.admin', emailAddress: 'help@example.org' },
        ],
        supportPage: 'https://example.org/help?lang=en',
      },
      wellKnownServer: 'matrix.example.org:443',
      webRoot: path.join(dir, 'web'),
    });
  });

  test('hearth.yml and hearth.json are read too', () => {
    const yml = dataDir({ 'hearth.yml': 'server_name: yml.example\n' });
    assert.equal(loadConfig({ dataDir: yml }, {}).serverName, 'yml.example');
    const json = dataDir({ 'hearth.json': '{"server_name": "json.example", "rate_limit": {"burst": 7}}' });
    const config = loadConfig({ dataDir: json }, {});
    assert.equal(config.serverName, 'json.example');
    assert.deepEqual(config.rateLimit, { ...DEFAULTS.rateLimit, burst: 7 });
  });

  test('max_upload_size takes bytes or a K/M/G size in powers of 1024, and rejects anything else', () => {
    const cases: Array<[string, number]> = [
      ['1048576', 1048576],
      ['512K', 512 * 1024],
      ['"50M"', 50 * 1024 ** 2],
      ['1.5MiB', 1.5 * 1024 ** 2],
      ['1g', 1024 ** 3],
    ];
    for (const [text, bytes] of cases) {
      assert.equal(loadConfig({ dataDir: dataDir({ 'hearth.yaml': `max_upload_size: ${text}\n` }) }, {}).maxUploadBytes, bytes, text);
    }
    for (const bad of ['0', '-5', 'lots', '10T', '[1]']) {
      const error = configError(() => loadConfig({ dataDir: dataDir({ 'hearth.yaml': `max_upload_size: ${bad}\n` }) }, {}));
      assert.equal(error.key, 'max_upload_size', bad);
    }
  });

  test('remote_media_cache_size takes a byte size like max_upload_size, and is left out (the default) when absent', () => {
    assert.equal(loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'remote_media_cache_size: 2G\n' }) }, {}).remoteMediaCacheBytes, 2 * 1024 ** 3);
    assert.equal(loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'server_name: x.example\n' }) }, {}).remoteMediaCacheBytes, undefined);
    assert.equal(configError(() => loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'remote_media_cache_size: lots\n' }) }, {})).key, 'remote_media_cache_size');
  });

  test('default_room_version takes a room version Hearth implements (string or number) and rejects any other', () => {
    assert.equal(loadConfig({ dataDir: dataDir() }, {}).defaultRoomVersion, undefined);
    assert.equal(loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'default_room_version: "12"\n' }) }, {}).defaultRoomVersion, '12');
    assert.equal(loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'default_room_version: 10\n' }) }, {}).defaultRoomVersion, '10');
    for (const bad of ['5', '"13"', '"org.example.v1"', '11.5', '[11]', '""']) {
      const error = configError(() => loadConfig({ dataDir: dataDir({ 'hearth.yaml': `default_room_version: ${bad}\n` }) }, {}));
      assert.equal(error.key, 'default_room_version', bad);
    }
  });

  test('turn sets the TURN server for /voip/turnServer; a URI that is not turn: or turns:, or a missing secret, is an error', () => {
    const ok = loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'turn:\n  uris: ["turn:turn.lan:3478"]\n  shared_secret: abc\n  user_lifetime: 600\n' }) }, {});
    assert.deepEqual(ok.turn, { uris: ['turn:turn.lan:3478'], sharedSecret: 'abc', userLifetimeMs: 600_000 });
    assert.equal(
      loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'turn:\n  uris: ["turns:t:5349"]\n  shared_secret: abc\n' }) }, {}).turn?.userLifetimeMs,
      86_400_000,
    );
    assert.equal(
      configError(() => loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'turn:\n  uris: ["http://x"]\n  shared_secret: abc\n' }) }, {})).key,
      'turn.uris[0]',
    );
    assert.equal(configError(() => loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'turn:\n  uris: ["turn:x"]\n' }) }, {})).key, 'turn.shared_secret');
    assert.equal(
      configError(() => loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'turn:\n  uris: ["turn:x"]\n  shared_secret: a\n  secret: b\n' }) }, {})).key,
      'turn.secret',
    );
  });

  test('an empty or comment-only YAML file means all defaults', () => {
    const dir = dataDir({ 'hearth.yaml': '# nothing yet\n' });
    assert.equal(loadConfig({ dataDir: dir }, {}).serverName, 'localhost');
  });

  test('command-line options override the file, and the file fills in the rest', () => {
    const dir = dataDir({ 'hearth.yaml': fullYaml });
    fs.mkdirSync(path.join(dir, 'web'));
    const config = loadConfig({ dataDir: dir, serverName: 'cli.example', listen: '[::1]:0', registration: 'closed' }, {});
    assert.equal(config.serverName, 'cli.example');
    assert.deepEqual(config.listen, { host: '::1', port: 0 });
    assert.equal(config.registration, 'closed');
    assert.deepEqual(config.rateLimit, {
      perSecond: 2.5,
      burst: 20,
      registrationBurst: 2,
      registrationsPerHour: 0.5,
      failedLoginsPerAccount: 3,
      failedLoginsPerAddress: 9,
    });
    assert.deepEqual(config.registrationTokens, ['abc', 'def-1']);
  });

  test('--config names a file elsewhere whose data_dir is used and the data dir file is ignored', () => {
    const elsewhere = dataDir();
    const target = dataDir({ 'hearth.yaml': 'server_name: ignored.example\n' });
    const file = path.join(elsewhere, 'custom.yaml');
    fs.writeFileSync(file, `data_dir: ../${path.basename(target)}\nserver_name: custom.example\n`);
    const config = loadConfig({ config: file }, {});
    assert.equal(config.dataDir, target);
    assert.equal(config.serverName, 'custom.example');
    // --data-dir still wins over the file's data_dir.
    const other = dataDir();
    assert.equal(loadConfig({ config: file, dataDir: other }, {}).dataDir, other);
  });

  test('relative --data-dir and --web-root resolve against the working directory', () => {
    const dir = dataDir();
    const config = loadConfig({ dataDir: path.relative(process.cwd(), dir), webRoot: path.relative(process.cwd(), dir) }, {});
    assert.equal(config.dataDir, dir);
    assert.equal(config.webRoot, dir);
  });
});

describe('--listen parsing', () => {
  const good: Array<[string, string, number]> = [
    ['127.0.0.1:8008', '127.0.0.1', 8008],
    ['localhost:0', 'localhost', 0],
    ['0.0.0.0:65535', '0.0.0.0', 65535],
    ['[::1]:8008', '::1', 8008],
    ['[::]:80', '::', 80],
    ['[fe80::1%eth0]:1', 'fe80::1%eth0', 1],
  ];
  for (const [text, host, port] of good) {
    test(`accepts ${text}`, () => assert.deepEqual(parseListen(text, 'command line', '--listen'), { host, port }));
  }
  const bad = [
    '8008',
    'localhost',
    'localhost:',
    ':8008',
    '127.0.0.1:65536',
    '127.0.0.1:-1',
    '127.0.0.1:80a',
    '127.0.0.1:123456',
    '::1:8008',
    '[::1]',
    '[::1]:',
    '[not-ipv6]:80',
    'http://x:80',
    'a b:80',
  ];
  for (const text of bad) {
    test(`rejects ${JSON.stringify(text)} naming the expected form`, () => {
      const error = configError(() => loadConfig({ listen: text, dataDir: dataDir() }, {}));
      assert.equal(error.message, `--listen: expected HOST:PORT or [IPV6]:PORT with PORT from 0 to 65535 (e.g. 127.0.0.1:8008), got ${JSON.stringify(text)}`);
      assert.equal(error.fromCommandLine, true);
    });
  }
});

describe('validation errors name the file, the key, the expectation and the value', () => {
  const SERVER_NAME = 'a server name: a host name, IPv4 or [IPv6] address, optionally with :PORT';
  const HOST = 'a host name or IP address without a port ([brackets] around IPv6)';
  const URL_ = 'an http:// or https:// URL without credentials, query or fragment';
  const KNOWN =
    'server_name, listen, registration, registration_tokens, allowed_hosts, rate_limit, public_base_url, admin_contact, support, well_known_server, web_root, data_dir, max_upload_size, remote_media_cache_size, turn, federation, password_policy, pusher_private_gateways, refreshable_access_token_lifetime, login_via_existing_session, default_room_version, lan';
  // [what, file name, contents, message after "<file>: "]
  const cases: Array<[string, string, string, string]> = [
    ['kebab-case key', 'hearth.yaml', 'server-name: x\n', `server-name: unknown key; did you mean 'server_name'? known keys are ${KNOWN}`],
    ['camelCase key', 'hearth.yaml', 'rateLimit: {}\n', `rateLimit: unknown key; did you mean 'rate_limit'? known keys are ${KNOWN}`],
    ['misspelt key', 'hearth.yaml', 'regisration: open\n', `regisration: unknown key; did you mean 'registration'? known keys are ${KNOWN}`],
    ['unrelated key', 'hearth.yaml', 'colour: blue\n', `colour: unknown key; known keys are ${KNOWN}`],
    [
      'unknown rate_limit key',
      'hearth.yaml',
      'rate_limit: {per_sec: 1}\n',
      `rate_limit.per_sec: unknown key; did you mean 'per_second'? known keys are per_second, burst, registration_burst, registrations_per_hour, failed_logins_per_account, failed_logins_per_address`,
    ],
    ['server_name not a string', 'hearth.yaml', 'server_name: 12\n', `server_name: expected ${SERVER_NAME}, got number 12`],
    ['server_name with bad characters', 'hearth.yaml', 'server_name: "my server!"\n', `server_name: expected ${SERVER_NAME}, got "my server!"`],
    ['server_name with a bad port', 'hearth.yaml', 'server_name: "x.org:99999"\n', `server_name: expected ${SERVER_NAME}, got "x.org:99999"`],
    [
      'listen as a number',
      'hearth.yaml',
      'listen: 8008\n',
      'listen: expected HOST:PORT or [IPV6]:PORT with PORT from 0 to 65535 (e.g. 127.0.0.1:8008), got number 8008',
    ],
    ['registration unknown', 'hearth.yaml', 'registration: maybe\n', `registration: expected one of 'open', 'token', 'closed', got "maybe"`],
    ['registration as YAML boolean', 'hearth.yaml', 'registration: true\n', `registration: expected one of 'open', 'token', 'closed', got boolean true`],
    ['registration_tokens not a list', 'hearth.yaml', 'registration_tokens: abc\n', 'registration_tokens: expected a list, got "abc"'],
    [
      'registration token with a space',
      'hearth.yaml',
      'registration_tokens: [ok, "not ok"]\n',
      'registration_tokens[1]: expected 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", "~" or "-", got "not ok"',
    ],
    ['allowed host as a URL', 'hearth.yaml', 'allowed_hosts: ["http://x"]\n', `allowed_hosts[0]: expected ${HOST}, got "http://x"`],
    [
      'push gateway host with a port',
      'hearth.yaml',
      'pusher_private_gateways: ["push.lan:80"]\n',
      `pusher_private_gateways[0]: expected ${HOST}, got "push.lan:80"`,
    ],
    ['allowed host with a port', 'hearth.yaml', 'allowed_hosts: [ok.lan, "hearth.lan:8008"]\n', `allowed_hosts[1]: expected ${HOST}, got "hearth.lan:8008"`],
    ['allowed IPv6 host with a port', 'hearth.yaml', 'allowed_hosts: ["[::1]:80"]\n', `allowed_hosts[0]: expected ${HOST}, got "[::1]:80"`],
    ['allowed_hosts as a mapping', 'hearth.yaml', 'allowed_hosts: {a: 1}\n', 'allowed_hosts: expected a list, got a mapping ({"a":1})'],
    ['rate_limit not a mapping', 'hearth.yaml', 'rate_limit: 5\n', 'rate_limit: expected a mapping with per_second and burst, got number 5'],
    ['per_second zero', 'hearth.yaml', 'rate_limit: {per_second: 0}\n', 'rate_limit.per_second: expected a number greater than 0, got number 0'],
    ['per_second a string', 'hearth.yaml', 'rate_limit: {per_second: fast}\n', 'rate_limit.per_second: expected a number greater than 0, got "fast"'],
    ['burst fractional', 'hearth.yaml', 'rate_limit: {burst: 1.5}\n', 'rate_limit.burst: expected a whole number of at least 1, got number 1.5'],
    ['burst zero', 'hearth.yaml', 'rate_limit: {burst: 0}\n', 'rate_limit.burst: expected a whole number of at least 1, got number 0'],
    [
      'registrations_per_hour zero',
      'hearth.yaml',
      'rate_limit: {registrations_per_hour: 0}\n',
      'rate_limit.registrations_per_hour: expected a number greater than 0, got number 0',
    ],
    [
      'failed_logins_per_account fractional',
      'hearth.yaml',
      'rate_limit: {failed_logins_per_account: 2.5}\n',
      'rate_limit.failed_logins_per_account: expected a whole number of at least 1, got number 2.5',
    ],
    [
      'password_policy.minimum_length zero',
      'hearth.yaml',
      'password_policy: {minimum_length: 0}\n',
      'password_policy.minimum_length: expected a whole number of at least 1, got number 0',
    ],
    [
      'unknown password_policy key',
      'hearth.yaml',
      'password_policy: {min_length: 10}\n',
      "password_policy.min_length: unknown key; did you mean 'minimum_length'? known keys are minimum_length",
    ],
    [
      'refreshable_access_token_lifetime zero',
      'hearth.yaml',
      'refreshable_access_token_lifetime: 0\n',
      'refreshable_access_token_lifetime: expected a whole number of at least 1, got number 0',
    ],
    [
      'login_via_existing_session.enabled not a boolean',
      'hearth.yaml',
      'login_via_existing_session: {enabled: "yes"}\n',
      'login_via_existing_session.enabled: expected true or false, got "yes"',
    ],
    ['password_policy not a mapping', 'hearth.yaml', 'password_policy: 8\n', 'password_policy: expected a mapping with minimum_length, got number 8'],
    ['admin_contact not a URI', 'hearth.yaml', 'admin_contact: me at home\n', 'admin_contact: expected a mailto:, https:// or http:// URI, got "me at home"'],
    ['admin_contact ftp', 'hearth.yaml', 'admin_contact: ftp://x.org\n', 'admin_contact: expected a mailto:, https:// or http:// URI, got "ftp://x.org"'],
    [
      'support contact without a way to reach',
      'hearth.yaml',
      'support: {contacts: [{role: m.role.admin}]}\n',
      'support.contacts[0]: needs matrix_id or email_address',
    ],
    [
      'support contact with a bad role',
      'hearth.yaml',
      'support: {contacts: [{role: boss, email_address: a@b.org}]}\n',
      'support.contacts[0].role: expected m.role.admin, m.role.security or a namespaced role, got "boss"',
    ],
    [
      'well_known_server not a server name',
      'hearth.yaml',
      'well_known_server: "https://x.org"\n',
      `well_known_server: expected ${SERVER_NAME}, got "https://x.org"`,
    ],
    ['public_base_url ftp', 'hearth.yaml', 'public_base_url: ftp://x.org\n', `public_base_url: expected ${URL_}, got "ftp://x.org"`],
    ['public_base_url not a URL', 'hearth.yaml', 'public_base_url: matrix.example.org\n', `public_base_url: expected ${URL_}, got "matrix.example.org"`],
    ['public_base_url with credentials', 'hearth.yaml', 'public_base_url: https://u:p@x.org\n', `public_base_url: expected ${URL_}, got "https://u:p@x.org"`],
    ['public_base_url with a query', 'hearth.yaml', 'public_base_url: https://x.org/?a=1\n', `public_base_url: expected ${URL_}, got "https://x.org/?a=1"`],
    ['web_root missing', 'hearth.yaml', 'web_root: nowhere\n', 'web_root: <dir>/nowhere is not an existing folder'],
    [
      'data_dir inside the data dir',
      'hearth.yaml',
      'data_dir: /elsewhere\n',
      'data_dir: cannot be set in the config file inside the data dir; use --data-dir, or --config with a file elsewhere',
    ],
    [
      'token registration without tokens',
      'hearth.yaml',
      'registration: token\n',
      `registration_tokens: registration is 'token' but no tokens are configured; list them under registration_tokens in <dir>/hearth.yaml`,
    ],
    ['a list at the top level', 'hearth.yaml', '- a\n- b\n', '(top level): expected a mapping of keys to values, got a list (["a","b"])'],
    ['a YAML syntax error', 'hearth.yaml', 'server_name: [unclosed\n', 'invalid YAML: '],
    ['a duplicate YAML key', 'hearth.yaml', 'listen: "127.0.0.1:1"\nlisten: "127.0.0.1:2"\n', 'invalid YAML: Map keys must be unique at line 2, column 1'],
    ['a JSON syntax error', 'hearth.json', '{"server_name": }', 'invalid JSON: '],
    ['JSON with a bad value', 'hearth.json', '{"burst": 3}', `burst: unknown key; known keys are ${KNOWN}`],
  ];
  for (const [what, name, text, message] of cases) {
    test(`${what}: ${message.slice(0, 60)}`, () => {
      const dir = dataDir({ [name]: text });
      const file = path.join(dir, name);
      const error = configError(() => loadConfig({ dataDir: dir }, {}));
      const expected = `${file}: ${message.replaceAll('<dir>', dir)}`;
      if (message.endsWith(': ')) assert.ok(error.message.startsWith(expected), error.message);
      else assert.equal(error.message, expected);
      assert.equal(error.source, file);
      assert.equal(error.fromCommandLine, false);
    });
  }

  test('the error carries key, expected and actual for programs', () => {
    const dir = dataDir({ 'hearth.yaml': 'rate_limit: {burst: -3}\n' });
    const error = configError(() => loadConfig({ dataDir: dir }, {}));
    assert.equal(error.key, 'rate_limit.burst');
    assert.equal(error.expected, 'a whole number of at least 1');
    assert.equal(error.actual, -3);
  });

  test('two config files in the data dir are ambiguous', () => {
    const dir = dataDir({ 'hearth.yaml': '', 'hearth.json': '{}' });
    const error = configError(() => loadConfig({ dataDir: dir }, {}));
    assert.equal(error.message, `${dir}: found hearth.yaml and hearth.json; keep only one config file`);
  });

  test('a config file that cannot be read says why', () => {
    const dir = dataDir();
    fs.mkdirSync(path.join(dir, 'hearth.yaml'));
    const error = configError(() => loadConfig({ dataDir: dir }, {}));
    assert.match(error.message, /hearth\.yaml: cannot read: EISDIR/);
  });

  test('--config naming a missing file', () => {
    const error = configError(() => loadConfig({ config: 'missing.yaml' }, {}));
    assert.equal(error.message, '--config: expected an existing file, got "missing.yaml"');
    assert.equal(error.fromCommandLine, true);
  });

  test('--config with an extension that is not YAML or JSON', () => {
    const file = path.join(dataDir(), 'hearth.toml');
    fs.writeFileSync(file, 'server_name = "x"\n');
    assert.equal(configError(() => loadConfig({ config: file }, {})).message, `${file}: config files must end in .yaml, .yml or .json`);
  });

  test('--data-dir naming a file', () => {
    const file = path.join(dataDir(), 'a-file');
    fs.writeFileSync(file, '');
    assert.equal(configError(() => loadConfig({ dataDir: file }, {})).message, `--data-dir: ${file} exists and is not a folder`);
  });

  test('--web-root naming a missing folder', () => {
    const missing = path.join(scratch, 'no-such-web');
    assert.equal(configError(() => loadConfig({ dataDir: dataDir(), webRoot: missing }, {})).message, `--web-root: ${missing} is not an existing folder`);
  });

  const cli: Array<[string, Parameters<typeof loadConfig>[0], string]> = [
    ['--server-name', { serverName: 'bad name' }, `--server-name: expected ${SERVER_NAME}, got "bad name"`],
    ['--registration', { registration: 'maybe' }, `--registration: expected one of 'open', 'token', 'closed', got "maybe"`],
    ['--registration token without tokens', { registration: 'token' }, "registration is 'token' but no tokens"],
    ['--data-dir empty', { dataDir: '' }, '--data-dir: expected a folder path, got an empty string'],
  ];
  for (const [what, args, message] of cli) {
    test(`command line ${what}: ${message.slice(0, 50)}`, () => {
      const error = configError(() => loadConfig({ dataDir: dataDir(), ...args }, {}));
      assert.ok(error.message.includes(message), error.message);
      assert.equal(error.fromCommandLine, true);
    });
  }
});

describe('federation', () => {
  test('nothing about federation configured leaves it out (federation off)', () => {
    assert.equal(loadConfig({ dataDir: dataDir() }).federation, undefined);
  });

  test('command-line flags and the federation: section merge; lists add up, the flag wins for listen', () => {
    const dir = dataDir({
      'hearth.yaml':
        'federation:\n  listen: 0.0.0.0:8448\n  trust_self_signed: [a.lan]\n  deny: [bad.org]\n  key_notaries: [matrix.org]\n  private_peers: [nas.lan:8448]\n',
    });
    const config = loadConfig({ dataDir: dir, federationListen: '127.0.0.1:9101', trustSelfSigned: ['127.0.0.1:9102'], federationAllow: ['127.0.0.1:9102'] });
    assert.deepEqual(config.federation, {
      listen: { host: '127.0.0.1', port: 9101 },
      trustSelfSigned: ['a.lan', '127.0.0.1:9102'],
      allow: ['127.0.0.1:9102'],
      deny: ['bad.org'],
      keyNotaries: ['matrix.org'],
      privatePeers: ['nas.lan:8448'],
    });
  });

  test('bad federation values are refused with the option or key named', () => {
    assert.match(configError(() => loadConfig({ dataDir: dataDir(), federationListen: 'nope' })).message, /^--federation-listen: expected HOST:PORT/);
    assert.match(
      configError(() => loadConfig({ dataDir: dataDir(), trustSelfSigned: ['not a name'] })).message,
      /^--trust-self-signed: expected a server name/,
    );
    assert.match(configError(() => loadConfig({ dataDir: dataDir(), tlsCert: '/nonexistent.crt' })).message, /^--tls-key: is required with --tls-cert/);
    assert.match(
      configError(() => loadConfig({ dataDir: dataDir(), federationAllow: ['x.org'], federationDeny: ['x.org'] })).message,
      /x\.org is both allowed and denied/,
    );
    const file = configError(() => loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'federation:\n  tls_certs: a\n' }) }));
    assert.match(file.message, /federation\.tls_certs: unknown key; did you mean 'tls_cert'\?/);
    const peers = configError(() => loadConfig({ dataDir: dataDir({ 'hearth.yaml': 'federation:\n  private_peers: [not a name]\n' }) }));
    assert.match(peers.message, /federation\.private_peers.*: expected a server name/);
  });
});
