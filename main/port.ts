// The loopback port of the in-process homeserver's client listener.
//
// The window's origin is http://127.0.0.1:<port>, and the page's storage (localStorage,
// IndexedDB: the client's session and caches) belongs to that origin. A new random port on every
// launch would give the page an empty origin each time, so Hearth asks the OS for a free port
// (port 0) once, remembers it, and prefers it on later launches. When the remembered port is taken
// by another program, it falls back to a fresh free port rather than failing to start.

import fs from 'node:fs';
import path from 'node:path';

export const LOOPBACK_HOST = '127.0.0.1';
/** Where the federation listener listens while the user shares on the LAN. */
export const LAN_HOST = '0.0.0.0';
/** The Server-Server API's default port (server-server-api.md "Resolving server names"). */
export const DEFAULT_FEDERATION_PORT = 8448;

/** Ports we never prefer: privileged ones, and 0 (which means "any"). */
const MIN_PORT = 1024;
const MAX_PORT = 65_535;

export function isUsablePort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= MIN_PORT && port <= MAX_PORT;
}

/** The port remembered in `file`, or undefined when there is none or it is not a usable port. */
export function readRememberedPort(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const port = /^\s*(\d{1,5})\s*$/.exec(text) ? Number(text.trim()) : undefined;
  return isUsablePort(port) ? port : undefined;
}

export function rememberPort(file: string, port: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${port}\n`);
}

/** Errors of listen() that mean "this port cannot be ours now", as opposed to any other failure. */
export function isPortUnavailable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}

/**
 * Calls `listen(preferred)`; if that port is unavailable, calls `listen(0)` so the OS picks a free
 * one. Binding is the only race-free test of "free": probing first and listening later could lose
 * the port in between. `listen` must release whatever it opened before rejecting.
 */
export async function listenOnPreferredPort<T>(preferred: number | undefined, listen: (port: number) => Promise<T>): Promise<{ result: T; fellBack: boolean }> {
  if (isUsablePort(preferred)) {
    try {
      return { result: await listen(preferred), fellBack: false };
    } catch (error) {
      if (!isPortUnavailable(error)) throw error;
      return { result: await listen(0), fellBack: true };
    }
  }
  return { result: await listen(0), fellBack: false };
}

/** The port of an http://host:port URL as a number (the URL parser drops default ports). */
export function portOf(url: string): number {
  const u = new URL(url);
  return u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
}
