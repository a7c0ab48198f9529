// The configuration of the homeserver inside the desktop app. Unlike `hearth serve`, it reads no
// config file or environment: the app decides where its data lives and which port it uses.

import type { HomeserverConfig } from '../homeserver/index.ts';
import { LOOPBACK_HOST } from './port.ts';

export interface DesktopHomeserverOptions {
  /** Where the database and keys live: a folder inside Electron's userData. */
  dataDir: string;
  /** Loopback port for the client listener; 0 lets the OS choose. */
  port: number;
  /** The built renderer (dist/renderer), served at '/'; omitted when it is not built. */
  webRoot?: string;
}

export function desktopHomeserverConfig(options: DesktopHomeserverOptions): HomeserverConfig {
  const config: HomeserverConfig = {
    dataDir: options.dataDir,
    serverName: 'localhost',
    // Loopback only: the window is the one client; other machines do not reach this listener.
    listen: { host: LOOPBACK_HOST, port: options.port },
    // The app creates the local account itself (Homeserver.loginTokenFor); nobody else, not even
    // another local program talking to the port, needs to register.
    registration: 'closed',
    registrationTokens: [],
    allowedHosts: [],
    // The same limits as `hearth serve`'s defaults (homeserver/config/load.ts).
    rateLimit: { perSecond: 50, burst: 300 },
  };
  if (options.webRoot !== undefined) config.webRoot = options.webRoot;
  return config;
}
