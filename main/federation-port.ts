// The federation listener's port. It listens only while the user shares on the LAN, maybe not at
// start at all, so the port is chosen at start by binding it for a moment: 8448 (the federation
// default) or the one remembered, else a free one the OS picks, remembered for the next launch
// like the client port (port.ts). Peers learn the port from the announcement, so a change costs
// nothing but a re-announcement; keeping it keeps firewall rules the user may have made valid.

import net from 'node:net';
import { DEFAULT_FEDERATION_PORT, LAN_HOST, listenOnPreferredPort, readRememberedPort, rememberPort } from './port.ts';

/** Binds `port` on `host` and releases it at once; resolves with the port bound. */
function probe(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

export async function chooseFederationPort(portFile: string, host: string = LAN_HOST): Promise<number> {
  const preferred = readRememberedPort(portFile) ?? DEFAULT_FEDERATION_PORT;
  const { result } = await listenOnPreferredPort(preferred, (port) => probe(port, host));
  rememberPort(portFile, result);
  return result;
}
