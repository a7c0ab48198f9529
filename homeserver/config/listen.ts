// Parses a listen address: `HOST:PORT` or `[IPV6]:PORT`. Port 0 asks the OS for a free port.

import net from 'node:net';
import type { ListenAddress } from './types.ts';
import { ConfigError, type ConfigSource } from './config-error.ts';

const EXPECTED = 'HOST:PORT or [IPV6]:PORT with PORT from 0 to 65535 (e.g. 127.0.0.1:8008)';
// A DNS name or IPv4 literal; IPv6 goes in brackets. Kept loose: the OS resolves it at listen().
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

export function parseListen(value: unknown, source: ConfigSource, key: string): ListenAddress {
  const fail = (): never => {
    throw new ConfigError({ source, key, expected: EXPECTED, actual: value });
  };
  if (typeof value !== 'string') return fail();
  const text = value.trim();

  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
    if (net.isIPv6(host) === false) fail();
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) fail();
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    // A bare IPv6 address (two or more colons) is ambiguous with its port: insist on brackets.
    if (host.includes(':') || HOST_NAME.test(host) === false) fail();
  }

  if (/^[0-9]{1,5}$/.test(portText) === false) fail();
  const port = Number(portText);
  if (port > 65535) fail();
  return { host, port };
}

/** The inverse of parseListen, for messages and URLs. */
export function formatListen(address: ListenAddress): string {
  return net.isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
