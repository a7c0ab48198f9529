// The window's preload: exposes `window.hearth` (HearthBridge) and nothing else.
//
// CommonJS on purpose: a sandboxed preload is run as a classic script with a small `require`
// that knows 'electron' and a few Node built-ins, and cannot import ES modules or our other
// files; hence the channel names are repeated here rather than imported from bridge.ts.

import type { HearthBridge } from './bridge.ts';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload is CommonJS
const { contextBridge, ipcRenderer } = require('electron') as typeof import('electron');

const GET_LOGIN_TOKEN_CHANNEL = 'hearth:get-login-token';
const SIGN_IN_AGAIN_CHANNEL = 'hearth:sign-in-again';
const FOCUS_WINDOW_CHANNEL = 'hearth:focus-window';

const bridge: HearthBridge = {
  // A fresh wrapper, so the page gets no handle on ipcRenderer itself.
  getLoginToken: () => ipcRenderer.invoke(GET_LOGIN_TOKEN_CHANNEL),
  signInAgain: () => ipcRenderer.invoke(SIGN_IN_AGAIN_CHANNEL),
  platform: process.platform,
  focusWindow: () => ipcRenderer.send(FOCUS_WINDOW_CHANNEL),
};

contextBridge.exposeInMainWorld('hearth', bridge);
