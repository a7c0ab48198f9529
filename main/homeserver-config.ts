// The configuration of the homeserver inside the desktop app. Unlike `hearth serve`, it reads no
// config file or environment: the app decides where its data lives and which ports it uses.

import { keyBoundServerName, type HomeserverConfig } from '../homeserver/index.ts';
import { LAN_HOST, LOOPBACK_HOST } from './port.ts';

export interface DesktopHomeserverOptions {
  /** Where the database and keys live: a folder inside Electron's userData. */
  dataDir: string;
  /** Loopback port for the client listener; 0 lets the OS choose. */
  port: number;
  /** The federation listener's port, used while the user shares on the LAN. */
  federationPort: number;
  /** Where the federation listener listens while sharing: every interface by default (tests: loopback). */
  federationHost?: string;
  /** The built renderer (dist/renderer), served at '/'; omitted when it is not built. */
  webRoot?: string;
}

export function desktopHomeserverConfig(options: DesktopHomeserverOptions): HomeserverConfig {
  const config: HomeserverConfig = {
    dataDir: options.dataDir,
    // Named after its signing key (protocol/lan-identity.ts): unique on the LAN, stable across
    // restarts and address changes, and no peer can claim it.
    serverName: keyBoundServerName(options.dataDir),
    // Loopback only: the window is the one client; other machines do not reach this listener.
    listen: { host: LOOPBACK_HOST, port: options.port },
    // The app creates the local account itself (Homeserver.loginTokenFor); nobody else, not even
    // another local program talking to the port, needs to register.
    registration: 'closed',
    registrationTokens: [],
    allowedHosts: [],
    // The same limits as `hearth serve`'s defaults (homeserver/config/load.ts).
    rateLimit: { perSecond: 50, burst: 300 },
    // Peers on the LAN reach this listener only while sharing is on (the user turns it on; the
    // setting persists). Federation is with LAN peers and the domains the user adds, nobody else.
    federation: {
      listen: { host: options.federationHost ?? LAN_HOST, port: options.federationPort },
      policy: 'lan',
      domains: [],
      trustSelfSigned: [],
      allow: [],
      deny: [],
      keyNotaries: [],
    },
    lan: { sharing: false },
  };
  if (options.webRoot !== undefined) config.webRoot = options.webRoot;
  return config;
}
