// Builds the web client into dist/renderer, which the homeserver serves at '/' (config.webRoot).
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Hearth does not enable end-to-end encryption yet, so matrix-js-sdk's lazily loaded Rust crypto
 * (a 7.8 MB WebAssembly file) is replaced by a stub: it is never fetched, and never shipped.
 */
function noRustCrypto(): Plugin {
  const stub = '\0hearth-no-rust-crypto';
  return {
    name: 'hearth-no-rust-crypto',
    enforce: 'pre',
    resolveId(source, importer) {
      if (/rust-crypto\/index\.js$/.test(source) && importer?.includes('matrix-js-sdk')) return stub;
      return null;
    },
    load(id) {
      if (id !== stub) return null;
      return 'export async function initRustCrypto() { throw new Error("Encryption is not enabled in Hearth"); }';
    },
  };
}

export default defineConfig({
  root: here,
  base: '/',
  plugins: [noRustCrypto(), svelte({ configFile: false })],
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
