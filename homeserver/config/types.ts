// The homeserver's whole configuration, as createHomeserver() receives it.
// Loading, defaults and validation live in ./load.ts; nothing else reads files or process.env.
import type { GrowthLimits } from './growth-limits.ts';

/** 50 MiB: photos and short videos from a phone, well short of filling a laptop's disk. */
export const DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

export type RegistrationMode = 'open' | 'token' | 'closed';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface RateLimitConfig {
  /** Sustained requests per second per client (user, or IP when unauthenticated). */
  perSecond: number;
  /** Requests allowed in a burst above the sustained rate. */
  burst: number;
  /** Accounts one client address may register at once (`rate_limit.registration_burst`). */
  registrationBurst?: number;
  /** Accounts one client address may register per hour, sustained (`rate_limit.registrations_per_hour`). */
  registrationsPerHour?: number;
  /** Wrong passwords for one account before each further attempt waits, doubling (`rate_limit.failed_logins_per_account`). */
  failedLoginsPerAccount?: number;
  /** Wrong passwords from one client address before each further attempt waits, doubling (`rate_limit.failed_logins_per_address`). */
  failedLoginsPerAddress?: number;
}

/**
 * Defaults of the limits a hand-built config may leave out (loadConfig always fills them in).
 * Registration: a family signs up a handful of accounts in one go, a script thousands; five at
 * once and then one every ten minutes per address lets the first through and stops the second.
 * Failed logins: five mistakes for one account is generous for a person and nothing for a
 * guesser; an address may hold a household behind one router trying several accounts, so it gets
 * four times that. Past them each wait doubles from 5 s to 15 min (users/failure-backoff.ts).
 */
export const DEFAULT_RATE_LIMITS = {
  registrationBurst: 5,
  registrationsPerHour: 6,
  failedLoginsPerAccount: 5,
  failedLoginsPerAddress: 20,
} as const satisfies Required<Omit<RateLimitConfig, 'perSecond' | 'burst'>>;

/**
 * Passwords of new accounts and password changes. Eight characters is NIST SP 800-63B's floor
 * for a password the user chose, and Synapse's usual policy.
 */
export const DEFAULT_PASSWORD_MINIMUM_LENGTH = 8;

export interface PasswordPolicyConfig {
  /** Fewest characters (Unicode code points) a new password may have (`password_policy.minimum_length`). */
  minimumLength: number;
}

export interface TurnConfig {
  uris: string[];
  /** The TURN server's static-auth-secret (coturn `use-auth-secret`). */
  sharedSecret: string;
  userLifetimeMs: number;
}

/** The Server-Server API (server-server-api.md): its HTTPS listener, TLS and whom it talks to. */
export interface FederationConfig {
  /** HTTPS listener for /_matrix/federation/* and /_matrix/key/*; federation is off without it. */
  listen?: ListenAddress;
  /** PEM certificate and key; both or neither. Without them a self-signed pair lives in the data dir. */
  tlsCert?: string;
  tlsKey?: string;
  /** Server names whose self-signed certificate is accepted, pinned on first contact. */
  trustSelfSigned: string[];
  /** When non-empty, only these servers may federate with us (requests in and out). */
  allow: string[];
  /** These servers may never federate with us; wins over `allow`. */
  deny: string[];
  /** Notary servers asked for keys a server cannot give us itself (`/_matrix/key/v2/query`). */
  keyNotaries: string[];
  /**
   * Servers outbound federation may reach at private addresses (loopback, LAN, link-local), like
   * those in trustSelfSigned and allow; every other name is reached only at public addresses.
   */
  privatePeers?: string[];
  /**
   * Whom we federate with: 'open' (default) everyone the allow/deny lists let through; 'lan' (the
   * desktop) only LAN peers discovery has pinned, `domains` and `allow` (issue #15).
   */
  policy?: 'open' | 'lan';
  /** With policy 'lan': the configured domains federation is also allowed with. */
  domains?: string[];
}

/** Sharing on the LAN (issue #15): the desktop announces itself over mDNS and federates with peers. */
export interface LanConfig {
  /**
   * Whether the federation listener listens and discovery announces, until a server admin changes
   * it at run time (PUT /_matrix/client/unstable/org.hearth.lan/sharing, which persists and wins).
   */
  sharing: boolean;
  /** Whether the announcement carries a human label (the first local user's display name). */
  announceLabel?: boolean;
}

