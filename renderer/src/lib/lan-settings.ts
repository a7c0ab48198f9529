// The LAN settings (Settings → LAN): the sharing switch, the announce label and the configured
// domains of the unstable org.hearth.lan API (README "Desktops on a LAN"). Anyone signed in reads
// them; only a server admin changes them (the server answers 403 M_FORBIDDEN to anyone else).
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import { Method } from 'matrix-js-sdk/lib/http-api/method.js';
import { LAN_PREFIX } from './nearby.ts';

/** The server's own bound (homeserver/clientapi/lan.ts MAX_LAN_DOMAINS): checked here to say so before sending. */
export const MAX_DOMAINS = 100;

export interface LanSettings {
  sharing: boolean;
  announceLabel: boolean;
  /** 'lan': federation only with LAN peers and `domains`; 'open': the domains have no effect. */
  policy: 'open' | 'lan';
  domains: string[];
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const DNS_NAME = /^[0-9A-Za-z.-]{1,255}$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;

/**
 * Why `input` is not a server name (appendices.md "Server Name": hostname [":" port], the
 * hostname an IPv4 literal, a bracketed IPv6 literal or a DNS name), or null when it is one. The
 * server checks again; this only saves a round trip and says what is wrong in words.
 */
export function serverNameProblem(input: string): string | null {
  if (input === '') return 'Enter a server name, like example.org.';
  if (/^[a-z]+:\/\//i.test(input)) return 'Enter the server name only, without https://.';
  if (/[\s/@#!]/.test(input)) return 'A server name has no spaces, slashes, @, # or !.';
  let host = input;
  let port: string | undefined;
  if (input.startsWith('[')) {
    const close = input.indexOf(']');
    if (close < 0) return 'An IPv6 address must be closed with ].';
    host = input.slice(0, close + 1);
    if (close + 1 < input.length) {
      if (input[close + 1] !== ':') return 'Only a :port may follow an IPv6 address.';
      port = input.slice(close + 2);
    }
    if (!IPV6.test(host)) return `${host} is not an IPv6 address.`;
  } else {
    const colon = input.indexOf(':');
    if (colon >= 0) {
      host = input.slice(0, colon);
      port = input.slice(colon + 1);
    }
    const quad = IPV4.exec(host);
    if (quad ? quad.slice(1).some((p) => Number(p) > 255) : !DNS_NAME.test(host)) return `${host || 'That'} is not a host name.`;
  }
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return 'The port must be a number.';
  return null;
}

/** The list with `input` added (trimmed), or why it cannot be. */
export function addDomain(domains: readonly string[], input: string): { domains: string[] } | { problem: string } {
  const name = input.trim();
  const problem = serverNameProblem(name);
  if (problem !== null) return { problem };
  if (domains.some((d) => d.toLowerCase() === name.toLowerCase())) return { problem: `${name} is already in the list.` };
  if (domains.length >= MAX_DOMAINS) return { problem: `At most ${MAX_DOMAINS} servers.` };
  return { domains: [...domains, name] };
}

function lanRequest<T>(client: MatrixClient, method: Method, path: string, body?: Record<string, unknown>): Promise<T> {
  return client.http.authedRequest<T>(method, path, undefined, body, { prefix: LAN_PREFIX });
}

/** The LAN settings, or null when the server does not offer LAN sharing (404). */
export async function readLanSettings(client: MatrixClient): Promise<LanSettings | null> {
  try {
    const s = await lanRequest<Record<string, unknown>>(client, Method.Get, '/sharing');
    return {
      sharing: s.enabled === true,
      announceLabel: s.announce_label === true,
      policy: s.policy === 'lan' ? 'lan' : 'open',
      domains: Array.isArray(s.domains) ? s.domains.filter((d): d is string => typeof d === 'string') : [],
    };
  } catch (err) {
    if ((err as { httpStatus?: number }).httpStatus === 404) return null;
    throw err;
  }
}

export async function writeAnnounceLabel(client: MatrixClient, on: boolean): Promise<void> {
  await lanRequest(client, Method.Put, '/sharing', { announce_label: on });
}

export async function writeDomains(client: MatrixClient, domains: string[]): Promise<void> {
  await lanRequest(client, Method.Put, '/domains', { domains });
}
