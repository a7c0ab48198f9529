// Starts the desktop app's own homeserver: the client listener on loopback, on the port it used
// last time when that port is still free (see port.ts for why the port should not change), else on
// a fresh one; the federation listener on the LAN only while the user shares (federation-port.ts).

import path from 'node:path';
import { createHomeserver, type Homeserver } from '../homeserver/index.ts';
import { desktopHomeserverConfig } from './homeserver-config.ts';
import { chooseFederationPort } from './federation-port.ts';
import { listenOnPreferredPort, portOf, readRememberedPort, rememberPort } from './port.ts';

export interface DesktopHomeserverPaths {
  /** The homeserver's data folder. */
  dataDir: string;
  /** Where the client port is remembered between launches. */
  portFile: string;
  /** Where the federation port is remembered; default: `federation-port` beside portFile. */
  federationPortFile?: string;
  /** Where the federation listener listens while sharing; default every interface (tests: loopback). */
  federationHost?: string;
  /** The built renderer, when there is one. */
  webRoot?: string;
}

export interface RunningHomeserver {
  homeserver: Homeserver;
  clientUrl: string;
  /** True when the remembered port was taken and the client moved to a new origin. */
  movedPort: boolean;
}

export async function startDesktopHomeserver(paths: DesktopHomeserverPaths): Promise<RunningHomeserver> {
  const federationPortFile = paths.federationPortFile ?? path.join(path.dirname(paths.portFile), 'federation-port');
  const federationPort = await chooseFederationPort(federationPortFile, paths.federationHost);
  const { result, fellBack } = await listenOnPreferredPort(readRememberedPort(paths.portFile), async (port) => {
    const options = {
      dataDir: paths.dataDir,
      port,
      federationPort,
      ...(paths.federationHost === undefined ? {} : { federationHost: paths.federationHost }),
      ...(paths.webRoot === undefined ? {} : { webRoot: paths.webRoot }),
    };
    const homeserver = createHomeserver(desktopHomeserverConfig(options));
    try {
      const { clientUrl } = await homeserver.start();
      return { homeserver, clientUrl };
    } catch (error) {
      // start() may have opened the database before listen() failed; close it before a retry.
      await homeserver.stop().catch(() => {});
      throw error;
    }
  });
  rememberPort(paths.portFile, portOf(result.clientUrl));
  return { ...result, movedPort: fellBack };
}
