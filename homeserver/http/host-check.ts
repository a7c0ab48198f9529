import type { Context, Next } from 'koa';
import { MatrixError } from './matrix-error.ts';

/**
 * DNS-rebinding defence: a web page on another origin can point its own hostname at 127.0.0.1,
 * so a loopback listener must refuse requests whose Host is not one of our names.
 */
export function hostCheck(allowed: Set<string>) {
  return async function checkHost(ctx: Context, next: Next): Promise<void> {
    const host = hostnameOf(ctx.get('host'));
    if (!allowed.has(host)) {
      throw new MatrixError(403, 'M_FORBIDDEN', `Host '${host}' is not served here`);
    }
    await next();
  };
}

/** Host header without the port; IPv6 literals keep their brackets. */
export function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

export function defaultAllowedHosts(serverName: string, listenHost: string, extra: string[]): Set<string> {
  const names = ['localhost', '127.0.0.1', '[::1]', hostnameOf(serverName), listenHost.includes(':') ? `[${listenHost}]` : listenHost, ...extra];
  return new Set(names.map((n) => n.toLowerCase()));
}
