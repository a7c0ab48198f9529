// Runs the preload the way a sandboxed renderer does: compiled to CommonJS and called with a
// `require` that knows only 'electron'. Electron's contextBridge and ipcRenderer are stand-ins
// recording what the preload asks of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import vm from 'node:vm';
import ts from 'typescript';
import { FOCUS_WINDOW_CHANNEL, GET_LOGIN_TOKEN_CHANNEL, SIGN_IN_AGAIN_CHANNEL } from '../../main/bridge.ts';

const source = fs.readFileSync(new URL('../../main/preload.cts', import.meta.url), 'utf8');

function runPreload() {
  const { outputText } = ts.transpileModule(source, {
    fileName: 'preload.cts',
    compilerOptions: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022 },
  });
  const exposed: Array<[string, unknown]> = [];
  const invoked: unknown[][] = [];
  const sent: unknown[][] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.push([key, api]) },
    ipcRenderer: {
      invoke: async (...args: unknown[]) => {
        invoked.push(args);
        return { userId: '@me:localhost', token: 'hlt_x' };
      },
      send: (...args: unknown[]) => void sent.push(args),
    },
  };
  const required: string[] = [];
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`module not found: ${name}`);
  };
  // Electron's sandboxed preload wrapper passes (require, process, exports, module).
  const wrapper = vm.runInNewContext(`(function (require, process, exports, module) {${outputText}\n})`);
  const exports = {};
  wrapper(sandboxRequire, { platform: 'linux' }, exports, { exports });
  return { exposed, invoked, sent, required };
}

test('the preload loads with only the sandbox require("electron") and exposes exactly window.hearth', () => {
  const { exposed, required } = runPreload();
  assert.deepEqual(required, ['electron']);
  assert.equal(exposed.length, 1);
  const [key, api] = exposed[0]!;
  assert.equal(key, 'hearth');
  assert.deepEqual(Object.keys(api as object).sort(), ['focusWindow', 'getLoginToken', 'platform', 'signInAgain']);
  assert.equal((api as { platform: string }).platform, 'linux');
});

test('getLoginToken invokes the channel main handles, with no arguments from the page', async () => {
  const { exposed, invoked } = runPreload();
  const api = exposed[0]![1] as { getLoginToken: (...args: unknown[]) => Promise<unknown> };
  assert.deepEqual(await api.getLoginToken('ignored', 'arguments'), { userId: '@me:localhost', token: 'hlt_x' });
  assert.deepEqual(invoked, [[GET_LOGIN_TOKEN_CHANNEL]]);
});

test('signInAgain invokes its own channel, with no arguments from the page', async () => {
  const { exposed, invoked } = runPreload();
  const api = exposed[0]![1] as { signInAgain: (...args: unknown[]) => Promise<unknown> };
  assert.deepEqual(await api.signInAgain('ignored'), { userId: '@me:localhost', token: 'hlt_x' });
  assert.deepEqual(invoked, [[SIGN_IN_AGAIN_CHANNEL]]);
});

test('focusWindow sends its own channel, with no arguments from the page', () => {
  const { exposed, invoked, sent } = runPreload();
  const api = exposed[0]![1] as { focusWindow: (...args: unknown[]) => void };
  api.focusWindow('ignored');
  assert.deepEqual(sent, [[FOCUS_WINDOW_CHANNEL]]);
  assert.deepEqual(invoked, []);
});
