// Builds the web client into dist/renderer, which the homeserver serves at '/' (config.webRoot).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Parts of matrix-js-sdk that Hearth does not use, replaced by small stand-ins so that they are
 * neither shipped nor parsed at start-up: VoIP and MatrixRTC calls (the client is created with
 * disableVoip), and sliding sync. The Rust crypto is not stubbed: client.js imports it with a
 * dynamic import(), so it lands in its own chunk (and its 7.8 MB WebAssembly file in assets/),
 * which lib/crypto.ts loads once the room list is on screen. Only client.js imports them; each stand-in keeps the names
 * and methods client.js touches, so a call into one fails loudly instead of silently.
 */
const SDK_STUBS: Record<string, string> = {
  'webrtc/call.js': 'export function supportsMatrixCall() { return false; }\nexport function createNewMatrixCall() { return null; }',
  'webrtc/callEventHandler.js': 'export class CallEventHandler { start() {} stop() {} }',
  'webrtc/groupCallEventHandler.js': 'export class GroupCallEventHandler { async start() {} stop() {} }',
  'webrtc/groupCall.js': 'export class GroupCall { constructor() { throw new Error("Calls are not available in Hearth"); } }',
  'webrtc/mediaHandler.js': 'export class MediaHandler { constructor() {} async stopAllStreams() {} }',
  'matrixrtc/MatrixRTCSessionManager.js':
    'export class MatrixRTCSessionManager { start() {} stop() {} getRoomSession() { throw new Error("Calls are not available in Hearth"); } }',
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

/**
 * main.ts is a small entry that loads the client (app.ts) with a dynamic import, so that it can
 * run first. In index.html, this marks the entry `async`, so that it runs as soon as it arrives
 * (a deferred script would wait for the stylesheet and the end of parsing), and adds a
 * <link rel=modulepreload> for the client's chunks, so the browser fetches and compiles them from
 * the start, alongside the entry, not once it has run.
 */
function startEarly(): Plugin {
  return {
    name: 'hearth-start-early',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const entry = ctx.chunk;
        if (!entry || !ctx.bundle) return;
        const files = new Set<string>();
        const add = (file: string) => {
          const chunk = ctx.bundle![file];
          if (!chunk || chunk.type !== 'chunk' || files.has(file) || file === entry.fileName) return;
          files.add(file);
          chunk.imports.forEach(add);
        };
        for (const file of entry.dynamicImports) {
          const chunk = ctx.bundle[file];
          if (chunk?.type === 'chunk' && chunk.facadeModuleId?.endsWith('/src/app.ts')) add(file);
        }
        if (files.size === 0) throw new Error('the entry does not import src/app.ts dynamically');
        const entryTag = `<script type="module" crossorigin src="/${entry.fileName}">`;
        if (!html.includes(entryTag)) throw new Error(`index.html has no ${entryTag}`);
        return {
          html: html.replace(entryTag, `<script type="module" async crossorigin src="/${entry.fileName}">`),
          tags: [...files].map((file) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `/${file}` }, injectTo: 'head' as const })),
        };
      },
    },
  };
}

/**
 * Writes a brotli (`.br`) and a gzip (`.gz`) copy beside each built script and stylesheet, which
 * homeserver/http/static-files.ts sends to browsers that accept them: the client's 540 kB of
 * script travel as 130 kB, compressed once here at the highest levels rather than per request.
 */
function precompress(): Plugin {
  const LARGE_FILE = 2 * 1024 * 1024;
  return {
    name: 'hearth-precompress',
    apply: 'build',
    // Once the files are written: before that, Vite's own plugins still rewrite the chunks.
    writeBundle(options) {
      const dir = options.dir!;
      for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
        if (!/\.(js|css|html|svg|wasm)$/.test(file)) continue;
        const data = readFileSync(path.join(dir, file));
        if (data.length < 1024) continue;
        // The crypto's 7.8 MB WebAssembly takes 15 s at the highest level and 1 s at 9, for a
        // few per cent more bytes: it is fetched once per session and then cached.
        const quality = data.length > LARGE_FILE ? 9 : zlib.BROTLI_MAX_QUALITY;
        const br = brotliCompressSync(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: quality, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length } });
        writeFileSync(path.join(dir, `${file}.br`), br);
        writeFileSync(path.join(dir, `${file}.gz`), gzipSync(data, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root: here,
  base: '/',
  plugins: [sdkStubs(), svelte({ configFile: false }), startEarly(), precompress()],
  // unhomoglyph (the SDK's display-name disambiguation) requires a 100 kB JSON table. With named
  // exports, the bundle made it a module namespace of ~6300 getters (an arrow function each):
  // slow to parse and to build. Without them it is one JSON.parse of a string.
  json: { namedExports: false, stringify: true },
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an inline script, which the Content-Security-Policy forbids.
    modulePreload: { polyfill: false },
    // One stylesheet, linked from index.html, rather than one per lazily loaded chunk.
    cssCodeSplit: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 1500,
  },
});
