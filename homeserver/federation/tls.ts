// The federation listener's certificate (server-server-api.md "TLS"): the configured PEM pair, or
// a self-signed one made on first start and kept in the data dir. Peers accept a self-signed one
// only when told to (trust_self_signed), and then pin it, so its SANs must name us as they reach us:
// the server name's host (a DNS name or an IP literal) plus loopback.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';

export const CERT_FILE = 'federation.crt';
export const KEY_FILE = 'federation.key';

export interface TlsPair {
  cert: string;
  key: string;
}

/** The host part of a server name: `[::1]:8448` -> `::1`, `example.org:443` -> `example.org`. */
export function serverNameHost(serverName: string): string {
  if (serverName.startsWith('[')) return serverName.slice(1, serverName.indexOf(']'));
  const colon = serverName.lastIndexOf(':');
  return colon < 0 ? serverName : serverName.slice(0, colon);
}

/** True if `cert` is valid for `host` (an IP literal or a DNS name) by its SANs. */
export function certCovers(cert: string | X509Certificate, host: string): boolean {
  const x509 = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  return isIP(host) ? x509.checkIP(host) !== undefined : x509.checkHost(host) !== undefined;
}

export async function loadTlsPair(opts: { dataDir: string; serverName: string; listenHost: string; certFile?: string; keyFile?: string }): Promise<TlsPair> {
  if (opts.certFile !== undefined && opts.keyFile !== undefined) {
    return { cert: readFileSync(opts.certFile, 'utf8'), key: readFileSync(opts.keyFile, 'utf8') };
  }
  const certFile = join(opts.dataDir, CERT_FILE);
  const keyFile = join(opts.dataDir, KEY_FILE);
  const host = serverNameHost(opts.serverName);
  if (existsSync(certFile) && existsSync(keyFile)) {
    const pair = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
    const x509 = new X509Certificate(pair.cert);
    // Kept while it still names us and has a month left; a renamed server needs a new one.
    if (certCovers(x509, host) && Date.parse(x509.validTo) > Date.now() + 30 * 86_400_000) return pair;
  }
  const pair = await generateSelfSigned(host, opts.listenHost);
  writeFileSync(keyFile, pair.key, { mode: 0o600 });
  writeFileSync(certFile, pair.cert);
  return pair;
}

/** A P-256 certificate valid ten years, for `host` and loopback (and the listen address if specific). */
export async function generateSelfSigned(host: string, listenHost: string): Promise<TlsPair> {
  const ips = new Set(['127.0.0.1', '::1']);
  const dns = new Set(['localhost']);
  for (const h of [host, listenHost]) {
    if (isIP(h)) {
      if (h !== '0.0.0.0' && h !== '::') ips.add(h);
    } else dns.add(h.toLowerCase());
  }
  const notAfterDate = new Date(Date.now() + 10 * 365 * 86_400_000);
  // Loaded only when a certificate must be made: it costs ~200 ms at start otherwise.
  const { generate } = await import('selfsigned');
  const result = await generate([{ name: 'commonName', value: host }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      // Self-signed and its own trust anchor when pinned: CA:true lets peers use it as `ca`.
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...[...dns].map((value) => ({ type: 2 as const, value })), ...[...ips].map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { cert: result.cert, key: result.private };
}
