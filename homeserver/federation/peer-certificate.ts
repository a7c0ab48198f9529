// Reading a server's certificate before trusting it (trust_self_signed pinning, LAN peers): one TLS
// handshake that sends nothing, then the certificate as PEM for an agent's `ca`.
import tls, { type PeerCertificate } from 'node:tls';
import { isIP } from 'node:net';
import type { ResolvedServer } from './discovery.ts';
import type { ConnectGuard } from './guarded-connect.ts';

/** How long reading a certificate may take: a LAN or a reachable server answers far sooner. */
export const READ_CERTIFICATE_TIMEOUT_MS = 10_000;

/** Connects only to read the server's certificate: nothing is sent over this connection. */
export function readCertificate(target: ResolvedServer, guard: ConnectGuard): Promise<PeerCertificate> {
  return new Promise<PeerCertificate>((resolve, reject) => {
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      lookup: guard.lookup,
      servername: isIP(target.tlsServerName) ? undefined : target.tlsServerName,
      rejectUnauthorized: false,
      timeout: READ_CERTIFICATE_TIMEOUT_MS,
    });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate());
      socket.destroy();
    });
    socket.once('timeout', () => socket.destroy(new Error('timed out')));
    socket.once('error', reject);
  });
}

export function certificatePem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
}
