// The `hearth` command line. stdout carries only machine-readable lines (the `hearth ready` line,
// --help, --version); everything else goes to stderr.
//
// Exit codes: 0 success or clean shutdown, 1 startup/runtime failure or forced shutdown,
// 2 usage error (unknown command or option, bad option value).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type ConfigArgs } from '../config/load.ts';
import { formatListen } from '../config/listen.ts';
import type { HomeserverConfig } from '../config/types.ts';

export const USAGE = `Usage: hearth <command> [options]

Commands:
  serve                    Run the homeserver until SIGINT or SIGTERM
  reports [--limit N]      Print the newest content reports users filed (JSON lines)
  admin list               Print the server admins (JSON lines)
  admin grant|revoke USER  Let USER (a user id or localpart) use the admin API, or not

Options for serve (they override the config file):
  --data-dir DIR           Where the database, keys, media and hearth.yaml live
                           (default: the per-user app data folder + /hearth)
  --server-name NAME       The Matrix server name, the part after ':' in user ids
                           (default: localhost)
  --listen HOST:PORT       Client API address, [IPV6]:PORT for IPv6; port 0 picks a
                           free port (default: 127.0.0.1:8008)
  --registration MODE      open, token or closed (default: open)
  --config FILE            Read this config file instead of DATA_DIR/hearth.yaml
  --web-root DIR           Serve the built web client from DIR at /
                           (default: this checkout's dist/renderer, once built)
  --federation-listen HOST:PORT
                           Serve the Server-Server API over HTTPS here (default: off)
  --tls-cert FILE, --tls-key FILE
                           Federation certificate and key in PEM (default: a
                           self-signed pair made in the data dir)
  --trust-self-signed NAME Accept NAME's self-signed certificate, pinned on first
                           contact (repeatable)
  --federation-allow NAME  Federate only with the servers listed (repeatable)
  --federation-deny NAME   Never federate with NAME (repeatable)

The data dir and config options above also tell reports and admin where the
database is.

General options:
  -h, --help               Show this help
  -V, --version            Show the version

When ready, serve prints one line to stdout:
  hearth ready client=<client URL> server_name=<server name>
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  'data-dir': { type: 'string' },
  'server-name': { type: 'string' },
  listen: { type: 'string' },
  registration: { type: 'string' },
  config: { type: 'string' },
  'web-root': { type: 'string' },
  'federation-listen': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'trust-self-signed': { type: 'string', multiple: true },
  'federation-allow': { type: 'string', multiple: true },
  'federation-deny': { type: 'string', multiple: true },
  limit: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

const COMMANDS = ['serve', 'reports', 'admin'];

/** Positional arguments each command takes after its name, at most. */
const MAX_ARGUMENTS: Record<string, number> = { serve: 0, reports: 0, admin: 2 };

/** The checkout's root, from the sources (homeserver/cli/) or from their build (dist/homeserver/cli/). */
const CHECKOUT = new URL(import.meta.url.endsWith('.js') ? '../../../' : '../../', import.meta.url);

class UsageError extends Error {}

/** Runs the command line and resolves with the exit code; for `serve`, once a signal stopped it. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    if (parsed.values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (parsed.values.version) {
      process.stdout.write(`hearth ${readVersion()}\n`);
      return 0;
    }
    const [command, ...extra] = parsed.positionals;
    if (command === undefined) throw new UsageError('no command given');
    if (!COMMANDS.includes(command)) throw new UsageError(`unknown command '${command}'`);
    if (extra.length > MAX_ARGUMENTS[command]!) throw new UsageError(`unexpected argument '${extra[MAX_ARGUMENTS[command]!]}'`);
    if (command === 'admin' && extra.length === 0) throw new UsageError('admin needs an action: list, grant or revoke');
    if (parsed.values.limit !== undefined && !/^[1-9][0-9]{0,5}$/.test(parsed.values.limit))
      throw new UsageError('--limit must be a whole number from 1 to 999999');
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      process.stderr.write(`hearth: ${usageMessage(error as Error)}\nRun 'hearth --help' for usage.\n`);
      return 2;
    }
    throw error;
  }

  const v = parsed.values;
  const args: ConfigArgs = {};
  if (v['data-dir'] !== undefined) args.dataDir = v['data-dir'];
  if (v['server-name'] !== undefined) args.serverName = v['server-name'];
  if (v.listen !== undefined) args.listen = v.listen;
  if (v.registration !== undefined) args.registration = v.registration;
  if (v.config !== undefined) args.config = v.config;
  if (v['web-root'] !== undefined) args.webRoot = v['web-root'];
  if (v['federation-listen'] !== undefined) args.federationListen = v['federation-listen'];
  if (v['tls-cert'] !== undefined) args.tlsCert = v['tls-cert'];
  if (v['tls-key'] !== undefined) args.tlsKey = v['tls-key'];
  if (v['trust-self-signed'] !== undefined) args.trustSelfSigned = v['trust-self-signed'];
  if (v['federation-allow'] !== undefined) args.federationAllow = v['federation-allow'];
  if (v['federation-deny'] !== undefined) args.federationDeny = v['federation-deny'];
  const [command, action, target] = parsed.positionals;
  if (command === 'reports' || command === 'admin') return runAdminCommand(args, command, action, target, Number(v.limit ?? 50));
  return serve(args);
}

function writeLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Loads the config as serve would, then runs `reports` or `admin ACTION [USER]` on its database. */
async function runAdminCommand(
  args: ConfigArgs,
  command: 'reports' | 'admin',
  action: string | undefined,
  target: string | undefined,
  limit: number,
): Promise<number> {
  let config: HomeserverConfig;
  try {
    config = loadConfig(args, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hearth: ${error.message}\n`);
      return error.fromCommandLine ? 2 : 1;
    }
    throw error;
  }
  // Imported here, as serve imports the homeserver: --help and config errors need no SQLite.
  const { AdminCommandError, adminCommand, printReports } = await import('./admin-commands.ts');
  try {
    if (command === 'reports') await printReports(config, limit, writeLine);
    else await adminCommand(config, action!, target, writeLine);
    return 0;
  } catch (error) {
    if (error instanceof AdminCommandError) {
      process.stderr.write(`hearth: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

async function serve(args: ConfigArgs): Promise<number> {
  let config: HomeserverConfig;
  try {
    config = loadConfig(args, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hearth: ${error.message}\n`);
      return error.fromCommandLine ? 2 : 1;
    }
    throw error;
  }

  // Without --web-root or web_root, serve the web client this checkout built (npm run build:renderer).
  if (config.webRoot === undefined) {
    const built = fileURLToPath(new URL('dist/renderer', CHECKOUT));
    if (fs.existsSync(path.join(built, 'index.html'))) config.webRoot = built;
  }

  // Imported here, not at the top, so that --help and config errors need neither SQLite nor Koa.
  const { createHomeserver } = await import('../index.ts');
  const { createLogger } = await import('../log/logger.ts');
  const logger = createLogger();
  // A closed stdout or stderr (the reader went away) must not end the process: without a
  // listener, the stream's EPIPE 'error' event is an uncaught exception (issue #13). The log
  // itself writes through a destination that never throws (log/logger.ts).
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  // Whatever a library prints goes to the log (stderr), never between us and the machine reading stdout.
  console.log = (...args: unknown[]) => logger.info(format(...args));
  console.info = console.log;
  console.debug = (...args: unknown[]) => logger.debug(format(...args));
  console.warn = (...args: unknown[]) => logger.warn(format(...args));
  console.error = console.warn;

  let homeserver: ReturnType<typeof createHomeserver>;
  try {
    homeserver = createHomeserver(config, { logger });
  } catch (error) {
    process.stderr.write(`hearth: could not start: ${describeStartError(error, config)}\n`);
    return 1;
  }

  // Resolves with the exit code once a signal has stopped the homeserver.
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  let startup: ReturnType<typeof homeserver.start> | undefined;
  let stopping: Promise<void> | undefined;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping !== undefined) {
      logger.warn(`${signal} again, exiting without waiting`);
      process.exit(1);
    }
    logger.info(`${signal}, stopping`);
    stopping = (async () => {
      // A signal during start-up: let start() settle first, then stop what it opened.
      await startup?.catch(() => {});
      await homeserver.stop();
    })();
    stopping.then(
      () => exit(0),
      (error: unknown) => {
        logger.error('error while stopping', error);
        exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    startup = homeserver.start();
    const { clientUrl } = await startup;
    if (stopping === undefined) {
      process.stdout.write(`hearth ready client=${clientUrl} server_name=${config.serverName}\n`);
    }
  } catch (error) {
    if (stopping !== undefined) return exited;
    process.stderr.write(`hearth: could not start: ${describeStartError(error, config)}\n`);
    await homeserver.stop().catch(() => {});
    return 1;
  }
  return exited;
}

function describeStartError(error: unknown, config: HomeserverConfig): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const address = formatListen(config.listen);
  if (code === 'EADDRINUSE') return `${address} is already in use (is another hearth or server running?)`;
  if (code === 'EACCES') return `not allowed to listen on ${address} (ports below 1024 need privileges)`;
  if (code === 'EADDRNOTAVAIL') return `${config.listen.host} is not an address of this machine`;
  if (error instanceof Error) return code === undefined ? (error.stack ?? error.message) : error.message;
  return String(error);
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

// parseArgs' own message for an unknown option explains positionals at length; keep it short.
function usageMessage(error: Error): string {
  const unknown = /^Unknown option '([^']+)'/.exec(error.message);
  return unknown ? `unknown option '${unknown[1]}'` : error.message;
}

function readVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('package.json', CHECKOUT), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
