// The `federation:` section of the config file and the federation command-line options, merged
// and checked together: lists from both places add up, single values on the command line win.

import fs from 'node:fs';
import path from 'node:path';
import type { FederationConfig } from './types.ts';
import { COMMAND_LINE, ConfigError, type ConfigSource } from './config-error.ts';
import { parseListen } from './listen.ts';
import { expectKnownKeys, expectList, expectOneOf, expectServerName, expectString, isPlainObject } from './validate.ts';

const FEDERATION_KEYS = ['listen', 'tls_cert', 'tls_key', 'trust_self_signed', 'allow', 'deny', 'key_notaries', 'private_peers', 'policy', 'domains'] as const;

export type PartialFederation = Partial<FederationConfig> & { source?: ConfigSource };

/** Command-line options as parsed: strings and repeatable lists, unvalidated. */
export interface FederationArgs {
  federationListen?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustSelfSigned?: string[];
  federationAllow?: string[];
  federationDeny?: string[];
}

/** The file's `federation:` mapping. Relative certificate paths resolve against the file's folder. */
export function readFederationSection(raw: unknown, file: string): PartialFederation {
  if (!isPlainObject(raw)) throw new ConfigError({ source: file, key: 'federation', expected: 'a mapping (listen, tls_cert, ...)', actual: raw });
  expectKnownKeys(raw, FEDERATION_KEYS, file, 'federation.');
  const at = (key: string) => ({ source: file, key: `federation.${key}` });
  const base = path.dirname(file);
  const out: PartialFederation = { source: file };
  if (raw.listen !== undefined) out.listen = parseListen(raw.listen, file, 'federation.listen');
  if (raw.tls_cert !== undefined) out.tlsCert = path.resolve(base, expectString(raw.tls_cert, at('tls_cert'), 'a PEM file path'));
  if (raw.tls_key !== undefined) out.tlsKey = path.resolve(base, expectString(raw.tls_key, at('tls_key'), 'a PEM file path'));
  if (raw.trust_self_signed !== undefined) out.trustSelfSigned = expectList(raw.trust_self_signed, at('trust_self_signed'), expectServerName);
  if (raw.allow !== undefined) out.allow = expectList(raw.allow, at('allow'), expectServerName);
  if (raw.deny !== undefined) out.deny = expectList(raw.deny, at('deny'), expectServerName);
  if (raw.key_notaries !== undefined) out.keyNotaries = expectList(raw.key_notaries, at('key_notaries'), expectServerName);
  if (raw.private_peers !== undefined) out.privatePeers = expectList(raw.private_peers, at('private_peers'), expectServerName);
  if (raw.policy !== undefined) out.policy = expectOneOf(raw.policy, ['open', 'lan'] as const, at('policy'));
  if (raw.domains !== undefined) out.domains = expectList(raw.domains, at('domains'), expectServerName);
  return out;
}

export function federationFromCommandLine(args: FederationArgs): PartialFederation {
  const at = (key: string) => ({ source: COMMAND_LINE, key });
  const out: PartialFederation = { source: COMMAND_LINE };
  if (args.federationListen !== undefined) out.listen = parseListen(args.federationListen, COMMAND_LINE, '--federation-listen');
  if (args.tlsCert !== undefined) out.tlsCert = path.resolve(expectString(args.tlsCert, at('--tls-cert'), 'a PEM file path'));
  if (args.tlsKey !== undefined) out.tlsKey = path.resolve(expectString(args.tlsKey, at('--tls-key'), 'a PEM file path'));
  if (args.trustSelfSigned !== undefined) out.trustSelfSigned = args.trustSelfSigned.map((n) => expectServerName(n, at('--trust-self-signed')));
  if (args.federationAllow !== undefined) out.allow = args.federationAllow.map((n) => expectServerName(n, at('--federation-allow')));
  if (args.federationDeny !== undefined) out.deny = args.federationDeny.map((n) => expectServerName(n, at('--federation-deny')));
  return out;
}

/** Merges file and command line; undefined when neither said anything about federation. */
export function mergeFederation(file: PartialFederation | undefined, cli: PartialFederation): FederationConfig | undefined {
  const said = (f: PartialFederation | undefined) => f !== undefined && Object.keys(f).some((k) => k !== 'source');
  if (!said(file) && !said(cli)) return undefined;
  const union = (a: string[] = [], b: string[] = []) => [...new Set([...a, ...b])];
  const config: FederationConfig = {
    trustSelfSigned: union(file?.trustSelfSigned, cli.trustSelfSigned),
    allow: union(file?.allow, cli.allow),
    deny: union(file?.deny, cli.deny),
    keyNotaries: union(file?.keyNotaries, cli.keyNotaries),
    privatePeers: union(file?.privatePeers, cli.privatePeers),
  };
  const listen = cli.listen ?? file?.listen;
  if (listen !== undefined) config.listen = listen;
  if (file?.policy !== undefined) config.policy = file.policy;
  if (file?.domains !== undefined) config.domains = file.domains;

  // The certificate and its key come as a pair, from one place.
  const fromCli = cli.tlsCert !== undefined || cli.tlsKey !== undefined;
  const pair = fromCli ? cli : file;
  const source = (fromCli ? COMMAND_LINE : file?.source) ?? COMMAND_LINE;
  const certKey = source === COMMAND_LINE ? '--tls-cert' : 'federation.tls_cert';
  const keyKey = source === COMMAND_LINE ? '--tls-key' : 'federation.tls_key';
  if (pair?.tlsCert !== undefined || pair?.tlsKey !== undefined) {
    if (pair.tlsCert === undefined) throw new ConfigError({ source, key: certKey, problem: `is required with ${keyKey}` });
    if (pair.tlsKey === undefined) throw new ConfigError({ source, key: keyKey, problem: `is required with ${certKey}` });
    for (const [file, key] of [
      [pair.tlsCert, certKey],
      [pair.tlsKey, keyKey],
    ] as const) {
      if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new ConfigError({ source, key, problem: `${file} is not an existing file` });
    }
    config.tlsCert = pair.tlsCert;
    config.tlsKey = pair.tlsKey;
  }
  const both = config.allow.find((n) => config.deny.includes(n));
  if (both !== undefined) {
    throw new ConfigError({
      source,
      key: source === COMMAND_LINE ? '--federation-deny' : 'federation.deny',
      problem: `${both} is both allowed and denied; list it in one place`,
    });
  }
  return config;
}
