// Finds, reads and validates the optional config file (hearth.yaml, hearth.yml or hearth.json).
// Keys are snake_case like Synapse's; unknown keys are errors so that typos do not pass silently.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { HomeserverConfig } from './types.ts';
import { ConfigError } from './config-error.ts';
import { parseListen } from './listen.ts';
import { readFederationSection, type PartialFederation } from './federation.ts';
import { readSupportSection } from './support.ts';
import { readLanSection } from './lan.ts';
import {
  expectBaseUrl,
  expectBoolean,
  expectContactUri,
  expectHost,
  expectKnownKeys,
  expectList,
  expectOneOf,
  expectPositiveInteger,
  expectPositiveNumber,
  expectRegistrationToken,
  expectRoomVersion,
  expectServerName,
  expectString,
  isPlainObject,
} from './validate.ts';

export const CONFIG_FILE_NAMES = ['hearth.yaml', 'hearth.yml', 'hearth.json'] as const;

export const REGISTRATION_MODES = ['open', 'token', 'closed'] as const;

const FILE_KEYS = [
  'server_name',
  'listen',
  'registration',
  'registration_tokens',
  'allowed_hosts',
  'rate_limit',
  'public_base_url',
  'admin_contact',
  'support',
  'well_known_server',
  'web_root',
  'data_dir',
  'max_upload_size',
  'remote_media_cache_size',
  'turn',
  'federation',
  'password_policy',
  'pusher_private_gateways',
  'refreshable_access_token_lifetime',
  'login_via_existing_session',
  'default_room_version',
  'lan',
] as const;

const TURN_KEYS = ['uris', 'shared_secret', 'user_lifetime'] as const;

const RATE_LIMIT_KEYS = [
  'per_second',
  'burst',
  'registration_burst',
  'registrations_per_hour',
  'failed_logins_per_account',
  'failed_logins_per_address',
] as const;

const PASSWORD_POLICY_KEYS = ['minimum_length'] as const;

const LOGIN_VIA_EXISTING_SESSION_KEYS = ['enabled'] as const;

/** What a config file may set. `dataDir` only when the file was named with --config. */
export type FileConfig = Partial<Omit<HomeserverConfig, 'rateLimit' | 'federation'>> & {
  rateLimit?: Partial<HomeserverConfig['rateLimit']>;
  federation?: PartialFederation;
};

/** The config file inside `dataDir`, if any. More than one is ambiguous and an error. */
export function findConfigFile(dataDir: string): string | undefined {
  const present = CONFIG_FILE_NAMES.map((name) => path.join(dataDir, name)).filter((file) => fs.existsSync(file));
  if (present.length > 1) {
    throw new ConfigError({
      source: dataDir,
      problem: `found ${present.map((f) => path.basename(f)).join(' and ')}; keep only one config file`,
    });
  }
  return present[0];
}

/**
 * Reads and validates a config file. Relative paths inside it resolve against its folder.
 * `insideDataDir` is true for the file found in the data dir, where `data_dir` would be circular.
 */
