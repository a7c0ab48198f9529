// Builds the HomeserverConfig from defaults, the optional config file and command-line options,
// in that order of increasing precedence. The only module that reads process.env.

import fs from 'node:fs';
import path from 'node:path';
import type { HomeserverConfig } from './types.ts';
import { COMMAND_LINE, ConfigError } from './config-error.ts';
import { findConfigFile, readConfigFile, REGISTRATION_MODES, type FileConfig } from './config-file.ts';
import { defaultDataDir } from './data-dir.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_PASSWORD_MINIMUM_LENGTH, DEFAULT_RATE_LIMITS } from './types.ts';
import { parseListen } from './listen.ts';
import { federationFromCommandLine, mergeFederation, type FederationArgs } from './federation.ts';
import { checkLan } from './lan.ts';
import { expectOneOf, expectServerName, expectString } from './validate.ts';

export { ConfigError } from './config-error.ts';
export { defaultDataDir } from './data-dir.ts';
export { parseListen, formatListen } from './listen.ts';
export { CONFIG_FILE_NAMES } from './config-file.ts';

/** Command-line options as parsed (strings, unvalidated). All optional. */
export interface ConfigArgs extends FederationArgs {
  dataDir?: string;
  serverName?: string;
  listen?: string;
  registration?: string;
  /** An explicit config file; when given, the data dir's own file is not read. */
  config?: string;
  webRoot?: string;
}

export const DEFAULTS = {
  serverName: 'localhost',
  listen: { host: '127.0.0.1', port: 8008 },
  registration: 'open',
  // Per client: generous enough for a client's start-up burst and for tests that register and
  // message in tight loops, still a brake on a runaway client on the LAN.
  rateLimit: { perSecond: 50, burst: 300, ...DEFAULT_RATE_LIMITS },
  passwordPolicy: { minimumLength: DEFAULT_PASSWORD_MINIMUM_LENGTH },
  maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
} as const satisfies Partial<HomeserverConfig>;

