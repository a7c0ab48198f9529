/// <reference types="svelte" />
/// <reference types="vite/client" />

/** What the Electron preload exposes (main/preload); absent in a plain browser. */
interface HearthBridge {
  /** A one-time m.login.token for the desktop's own account, or null when there is none. */
  getLoginToken?: () => Promise<string | { token: string } | null | undefined>;
}

interface Window {
  hearth?: HearthBridge;
}
