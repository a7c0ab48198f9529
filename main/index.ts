// Electron entry point: the app's lifecycle, its one window, and the IPC behind the preload.
// The only module that imports 'electron' (besides the preload); the decisions it applies live in
// modules that plain Node tests: startup order, port choice, token handoff, navigation policy.

import { app, BrowserWindow, dialog, ipcMain, nativeTheme, session, shell, type WebContents } from 'electron';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Homeserver } from '../homeserver/index.ts';
import { FOCUS_WINDOW_CHANNEL, GET_LOGIN_TOKEN_CHANNEL, SIGN_IN_AGAIN_CHANNEL } from './bridge.ts';
import { startDesktopHomeserver } from './desktop-homeserver.ts';
import { localpartFor } from './local-account.ts';
import { LoginTokenHandoff, type LoginToken } from './login-token.ts';
import { isAppPage, navigationPolicy } from './navigation-policy.ts';
import { permissionAllowed } from './permission-policy.ts';
import { startUp } from './startup.ts';

const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const WEB_ROOT = fileURLToPath(new URL('../renderer/', import.meta.url));

let homeserver: Homeserver | undefined;
let mainWindow: BrowserWindow | undefined;
/** The only origin the window may show and the only page the token goes to; set once started. */
let appOrigin: string | undefined;

function log(message: string, error?: unknown): void {
  console.error(`[hearth] ${message}${error === undefined ? '' : `: ${(error as Error)?.stack ?? String(error)}`}`);
}

// Every renderer sandboxed, whatever its webPreferences say.
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  // Another Hearth owns this user's data and port; it focuses its window (second-instance below).
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow === undefined || mainWindow.isDestroyed()) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  // No tray yet, so a homeserver running without a window would be invisible: quit with the last
  // window on every platform, macOS included.
  app.on('window-all-closed', () => app.quit());
  stopHomeserverOnQuit();
  // `npm start` forwards Ctrl-C as SIGINT; quit through Electron so the homeserver stops cleanly.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

  app
    .whenReady()
    .then(run)
    .catch(async (error: unknown) => {
      log('could not start', error);
      dialog.showErrorBox('Hearth could not start', error instanceof Error ? error.message : String(error));
      // app.exit() skips will-quit, so close the homeserver (if it got that far) here.
      await homeserver?.stop().catch((stopError: unknown) => log('error while stopping the homeserver', stopError));
      app.exit(1);
    });
}

async function run(): Promise<void> {
  denyAllPermissions();
  const userData = app.getPath('userData');
  // Chromium keeps its own files in userData; the homeserver gets a folder of its own.
  const dataDir = path.join(userData, 'homeserver');
  const portFile = path.join(userData, 'client-port');
  const webRoot = fs.existsSync(path.join(WEB_ROOT, 'index.html')) ? WEB_ROOT : undefined;
  if (webRoot === undefined) log(`the web client is not built (${WEB_ROOT} has no index.html); run npm run build`);

  let userName: string | undefined;
  try {
    userName = os.userInfo().username;
  } catch {
    userName = process.env.USER ?? process.env.USERNAME;
  }
  const localpart = localpartFor(userName);
  const handoff = new LoginTokenHandoff({
    mint: () => {
      if (homeserver === undefined) throw new Error('the homeserver is not running');
      // The desktop's one account is a server admin: its user switches LAN sharing (PUT .../org.hearth.lan/sharing).
      return homeserver.loginTokenFor(localpart, { admin: true });
    },
  });
  const tokenChannel = (channel: string, give: () => Promise<LoginToken | null>) =>
    ipcMain.handle(channel, async (event) => {
      if (appOrigin === undefined || !isAppPage(appOrigin, event.senderFrame?.url)) return null;
      try {
        return await give();
      } catch (error) {
        log('could not mint a login token', error);
        return null;
      }
    });
  tokenChannel(GET_LOGIN_TOKEN_CHANNEL, () => handoff.take());
  tokenChannel(SIGN_IN_AGAIN_CHANNEL, () => handoff.signInAgain());
  // A click on one of the page's notifications: show the window it belongs to.
  ipcMain.on(FOCUS_WINDOW_CHANNEL, (event) => {
    if (appOrigin === undefined || !isAppPage(appOrigin, event.senderFrame?.url)) return;
    if (mainWindow === undefined || mainWindow.isDestroyed()) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  });

  const started = await startUp({
    startHomeserver: async () => {
      const running = await startDesktopHomeserver({ dataDir, portFile, ...(webRoot === undefined ? {} : { webRoot }) });
      homeserver = running.homeserver;
      if (running.movedPort) log('the remembered port was taken; the client moved to a new port');
      appOrigin = new URL(running.clientUrl).origin;
      return running;
    },
    prepareLoginToken: () => handoff.prepare(),
    createWindow: (origin) => createMainWindow(origin),
    loadUrl: (window, url) => window.loadURL(url),
  });
  log(`ready: ${started.clientUrl} as ${started.userId}`);
}

function createMainWindow(origin: string): BrowserWindow {
  const window = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 640,
    minHeight: 480,
    title: 'Hearth',
    show: false,
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#1e1e1e' : '#ffffff',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      navigateOnDragDrop: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined;
  });
  keepToOrigin(window.webContents, origin);
  mainWindow = window;
  return window;
}

/** Navigation, redirects and new windows go through navigationPolicy: same origin stays, http(s) elsewhere opens in the system browser, the rest is refused. */
function keepToOrigin(contents: WebContents, origin: string): void {
  const apply = (url: string, prevent: () => void, isMainFrame: boolean): void => {
    if (!isMainFrame) return; // subframes are the page's business, bounded by its CSP
    const decision = navigationPolicy(origin, url);
    if (decision === 'allow') return;
    prevent();
    if (decision === 'external') openExternal(url);
    else log(`refused navigation to ${url}`);
  };
  contents.on('will-navigate', (event) => apply(event.url, () => event.preventDefault(), event.isMainFrame));
  contents.on('will-redirect', (event) => apply(event.url, () => event.preventDefault(), event.isMainFrame));
  contents.setWindowOpenHandler(({ url }) => {
    // One window only: even a same-origin window.open is refused.
    if (navigationPolicy(origin, url) === 'external') openExternal(url);
    return { action: 'deny' };
  });
}

function openExternal(url: string): void {
  shell.openExternal(url).catch((error: unknown) => log(`could not open ${url} in the browser`, error));
}

/** Applies to every web contents, including any we did not create ourselves. */
function hardenWebContents(contents: WebContents): void {
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Camera, microphone, geolocation...: all refused; only the app page's notifications are allowed (permission-policy.ts). */
function denyAllPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) =>
    callback(permissionAllowed(appOrigin, permission, details.requestingUrl)),
  );
  session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) => permissionAllowed(appOrigin, permission, requestingOrigin));
  session.defaultSession.setDevicePermissionHandler(() => false);
}

/** Holds the quit until the homeserver has closed its listener and SQLite; then quits for real. */
function stopHomeserverOnQuit(): void {
  let stopping: Promise<void> | undefined;
  app.on('will-quit', (event) => {
    if (homeserver === undefined) return;
    event.preventDefault();
    if (stopping !== undefined) return;
    const hs = homeserver;
    stopping = hs
      .stop()
      .catch((error: unknown) => log('error while stopping the homeserver', error))
      .finally(() => {
        homeserver = undefined;
        app.quit();
      });
  });
}
