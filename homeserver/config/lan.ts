// The `lan:` section of the config file (issue #15) and the server name it implies: a desktop that
// shares on the LAN is named after its signing key (protocol/lan-identity.ts), because discovery
// can only announce, and peers only accept, a name bound to the key that signs the announcement.
import type { HomeserverConfig, LanConfig } from './types.ts';
import { ConfigError, type ConfigSource } from './config-error.ts';
import { expectBoolean, expectKnownKeys, isPlainObject } from './validate.ts';
import { loadOrCreateSigningKey } from './signing-key-file.ts';
import { lanServerName } from '../protocol/lan-identity.ts';

const LAN_KEYS = ['sharing', 'announce_label'] as const;

export function readLanSection(raw: unknown, file: string): LanConfig {
  if (raw === null) return { sharing: false, announceLabel: false };
  if (!isPlainObject(raw)) throw new ConfigError({ source: file, key: 'lan', expected: 'a mapping (sharing, announce_label)', actual: raw });
  expectKnownKeys(raw, LAN_KEYS, file, 'lan.');
  return {
    sharing: raw.sharing === undefined ? false : expectBoolean(raw.sharing, { source: file, key: 'lan.sharing' }),
    announceLabel: raw.announce_label === undefined ? false : expectBoolean(raw.announce_label, { source: file, key: 'lan.announce_label' }),
  };
}

/** The server name bound to the data dir's signing key (created if missing). */
export function keyBoundServerName(dataDir: string): string {
  return lanServerName(loadOrCreateSigningKey(dataDir).publicKey);
}

/**
 * Checks a config with `lan` set: federation must listen (peers reach us there), and the server
 * name must be the key-bound one. `explicitName` is the configured name, if any; without one the
 * key-bound name is returned for the caller to use.
 */
export function checkLan(config: HomeserverConfig, explicitName: string | undefined, source: ConfigSource): string {
  if (config.federation?.listen === undefined) {
    throw new ConfigError({ source, key: 'lan', problem: 'needs federation.listen: LAN peers reach this server through its federation listener' });
  }
  const bound = keyBoundServerName(config.dataDir);
  if (explicitName !== undefined && explicitName.toLowerCase() !== bound) {
    throw new ConfigError({
      source,
      key: 'server_name',
      problem: `with lan set, the server name must be the one bound to the signing key in ${config.dataDir} (${bound}); remove server_name to use it`,
    });
  }
  return bound;
}
