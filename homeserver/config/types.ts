// The homeserver's whole configuration, as createHomeserver() receives it.
// Loading, defaults and validation live in ./load.ts; nothing else reads files or process.env.

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
  /** Where the built renderer lives; served at '/' on the client listener when set. */
  webRoot?: string;
  /** Base URL clients should use, advertised in .well-known; defaults to the listen address. */
  publicBaseUrl?: string;
  /**
   * Where users can reach whoever runs this server (config key `admin_contact`): a `mailto:` or
   * `https:` URI, sent as `admin_contact` with M_RESOURCE_LIMIT_EXCEEDED (a full disk); null when unset.
   */
  adminContact?: string;
  /**
   * Largest upload the content repository accepts, in bytes (config key `max_upload_size`).
   * loadConfig always sets it; a config built by hand may leave it out for the 50 MiB default.
   */
  maxUploadBytes?: number;
  /** A TURN server for calls (voip.yaml): credentials are minted from its shared secret. */
  turn?: TurnConfig;
  /** Federation; absent when nothing about it was configured. */
  federation?: FederationConfig;
}
