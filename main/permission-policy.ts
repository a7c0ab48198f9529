// Which web permissions the app window gets. Chromium would ask the user for each; the desktop has
// no such prompt, so the answer is decided here: everything is refused (camera, microphone,
// geolocation, clipboard reads, ...) except notifications for the app's own page, which the
// client shows for mentions and DMs (issue #16) and the user turns off in Settings.
import { isAppPage } from './navigation-policy.ts';

/** The permissions our own page may use; the operating system still has its own switch. */
const GRANTED_TO_APP = new Set(['notifications']);

/**
 * True when `permission`, asked for by the page at `requestingUrl`, is granted: one of
 * GRANTED_TO_APP, and the page is of the app's origin (undefined before the homeserver started).
 */
export function permissionAllowed(appOrigin: string | undefined, permission: string, requestingUrl: string | undefined): boolean {
  if (appOrigin === undefined || !GRANTED_TO_APP.has(permission)) return false;
  return isAppPage(appOrigin, requestingUrl);
}
