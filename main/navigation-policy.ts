// Where the app window may go. The window shows exactly one origin, the in-process homeserver's
// client listener; anything else is either handed to the system browser or refused.

export type NavigationDecision = 'allow' | 'external' | 'deny';

/**
 * 'allow' for the app's own origin (scheme, host and port all equal); 'external' for any other
 * http(s) URL, which the system browser opens; 'deny' for everything else (file:, javascript:,
 * data:, blob:, custom schemes, unparseable input).
 *
 * Another port on the same loopback host is another program, not Hearth, so it is 'external'
 * like any other web page: one rule, "only our exact origin stays in the window".
 */
export function navigationPolicy(appOrigin: string, target: string): NavigationDecision {
  const app = originOf(appOrigin);
  const url = parse(target);
  if (url === undefined) return 'deny';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'deny';
  return url.origin === app ? 'allow' : 'external';
}

/**
 * True when an IPC message comes from the app's own page. Used to hand the login token only to
 * our origin, even if some other page ever ended up in a frame with the preload.
 */
export function isAppPage(appOrigin: string, senderUrl: string | undefined): boolean {
  if (senderUrl === undefined) return false;
  return navigationPolicy(appOrigin, senderUrl) === 'allow';
}

function parse(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

/** The origin of a URL or origin string, normalised by the URL parser (default ports, case). */
function originOf(s: string): string {
  const url = parse(s);
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(`not an http(s) origin: ${s}`);
  }
  return url.origin;
}