export function readConfigFile(file: string, insideDataDir: boolean): FileConfig {
  const raw = parseFile(file);
  if (raw === null || raw === undefined) return {};
  if (!isPlainObject(raw)) {
    throw new ConfigError({ source: file, key: '(top level)', expected: 'a mapping of keys to values', actual: raw });
  }
  expectKnownKeys(raw, FILE_KEYS, file);
  const at = (key: string) => ({ source: file, key });
  const base = path.dirname(file);
  const config: FileConfig = {};

  if (raw.data_dir !== undefined) {
    if (insideDataDir) {
      throw new ConfigError({
        source: file,
        key: 'data_dir',
        problem: 'cannot be set in the config file inside the data dir; use --data-dir, or --config with a file elsewhere',
      });
    }
    config.dataDir = path.resolve(base, expectString(raw.data_dir, at('data_dir'), 'a folder path'));
  }
  if (raw.server_name !== undefined) config.serverName = expectServerName(raw.server_name, at('server_name'));
  if (raw.listen !== undefined) config.listen = parseListen(raw.listen, file, 'listen');
  if (raw.registration !== undefined) {
    config.registration = expectOneOf(raw.registration, REGISTRATION_MODES, at('registration'));
  }
  if (raw.registration_tokens !== undefined) {
    const tokens = expectList(raw.registration_tokens, at('registration_tokens'), expectRegistrationToken);
    config.registrationTokens = [...new Set(tokens)];
  }
  if (raw.allowed_hosts !== undefined) {
    config.allowedHosts = [...new Set(expectList(raw.allowed_hosts, at('allowed_hosts'), expectHost))];
  }
  if (raw.pusher_private_gateways !== undefined) {
    config.pusherPrivateGateways = [...new Set(expectList(raw.pusher_private_gateways, at('pusher_private_gateways'), expectHost))];
  }
  if (raw.rate_limit !== undefined) {
    const limit = raw.rate_limit;
    if (!isPlainObject(limit)) {
      throw new ConfigError({ ...at('rate_limit'), expected: 'a mapping with per_second and burst', actual: limit });
    }
    expectKnownKeys(limit, RATE_LIMIT_KEYS, file, 'rate_limit.');
    config.rateLimit = {};
    if (limit.per_second !== undefined) {
      config.rateLimit.perSecond = expectPositiveNumber(limit.per_second, at('rate_limit.per_second'));
    }
    if (limit.burst !== undefined) {
      config.rateLimit.burst = expectPositiveInteger(limit.burst, at('rate_limit.burst'));
    }
    if (limit.registration_burst !== undefined) {
      config.rateLimit.registrationBurst = expectPositiveInteger(limit.registration_burst, at('rate_limit.registration_burst'));
    }
    if (limit.registrations_per_hour !== undefined) {
      config.rateLimit.registrationsPerHour = expectPositiveNumber(limit.registrations_per_hour, at('rate_limit.registrations_per_hour'));
    }
    if (limit.failed_logins_per_account !== undefined) {
      config.rateLimit.failedLoginsPerAccount = expectPositiveInteger(limit.failed_logins_per_account, at('rate_limit.failed_logins_per_account'));
    }
    if (limit.failed_logins_per_address !== undefined) {
      config.rateLimit.failedLoginsPerAddress = expectPositiveInteger(limit.failed_logins_per_address, at('rate_limit.failed_logins_per_address'));
    }
  }
  if (raw.password_policy !== undefined) {
    const policy = raw.password_policy;
    if (!isPlainObject(policy)) {
      throw new ConfigError({ ...at('password_policy'), expected: 'a mapping with minimum_length', actual: policy });
    }
    expectKnownKeys(policy, PASSWORD_POLICY_KEYS, file, 'password_policy.');
    if (policy.minimum_length !== undefined) {
      config.passwordPolicy = { minimumLength: expectPositiveInteger(policy.minimum_length, at('password_policy.minimum_length')) };
    }
  }
  if (raw.refreshable_access_token_lifetime !== undefined) {
    // Seconds, like turn.user_lifetime.
    config.refreshableAccessTokenLifetimeMs = expectPositiveInteger(raw.refreshable_access_token_lifetime, at('refreshable_access_token_lifetime')) * 1000;
  }
  if (raw.login_via_existing_session !== undefined) {
    const section = raw.login_via_existing_session;
    if (!isPlainObject(section)) throw new ConfigError({ ...at('login_via_existing_session'), expected: 'a mapping with enabled', actual: section });
    expectKnownKeys(section, LOGIN_VIA_EXISTING_SESSION_KEYS, file, 'login_via_existing_session.');
    if (section.enabled !== undefined) config.loginViaExistingSession = expectBoolean(section.enabled, at('login_via_existing_session.enabled'));
  }
  if (raw.public_base_url !== undefined) {
    config.publicBaseUrl = expectBaseUrl(raw.public_base_url, at('public_base_url'));
  }
  if (raw.admin_contact !== undefined) config.adminContact = expectContactUri(raw.admin_contact, at('admin_contact'));
  if (raw.support !== undefined && raw.support !== null) config.support = readSupportSection(raw.support, file);
  if (raw.well_known_server !== undefined) config.wellKnownServer = expectServerName(raw.well_known_server, at('well_known_server'));
  if (raw.web_root !== undefined) {
    config.webRoot = path.resolve(base, expectString(raw.web_root, at('web_root'), 'a folder path'));
  }
  if (raw.max_upload_size !== undefined) config.maxUploadBytes = expectByteSize(raw.max_upload_size, at('max_upload_size'));
  if (raw.remote_media_cache_size !== undefined) config.remoteMediaCacheBytes = expectByteSize(raw.remote_media_cache_size, at('remote_media_cache_size'));
  if (raw.default_room_version !== undefined) config.defaultRoomVersion = expectRoomVersion(raw.default_room_version, at('default_room_version'));
  if (raw.turn !== undefined) {
    const turn = raw.turn;
    if (!isPlainObject(turn)) throw new ConfigError({ ...at('turn'), expected: 'a mapping with uris and shared_secret', actual: turn });
    expectKnownKeys(turn, TURN_KEYS, file, 'turn.');
    const uris = expectList(turn.uris, at('turn.uris'), (u, where) => {
      const s = expectString(u, where, 'a turn: or turns: URI');
      if (!/^turns?:/.test(s)) throw new ConfigError({ ...where, expected: 'a turn: or turns: URI', actual: u });
      return s;
    });
    const sharedSecret = expectString(turn.shared_secret, at('turn.shared_secret'), "the TURN server's shared secret");
    const lifetimeS = turn.user_lifetime === undefined ? 86_400 : expectPositiveInteger(turn.user_lifetime, at('turn.user_lifetime'));
    config.turn = { uris, sharedSecret, userLifetimeMs: lifetimeS * 1000 };
  }
  if (raw.federation !== undefined && raw.federation !== null) config.federation = readFederationSection(raw.federation, file);
  if (raw.lan !== undefined) config.lan = readLanSection(raw.lan, file);
  return config;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A byte count: a whole number, or a string like "50M", "512K", "1G" (also "50MiB"; powers of 1024, as Synapse reads them). */
function expectByteSize(value: unknown, where: { source: string; key: string }): number {
  const expected = 'a size in bytes, or a string like "50M" (K, M or G)';
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(value);
    if (m) {
      const bytes = Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
      if (bytes >= 1 && Number.isSafeInteger(bytes)) return bytes;
    }
  }
  throw new ConfigError({ ...where, expected, actual: value });
}

/** The YAML parser, loaded only when a YAML file is read (~35 ms of every start otherwise). */
function loadYaml(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}

function parseFile(file: string): unknown {
  const extension = path.extname(file).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(extension)) {
    throw new ConfigError({ source: file, problem: 'config files must end in .yaml, .yml or .json' });
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError({ source: file, problem: `cannot read: ${(error as Error).message}` });
  }
  try {
    // YAML 1.2 core schema: `no` stays a string, duplicate keys are an error.
    return extension === '.json' ? JSON.parse(text) : loadYaml().parse(text, { uniqueKeys: true });
  } catch (error) {
    const kind = extension === '.json' ? 'JSON' : 'YAML';
    // The yaml package follows its first line with an excerpt of the source; the line is enough.
    const firstLine = String((error as Error).message)
      .split('\n')[0]!
      .replace(/:$/, '');
    throw new ConfigError({ source: file, problem: `invalid ${kind}: ${firstLine}` });
  }
}
