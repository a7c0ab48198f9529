// The federation component: its HTTPS listener and what other components may call — the
// outbound `client`, `remoteKeys`, and `federationRouter` for more authenticated route groups.
import https from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Router from '@koa/router';
import type Koa from 'koa';
import type { FederationConfig } from '../config/types.ts';
import type { Database } from '../storage/database.ts';
import type { SigningKey } from '../protocol/signing-key.ts';
import type { Logger } from '../http/errors.ts';
import { FederationClient } from './client.ts';
import { RemoteKeys } from './remote-keys.ts';
import { ServerAcl } from './server-acl.ts';
import { AddressPolicy } from './address-policy.ts';
import { createFederationApp, type FederationRouteGroup } from './app.ts';
import { loadTlsPair } from './tls.ts';
import { closeGracefully } from '../http/graceful-close.ts';
import type { ServerResolver } from './discovery.ts';
import type { OpenIdOwner } from './routes/openid.ts';
import type { LanDirectory } from '../discovery/lan-directory.ts';

export interface FederationDeps {
  config: FederationConfig;
  serverName: string;
  dataDir: string;
  db: Database;
  signingKey: SigningKey;
  version: string;
  log: Logger;
  groups?: FederationRouteGroup[];
  /** Who an OpenID token belongs to, for the open /openid/userinfo route. */
  openIdOwner?: OpenIdOwner;
  /** Discovery override (tests with fake DNS); the system's by default. */
  resolver?: ServerResolver;
  /**
   * Where LAN discovery (homeserver/discovery/) says key-bound desktops are now. LAN names are
   * resolved only through it; without it, no LAN name is ever contacted.
   */
  lan?: LanDirectory;
}

export interface Federation {
  readonly client: FederationClient;
  readonly remoteKeys: RemoteKeys;
  readonly acl: ServerAcl;
  /** Where outbound federation may connect (LAN names: only where `deps.lan` says they are now). */
  readonly policy: AddressPolicy;
  readonly federationRouter: Router;
  /** The listener's Koa app: its open routes (keys, version) and then `federationRouter`. */
  readonly app: Koa;
  /** Starts the HTTPS listener if `config.listen` is set; resolves with its URL. */
  start(): Promise<{ federationUrl: string | undefined }>;
  /** Stops accepting, lets in-flight requests finish (10 s at most), closes outbound connections. */
  stop(): Promise<void>;
  /**
   * LAN discovery saw `serverName` come (back): forget its failures and call `onPeerAppeared`, so
   * what waits for it is sent now rather than at the end of its backoff.
   */
  peerAppeared(serverName: string): void;
  /**
   * Set by whoever owns the outbound queue (homeserver/index.ts: the sender's `wake`), which is
   * created after federation; called by `peerAppeared`.
   */
  onPeerAppeared: ((serverName: string) => void) | undefined;
  /** Replaces the configured domains of policy 'lan' (the user edits them at run time). */
  setDomains(names: readonly string[]): void;
  /**
   * Opens the HTTPS listener (`config.listen`, required) if it is closed; the port bound first is
   * kept for later openings, so that a port 0 stays the same while the server runs. LAN sharing
   * (issue #15) opens and closes it at run time; outbound federation works either way.
   */
  listen(): Promise<{ federationUrl: string; port: number; tlsCert: string }>;
  /** Closes the HTTPS listener only (in-flight requests finish); outbound federation keeps working. */
  unlisten(): Promise<void>;
}

export function createFederation(deps: FederationDeps): Federation {
  const acl = new ServerAcl(deps.config.allow, deps.config.deny, {
    policy: deps.config.policy ?? 'open',
    domains: deps.config.domains ?? [],
    ...(deps.lan ? { lan: deps.lan } : {}),
  });
  // The names the user configured may be reached at private addresses: they vouched for them.
  const policy = new AddressPolicy([...deps.config.trustSelfSigned, ...deps.config.allow, ...(deps.config.privatePeers ?? [])], deps.lan);
  const client = new FederationClient({
    policy,
    serverName: deps.serverName,
    signingKey: deps.signingKey,
    db: deps.db,
    acl,
    trustSelfSigned: deps.config.trustSelfSigned,
    ...(deps.resolver ? { resolver: deps.resolver } : {}),
    ...(deps.lan ? { lan: deps.lan } : {}),
  });
  const remoteKeys = new RemoteKeys({
    db: deps.db,
    serverName: deps.serverName,
    signingKey: deps.signingKey,
    client,
    notaries: deps.config.keyNotaries,
    log: deps.log,
  });
  const { app, federationRouter } = createFederationApp(
    {
      serverName: deps.serverName,
      signingKey: deps.signingKey,
      remoteKeys,
      acl,
      version: deps.version,
      log: deps.log,
      ...(deps.openIdOwner ? { openIdOwner: deps.openIdOwner } : {}),
    },
    deps.groups,
  );
  let server: https.Server | undefined;
  /** The port the listener got the first time (config port 0 means "any"), reused when reopened. */
  let boundPort: number | undefined;
  let opening: Promise<void> | undefined;
  const inFlight = new Map<ServerResponse, Promise<void>>();

  const federation: Federation = {
    app,
    client,
    remoteKeys,
    acl,
    policy,
    federationRouter,
    onPeerAppeared: undefined,

    peerAppeared(serverName) {
      client.markAlive(serverName);
      federation.onPeerAppeared?.(serverName);
    },

    setDomains(names) {
      acl.setDomains(names);
    },

    async start() {
      if (deps.config.listen === undefined) return { federationUrl: undefined };
      return { federationUrl: (await this.listen()).federationUrl };
    },

    async listen() {
      const configured = deps.config.listen;
      if (configured === undefined) throw new Error('federation.listen is not configured');
      const tls = await loadTlsPair({
        dataDir: deps.dataDir,
        serverName: deps.serverName,
        listenHost: configured.host,
        certFile: deps.config.tlsCert,
        keyFile: deps.config.tlsKey,
      });
      // Two callers at once (the switch, an announcement) share one opening, never two servers.
      opening ??= (async () => {
        if (server !== undefined) return;
        const handle = app.callback();
        const created = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
          inFlight.set(
            res,
            Promise.resolve(handle(req, res)).finally(() => inFlight.delete(res)),
          );
        });
        created.keepAliveTimeout = 65_000;
        await new Promise<void>((resolve, reject) => {
          created.once('error', reject);
          created.listen(boundPort ?? configured.port, configured.host, () => resolve());
        });
        server = created;
      })().finally(() => (opening = undefined));
      await opening;
      if (server === undefined) throw new Error('the federation listener was closed while opening');
      const addr = server.address() as AddressInfo;
      boundPort = addr.port;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return { federationUrl: `https://${host}:${addr.port}`, port: addr.port, tlsCert: tls.cert };
    },

    async unlisten() {
      const open = server;
      server = undefined;
      await closeGracefully(open, inFlight);
    },

    async stop() {
      client.close();
      await this.unlisten();
    },
  };
  return federation;
}
