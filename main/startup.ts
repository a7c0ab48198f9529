// The desktop app's startup order, with the Electron parts passed in so plain Node can test it:
//
//   1. start the homeserver and wait until its client listener accepts connections;
//   2. mint the one-time login token, so it is waiting when the page asks for it;
//   3. create the window, restricted to the homeserver's origin;
//   4. load the client URL in it.
//
// A window is never opened on a server that is not listening, and a failure at any step stops the
// sequence there and rejects (the caller reports it and quits).

import type { LoginToken } from './login-token.ts';

export interface StartupSteps<W> {
  startHomeserver(): Promise<{ clientUrl: string }>;
  /** Mints the token the page will receive (LoginTokenHandoff.prepare). */
  prepareLoginToken(): Promise<LoginToken>;
  /** Creates the window; `appOrigin` is the only origin it may show. */
  createWindow(appOrigin: string): W;
  loadUrl(window: W, url: string): Promise<void>;
}

export interface Started<W> {
  clientUrl: string;
  appOrigin: string;
  userId: string;
  window: W;
}

export async function startUp<W>(steps: StartupSteps<W>): Promise<Started<W>> {
  const { clientUrl } = await steps.startHomeserver();
  const appOrigin = new URL(clientUrl).origin;
  const { userId } = await steps.prepareLoginToken();
  const window = steps.createWindow(appOrigin);
  await steps.loadUrl(window, clientUrl);
  return { clientUrl, appOrigin, userId, window };
}
