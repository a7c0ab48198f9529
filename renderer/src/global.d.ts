/// <reference types="svelte" />
/// <reference types="vite/client" />

/** What the Electron preload exposes (main/preload); absent in a plain browser. */
interface HearthBridge {
  /** A one-time m.login.token for the desktop's own account, or null when there is none. */
  getLoginToken?: () => Promise<string | { token: string } | null | undefined>;
  /** Another one, minted when the user asks to sign in again after signing out; null if asked too soon. */
  signInAgain?: () => Promise<{ token: string } | null | undefined>;
  /** Raises the app window (for a click on a notification). */
  focusWindow?: () => void;
}

interface Window {
  hearth?: HearthBridge;
}