export function loadConfig(args: ConfigArgs, env: NodeJS.ProcessEnv = process.env): HomeserverConfig {
  const cli = fromCommandLine(args);

  // An explicit --config may name the data dir; the data dir's own file cannot.
  let file: FileConfig = {};
  let fileName: string | undefined;
  if (args.config !== undefined) {
    fileName = path.resolve(expectString(args.config, { source: COMMAND_LINE, key: '--config' }, 'a file path'));
    if (!fs.existsSync(fileName)) {
      throw new ConfigError({ source: COMMAND_LINE, key: '--config', expected: 'an existing file', actual: args.config });
    }
    file = readConfigFile(fileName, false);
  }

  const dataDir = cli.dataDir ?? file.dataDir ?? defaultDataDir(env);
  if (cli.dataDir !== undefined) checkDataDir(dataDir, COMMAND_LINE, '--data-dir');
  else if (file.dataDir !== undefined) checkDataDir(dataDir, fileName!, 'data_dir');
  else checkDataDir(dataDir, 'the default data dir', undefined);

  if (fileName === undefined) {
    fileName = findConfigFile(dataDir);
    if (fileName !== undefined) file = readConfigFile(fileName, true);
  }

  const config: HomeserverConfig = {
    dataDir,
    serverName: cli.serverName ?? file.serverName ?? DEFAULTS.serverName,
    listen: cli.listen ?? file.listen ?? { ...DEFAULTS.listen },
    registration: cli.registration ?? file.registration ?? DEFAULTS.registration,
    registrationTokens: file.registrationTokens ?? [],
    allowedHosts: file.allowedHosts ?? [],
    rateLimit: {
      perSecond: file.rateLimit?.perSecond ?? DEFAULTS.rateLimit.perSecond,
      burst: file.rateLimit?.burst ?? DEFAULTS.rateLimit.burst,
      registrationBurst: file.rateLimit?.registrationBurst ?? DEFAULTS.rateLimit.registrationBurst,
      registrationsPerHour: file.rateLimit?.registrationsPerHour ?? DEFAULTS.rateLimit.registrationsPerHour,
      failedLoginsPerAccount: file.rateLimit?.failedLoginsPerAccount ?? DEFAULTS.rateLimit.failedLoginsPerAccount,
      failedLoginsPerAddress: file.rateLimit?.failedLoginsPerAddress ?? DEFAULTS.rateLimit.failedLoginsPerAddress,
    },
    passwordPolicy: { minimumLength: file.passwordPolicy?.minimumLength ?? DEFAULTS.passwordPolicy.minimumLength },
    maxUploadBytes: file.maxUploadBytes ?? DEFAULTS.maxUploadBytes,
  };
  const webRoot = cli.webRoot ?? file.webRoot;
  if (webRoot !== undefined) config.webRoot = webRoot;
  if (file.publicBaseUrl !== undefined) config.publicBaseUrl = file.publicBaseUrl;
  if (file.adminContact !== undefined) config.adminContact = file.adminContact;
  if (file.pusherPrivateGateways !== undefined) config.pusherPrivateGateways = file.pusherPrivateGateways;
  if (file.support !== undefined) config.support = file.support;
  if (file.wellKnownServer !== undefined) config.wellKnownServer = file.wellKnownServer;
  if (file.turn !== undefined) config.turn = file.turn;
  if (file.remoteMediaCacheBytes !== undefined) config.remoteMediaCacheBytes = file.remoteMediaCacheBytes;
  if (file.refreshableAccessTokenLifetimeMs !== undefined) config.refreshableAccessTokenLifetimeMs = file.refreshableAccessTokenLifetimeMs;
  if (file.loginViaExistingSession !== undefined) config.loginViaExistingSession = file.loginViaExistingSession;
  if (file.defaultRoomVersion !== undefined) config.defaultRoomVersion = file.defaultRoomVersion;
  const federation = mergeFederation(file.federation, federationFromCommandLine(args));
  if (federation !== undefined) config.federation = federation;
  if (file.lan !== undefined) {
    config.lan = file.lan;
    const explicitName = cli.serverName ?? file.serverName;
    config.serverName = checkLan(config, explicitName, cli.serverName !== undefined ? COMMAND_LINE : fileName!);
  }

  if (config.registration === 'token' && config.registrationTokens.length === 0) {
    throw new ConfigError({
      source: fileName ?? COMMAND_LINE,
      key: 'registration_tokens',
      problem: `registration is 'token' but no tokens are configured; list them under registration_tokens in ${fileName ?? path.join(dataDir, 'hearth.yaml')}`,
    });
  }
  if (webRoot !== undefined) {
    if (cli.webRoot !== undefined) checkDirectory(webRoot, COMMAND_LINE, '--web-root');
    else checkDirectory(webRoot, fileName!, 'web_root');
  }
  return config;
}

function fromCommandLine(args: ConfigArgs): FileConfig {
  const at = (key: string) => ({ source: COMMAND_LINE, key });
  const config: FileConfig = {};
  if (args.dataDir !== undefined) {
    config.dataDir = path.resolve(expectString(args.dataDir, at('--data-dir'), 'a folder path'));
  }
  if (args.serverName !== undefined) config.serverName = expectServerName(args.serverName, at('--server-name'));
  if (args.listen !== undefined) config.listen = parseListen(args.listen, COMMAND_LINE, '--listen');
  if (args.registration !== undefined) {
    config.registration = expectOneOf(args.registration, REGISTRATION_MODES, at('--registration'));
  }
  if (args.webRoot !== undefined) {
    config.webRoot = path.resolve(expectString(args.webRoot, at('--web-root'), 'a folder path'));
  }
  return config;
}

/** The data dir may not exist yet (the homeserver creates it), but if it exists it must be a folder. */
function checkDataDir(dataDir: string, source: string, key: string | undefined): void {
  const stat = fs.statSync(dataDir, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isDirectory()) {
    throw new ConfigError({ source, key, problem: `${dataDir} exists and is not a folder` });
  }
}

function checkDirectory(dir: string, source: string, key: string): void {
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined || !stat.isDirectory()) {
    throw new ConfigError({ source, key, problem: `${dir} is not an existing folder` });
  }
}
