// Builds the web client into dist/renderer, which the homeserver serves at '/' (config.webRoot).
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Parts of matrix-js-sdk that Hearth does not use, replaced by small stand-ins so that they are
 * neither shipped nor parsed at start-up: the lazily loaded Rust crypto (a 7.8 MB WebAssembly
 * file; Hearth has no end-to-end encryption yet), VoIP and MatrixRTC calls (the client is created
 * with disableVoip), and sliding sync. Only client.js imports them; each stand-in keeps the names
 * and methods client.js touches, so a call into one fails loudly instead of silently.
 */
const SDK_STUBS: Record<string, string> = {
  'rust-crypto/index.js': 'export async function initRustCrypto() { throw new Error("Encryption is not enabled in Hearth"); }',
  'webrtc/call.js': 'export function supportsMatrixCall() { return false; }\nexport function createNewMatrixCall() { return null; }',
  'webrtc/callEventHandler.js': 'export class CallEventHandler { start() {} stop() {} }',
  'webrtc/groupCallEventHandler.js': 'export class GroupCallEventHandler { async start() {} stop() {} }',
  'webrtc/groupCall.js': 'export class GroupCall { constructor() { throw new Error("Calls are not available in Hearth"); } }',
  'webrtc/mediaHandler.js': 'export class MediaHandler { constructor() {} async stopAllStreams() {} }',
  'matrixrtc/MatrixRTCSessionManager.js': 'export class MatrixRTCSessionManager { start() {} stop() {} getRoomSession() { throw new Error("Calls are not available in Hearth"); } }',
  'sliding-sync-sdk.js': 'export class SlidingSyncSdk { constructor() { throw new Error("Sliding sync is not used by Hearth"); } }',
};

function sdkStubs(): Plugin {
  const PREFIX = '\0hearth-sdk-stub:';
  return {
    name: 'hearth-sdk-stubs',
    enforce: 'pre',
    resolveId(source, importer) {
      if (!importer || !/matrix-js-sdk[\\/]lib[\\/]client\.js$/.test(importer)) return null;
      const key = source.replace(/^\.\//, '');
      return key in SDK_STUBS ? PREFIX + key : null;
    },
    load(id) {
      return id.startsWith(PREFIX) ? SDK_STUBS[id.slice(PREFIX.length)]! : null;
    },
  };
}

export default defineConfig({
  root: here,
  base: '/',
  plugins: [sdkStubs(), svelte({ configFile: false })],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an inline script, which the Content-Security-Policy forbids.
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    chunkSizeWarningLimit: 1500,
  },
});
