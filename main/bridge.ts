// The API the preload puts on `window.hearth`, and the IPC channel behind it. Types and constants
// only: the sandboxed preload cannot load this file at run time, so it repeats the channel name
// (test/main/preload.test.ts checks that the two agree).

import type { LoginToken } from './login-token.ts';

export interface HearthBridge {
  /** The one-time login token for the local account: the first call gets it, later calls null. */
  getLoginToken(): Promise<LoginToken | null>;
  /**
   * A fresh login token for the local account, for the sign-in screen's "continue as" button
   * after the user signed out; null when asked again too soon.
   */
  signInAgain(): Promise<LoginToken | null>;
  /** process.platform of the desktop app ('darwin', 'linux', 'win32'). */
  readonly platform: string;
  /**
   * Brings the app window to the front: for a click on a notification, where the page's own
   * window.focus() does not raise an Electron window.
   */
  focusWindow(): void;
}

export const GET_LOGIN_TOKEN_CHANNEL = 'hearth:get-login-token';
export const SIGN_IN_AGAIN_CHANNEL = 'hearth:sign-in-again';
export const FOCUS_WINDOW_CHANNEL = 'hearth:focus-window';
