// The homeserver library's whole public surface: createHomeserver(config) -> start()/stop().
import { readFileSync } from 'node:fs';
import type { Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { HomeserverConfig } from './config/types.ts';
import { Database } from './storage/database.ts';
import { preparePrivateDbFile, preparePrivateDir } from './storage/private-files.ts';
import { RoomService } from './rooms/room-service.ts';
import { PushRules } from './push/push-rules.ts';
import { Pushers } from './push/pushers.ts';
import { GatewayPolicy } from './push/gateway-request.ts';
import { OpenIdTokens } from './users/openid-tokens.ts';
import { eventsStore } from './storage/events-store.ts';
import { unreadCounts } from './sync/unread-counts.ts';
import { AccountData } from './users/account-data.ts';
import { Visibility } from './rooms/visibility.ts';
import { Notifier } from './sync/notifier.ts';
import { SyncService } from './sync/sync-service.ts';
import { UserService } from './users/user-service.ts';
import { LoginThrottle } from './users/login-throttle.ts';
import { SearchIndexer } from './rooms/search-indexer.ts';
import { UiaSessions } from './users/uia.ts';
import { requireAuth } from './http/auth.ts';
import { defaultAllowedHosts } from './http/host-check.ts';
import { createClientApp, registrationLimiter } from './clientapi/app.ts';
import { staticFiles } from './http/static-files.ts';
import { closeGracefully } from './http/graceful-close.ts';
import { TypingService } from './edus/typing.ts';
import { ReceiptService } from './edus/receipts.ts';
import { PresenceService } from './edus/presence.ts';
import { joinedMembers } from './edus/room-members.ts';
import { MediaService } from './media/media-service.ts';
import { mediaRoutes } from './federation/routes/media.ts';
import { remoteMediaSource } from './federation/remote-media-source.ts';
import { createE2ee } from './e2ee/index.ts';
import { DEFAULT_GROWTH_LIMITS, type GrowthLimits } from './config/growth-limits.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_RATE_LIMITS } from './config/types.ts';
import { createFederation, type Federation } from './federation/index.ts';
import { mountFederationRoutes } from './federation/routes/index.ts';
import type { FederationServices } from './federation/services.ts';
import { FederationSender } from './federation/sender/federation-sender.ts';
import { wireOutboundEdus } from './federation/outbound-edus.ts';
import { createLogger, type Logger } from './log/logger.ts';
import type { LanDirectory } from './discovery/lan-directory.ts';
import { loadOrCreateSigningKey } from './config/signing-key-file.ts';
import { lanServerName } from './protocol/lan-identity.ts';
import { createLanDiscovery, type LanDiscoveryOptions } from './discovery/index.ts';
import type { LanDiscoveryService } from './discovery/lan-directory.ts';
import { LanSharing } from './discovery/lan-sharing.ts';
import { moderationStore } from './storage/moderation-store.ts';

// node:http through require(), not import: an ESM import builds a facade that reads every export,
// and one of them loads undici (WebSocket and fetch), about 60 ms of every start (profiled).
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export type { HomeserverConfig } from './config/types.ts';
/** The server name bound to a data dir's signing key (created if missing): a sharing desktop's name. */
export { keyBoundServerName } from './config/lan.ts';

export interface Homeserver {
  start(): Promise<{ clientUrl: string; federationUrl?: string }>;
  stop(): Promise<void>;
  readonly serverName: string;
  /** The federation component once started with `config.federation` (client, remoteKeys, routers). */
  readonly federation: Federation | undefined;
  /** The outbound federation queue (federation/sender/) once started with `config.federation`. */
  readonly outbound: FederationSender | undefined;
  /** Users' pushers and their HTTP push queues (push/pushers.ts), once started. */
  readonly pushers: Pushers | undefined;
  /**
   * For the desktop shell: a one-time m.login.token for a local user (created if missing). With
   * `admin`, the account is (made) a server admin, so the desktop's user may switch LAN sharing;
   * also an account made before that rule.
   */
  loginTokenFor(localpart: string, options?: { admin?: boolean }): Promise<{ userId: string; token: string }>;
}

const DB_FILE = 'hearth.sqlite';

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export interface HomeserverOptions {
  /** Where the server logs; default: pino JSON lines on stderr that never throw (log/logger.ts). */
  logger?: Logger;
  /** Where LAN peers are, instead of discovery over mDNS (tests of federation between desktops on loopback). */
  lanDirectory?: LanDirectory;
  /**
   * Makes LAN discovery (config `lan`); default: the mDNS one (discovery/index.ts). Tests pass one
   * that does not touch the network, since announcing in a test would announce on the real LAN.
   */
  createLanDiscovery?: (opts: LanDiscoveryOptions) => LanDiscoveryService;
}

export function createHomeserver(config: HomeserverConfig, options: HomeserverOptions = {}): Homeserver {
  const log: Logger = options.logger ?? createLogger();
  let db: Database | undefined;
  let server: Server | undefined;
  let notifier: Notifier | undefined;
  let users: UserService | undefined;
  let typing: TypingService | undefined;
  let media: MediaService | undefined;
  let federation: Federation | undefined;
  let sender: FederationSender | undefined;
  let searchIndexer: SearchIndexer | undefined;
  let pushers: Pushers | undefined;
  let lanSharing: LanSharing | undefined;
  const sockets = new Set<Socket>();
  /** Requests whose handler has not finished, with the promise that settles when it has. */
  const inFlight = new Map<ServerResponse, Promise<void>>();

  return {
    serverName: config.serverName,
    get federation() {
      return federation;
    },
    get outbound() {
      return sender;
    },
    get pushers() {
      return pushers;
    },

    async start() {
      preparePrivateDir(config.dataDir);
      const signingKey = loadOrCreateSigningKey(config.dataDir);
      if (config.lan !== undefined) {
        // loadConfig checks both; a config built by hand (the desktop's, tests') is checked here.
        if (config.serverName !== lanServerName(signingKey.publicKey)) {
          throw new Error(`with lan set, the server name must be ${lanServerName(signingKey.publicKey)}, the one bound to the signing key`);
        }
        if (config.federation?.listen === undefined) throw new Error('lan needs federation.listen');
      }
      preparePrivateDbFile(join(config.dataDir, DB_FILE));
      db = await Database.open(join(config.dataDir, DB_FILE));
      notifier = new Notifier();
      const limits: GrowthLimits = { ...DEFAULT_GROWTH_LIMITS, ...config.growthLimits };
      const accountData = new AccountData(db, notifier, limits);
      await accountData.init();
      const push = new PushRules(db, accountData);
      const rooms = new RoomService({ db, serverName: config.serverName, signingKey, notifier, push });
      await rooms.init();
      const indexer = new SearchIndexer(db, log);
      searchIndexer = indexer;
      // History backfilled below every position is indexed as it is stored.
      rooms.onCommitted((events) => indexer.appended(events.filter((e) => e.streamOrdering > 0).length));
      indexer.resume();
      const visibility = new Visibility(rooms.reader);
      const rateLimits = config.rateLimit;
      users = new UserService(
        db,
        config.serverName,
        new LoginThrottle({
          failuresPerAccount: rateLimits.failedLoginsPerAccount ?? DEFAULT_RATE_LIMITS.failedLoginsPerAccount,
          failuresPerAddress: rateLimits.failedLoginsPerAddress ?? DEFAULT_RATE_LIMITS.failedLoginsPerAddress,
        }),
        { refreshableLifetimeMs: config.refreshableAccessTokenLifetimeMs, now: config.tokenClock },
        (err) => log('could not record when devices were last seen', err),
      );
      const u = users;
      const authenticate = (token: string) => u.authenticate(token);
      const database = db;
      const membersOf = (roomId: string) => joinedMembers(database.reader, roomId);
      typing = new TypingService(notifier, membersOf);
      const edus = { typing, receipts: new ReceiptService(db, notifier, membersOf, rooms.unread), presence: new PresenceService(db, notifier) };
      await edus.receipts.init();
      await edus.presence.init();
      media = new MediaService({
        db,
        dataDir: config.dataDir,
        serverName: config.serverName,
        maxUploadBytes: config.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
        ...(config.remoteMediaCacheBytes !== undefined ? { remoteCacheBytes: config.remoteMediaCacheBytes } : {}),
        log,
      });
      await media.init();
      const e2ee = await createE2ee(db, notifier, limits, log);
      const reader = db.reader;
      const livePushers = new Pushers({
        db,
        policy: new GatewayPolicy(config.pusherPrivateGateways ?? []),
        log,
        rooms: {
          stateContent: async (roomId, type, key) => (await rooms.currentStateEvent(roomId, type, key))?.pdu.content,
          // push_gateway.yaml counts.unread: unread notifications across all the user's rooms.
          unreadTotal: async (userId) => {
            let total = 0;
            for (const m of await eventsStore.membershipsOfUser(reader, userId)) {
              if (m.membership === 'join') total += (await unreadCounts(reader, rooms.unread, m.room_id, userId)).unread_notifications.notification_count;
            }
            return total;
          },
          event: async (eventId) => (await rooms.reader.getEvent(reader, eventId))?.pdu,
        },
      });
      pushers = livePushers;
      await livePushers.init();
      rooms.onCommitted((events) => livePushers.committed(events));
      // Deleting a device deletes its keys, pending to-device messages and pushers in the same transaction.
      users.deviceRemoval = {
        inTransaction: async (tx, userId, ids) => {
          await livePushers.forgetDevicesIn(tx, userId, ids);
          return e2ee.forgetDevices(tx, userId, ids);
        },
        afterCommit: async (userId, id) => {
          await livePushers.reload(userId);
          await e2ee.devicesForgotten(userId, id);
        },
      };
      const openId = new OpenIdTokens(db);
      // Federation is created before the client API (which uses it for remote rooms and users) and
      // starts listening after it.
      let federationServices: FederationServices | undefined;
      if (config.federation !== undefined) {
        // Discovery is made before federation, which resolves LAN names through it and knows pinned peers from it even while sharing is off. It
        // sends nothing until sharing starts it; if it cannot be made, the server runs without it.
        let lanDiscovery: LanDiscoveryService | undefined;
        if (config.lan !== undefined) {
          try {
            lanDiscovery = (options.createLanDiscovery ?? createLanDiscovery)({ db, serverName: config.serverName, signingKey, log });
          } catch (error) {
            log('LAN discovery is unavailable; LAN sharing cannot be switched on', error);
          }
        }
        federation = createFederation({
          config: config.federation,
          serverName: config.serverName,
          dataDir: config.dataDir,
          db,
          signingKey,
          version: packageVersion(),
          log,
          openIdOwner: (token) => openId.owner(token),
          ...((options.lanDirectory ?? lanDiscovery) ? { lan: options.lanDirectory ?? lanDiscovery } : {}),
        });
        federationServices = {
          serverName: config.serverName,
          signingKey,
          db,
          rooms,
          visibility,
          users,
          edus,
          e2ee,
          notifier,
          log,
          client: federation.client,
          remoteKeys: federation.remoteKeys,
        };
        sender = new FederationSender(federationServices);
        federationServices.outbound = sender;
        // A LAN peer that appears gets what waits for it now (federation/index.ts peerAppeared).
        federation.onPeerAppeared = (name) => sender?.wake(name);
        mountFederationRoutes(federation.federationRouter, federationServices);
        // Our media for other servers, and theirs for our users.
        mediaRoutes(media)(federation.federationRouter);
        media.setRemoteSource(remoteMediaSource(federation.client));
        // Local typing, receipts, presence, device and to-device changes go out as EDUs.
        wireOutboundEdus(federationServices);
        if (config.lan !== undefined) {
          const made = lanDiscovery;
          const fed = federation;
          lanSharing = new LanSharing({
            db,
            config,
            discovery: () => {
              if (made === undefined) throw new Error('LAN discovery is unavailable');
              return made;
            },
            version: packageVersion(),
            log,
            putAccountData: (userId, type, content) => accountData.put(userId, '', type, content),
            federation: {
              listen: () => fed.listen(),
              unlisten: () => fed.unlisten(),
              setDomains: (names) => fed.setDomains(names),
              profile: async (userId) => {
                const server = userId.slice(userId.indexOf(':') + 1);
                const body = await fed.client.request<Record<string, unknown>>(
                  server,
                  'GET',
                  `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(userId)}`,
                );
                const out: { displayname?: string; avatar_url?: string } = {};
                if (typeof body?.displayname === 'string') out.displayname = body.displayname;
                if (typeof body?.avatar_url === 'string') out.avatar_url = body.avatar_url;
                return out;
              },
              // The peer is back: its queue is retried now, not at the next backoff tick.
              peerAppeared: (name) => fed.peerAppeared(name),
            },
          });
        }
      }
      const app = createClientApp(
        {
          config,
          registrationLimiter: registrationLimiter(config.rateLimit),
          users,
          rooms,
          visibility,
          authenticate,
          notifier,
          edus,
          media,
          e2ee,
          push,
          pushers: livePushers,
          openId,
          accountData,
          searchIndexer: indexer,
          federation: federationServices,
          ...(lanSharing ? { lan: lanSharing } : {}),
          sync: new SyncService({ rooms, notifier, visibility, edus, e2ee, accountData }),
          uia: new UiaSessions(db),
          auth: requireAuth(authenticate, { seen: (userId, deviceId, ip) => u.activity.record(userId, deviceId, ip) }),
        },
        defaultAllowedHosts(config.serverName, config.listen.host, config.allowedHosts),
        log,
        // The web client, after every API route: a path the API claims is never a file.
        config.webRoot ? [staticFiles(config.webRoot)] : [],
      );
      const handle = app.callback();
      server = createServer((req, res) => {
        inFlight.set(
          res,
          Promise.resolve(handle(req, res)).finally(() => inFlight.delete(res)),
        );
      });
      server.keepAliveTimeout = 65_000;
      server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(config.listen.port, config.listen.host, () => resolve());
      });
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      const clientUrl = `http://${host}:${addr.port}`;
      if (federation === undefined) return { clientUrl };
      let federationUrl: string | undefined;
      if (lanSharing !== undefined) {
        // LAN sharing decides whether the federation listener listens (and discovery announces).
        await lanSharing.start();
        if (lanSharing.sharing) federationUrl = (await federation.listen()).federationUrl;
      } else {
        federationUrl = (await federation.start()).federationUrl;
      }
      // Sending starts once our key server is up: receivers fetch our key to check our signatures.
      await sender?.start();
      return federationUrl === undefined ? { clientUrl } : { clientUrl, federationUrl };
    },

    async stop() {
      // Stop accepting, end long-polls so they answer now, let in-flight requests finish, then close SQLite.
      notifier?.stop();
      typing?.stop();
      // Where the push queues stand is written, so the next start sends what is left (push/pushers.ts).
      const pushersStopped = pushers?.stop();
      // Wakes downloads waiting for a pending upload; background thumbnails finish before SQLite closes.
      const mediaStopped = media?.close();
      // The sender first, so that no transaction starts once federation's client is closed.
      const senderStopped = sender?.stop();
      // Goodbyes on the LAN before the listener closes.
      await lanSharing?.stop().catch((error: unknown) => log('could not stop LAN sharing cleanly', error));
      const federationStopped = federation?.stop();
      await closeGracefully(server, inFlight);
      // The devices' last sightings not yet written (written at most once a minute each).
      await users?.activity.close();
      await mediaStopped;
      await federationStopped;
      await senderStopped;
      await searchIndexer?.stop();
      await pushersStopped;
      await db?.close();
    },

    async loginTokenFor(localpart: string, tokenOptions: { admin?: boolean } = {}) {
      if (!users || !db) throw new Error('homeserver not started');
      const userId = users.userIdFor(localpart);
      if (await users.isAvailable(localpart)) {
        await users.register(localpart, null, undefined, undefined, true);
        // A new local user is announced (when sharing).
        await lanSharing?.refreshAnnouncement();
      }
      if (tokenOptions.admin && !(await users.moderation.isAdmin(userId))) await db.write((tx) => moderationStore.set(tx, userId, 'admin', true));
      const { token } = await users.createLoginToken(userId);
      return { userId, token };
    },
  };
}