/** One way to reach whoever runs the server (support.yaml, "Contact"). */
export interface SupportContact {
  role: string;
  matrixId?: string;
  emailAddress?: string;
}

/** What /.well-known/matrix/support says (config key `support`). */
export interface SupportConfig {
  contacts: SupportContact[];
  supportPage?: string;
}

export interface HomeserverConfig {
  /** Folder that holds the SQLite database, the signing key and media. Created if missing. */
  dataDir: string;
  /** The Matrix server name (the part after ':' in user ids). */
  serverName: string;
  /** Client-Server API listener. Port 0 picks a free port. */
  listen: ListenAddress;
  registration: RegistrationMode;
  /** Tokens accepted by `m.login.registration_token` when registration is 'token'. */
  registrationTokens: string[];
  /** Extra Host header values the client listener accepts besides loopback names and serverName. */
  allowedHosts: string[];
  rateLimit: RateLimitConfig;
  /** For registration and password changes; loadConfig always sets it, the default is 8 characters. */
  passwordPolicy?: PasswordPolicyConfig;
  /** Where the built renderer lives; served at '/' on the client listener when set. */
  webRoot?: string;
  /** Base URL clients should use, advertised in .well-known; defaults to the listen address. */
  publicBaseUrl?: string;
  /**
   * Where users can reach whoever runs this server (config key `admin_contact`): a `mailto:` or
   * `https:` URI, sent as `admin_contact` with M_RESOURCE_LIMIT_EXCEEDED (a full disk); null when unset.
   */
  adminContact?: string;
  /** Contacts and a support page for /.well-known/matrix/support (config key `support`). */
  support?: SupportConfig;
  /**
   * The `m.server` of /.well-known/matrix/server (config key `well_known_server`): the
   * `host[:port]` other servers should reach this server name at. Unset: that document is a 404.
   */
  wellKnownServer?: string;
  /**
   * Largest upload the content repository accepts, in bytes (config key `max_upload_size`).
   * loadConfig always sets it; a config built by hand may leave it out for the 50 MiB default.
   */
  maxUploadBytes?: number;
  /**
   * Cap on the cache of other servers' media, in bytes (config key `remote_media_cache_size`);
   * the least recently used go first. Absent: media/remote-media.ts DEFAULT_REMOTE_MEDIA_CACHE_BYTES.
   */
  remoteMediaCacheBytes?: number;
  /**
   * Push gateway host names (a pusher URL's host, config key `pusher_private_gateways`) that HTTP
   * pushers may reach at private addresses (loopback, LAN); any other gateway is reached only at
   * public addresses (push/gateway-request.ts). Empty by default.
   */
  pusherPrivateGateways?: string[];
  /**
   * The room version of new rooms when createRoom names none (config key `default_room_version`,
   * Synapse's name); one of protocol/room-versions.ts's. Absent: DEFAULT_ROOM_VERSION (11).
   */
  defaultRoomVersion?: string;
  /** A TURN server for calls (voip.yaml): credentials are minted from its shared secret. */
  turn?: TurnConfig;
  /** Federation; absent when nothing about it was configured. */
  federation?: FederationConfig;
  /**
   * LAN sharing (config key `lan`); needs `federation.listen`, and the server name must be the one
   * bound to the data dir's signing key (loadConfig derives it when `server_name` is unset).
   */
  lan?: LanConfig;
  /**
   * Lifetime of access tokens given to clients that ask for a refresh token, in ms (config key
   * `refreshable_access_token_lifetime`, in seconds); default 5 minutes (users/user-service.ts).
   */
  refreshableAccessTokenLifetimeMs?: number;
  /**
   * Whether a signed-in user may mint a one-time login token for another device with
   * `POST /login/get_token` (config key `login_via_existing_session.enabled`); default true.
   */
  loginViaExistingSession?: boolean;
  /** The clock access and login tokens expire by; tests pass a fake one. Not a config-file key. */
  tokenClock?: () => number;
  /** Overrides of the per-user store bounds (growth-limits.ts); not config-file keys. */
  growthLimits?: Partial<GrowthLimits>;
}
