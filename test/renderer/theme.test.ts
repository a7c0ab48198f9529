// The theme choice (renderer/src/lib/theme.ts) and the classic script that applies it before the
// first paint (renderer/public/theme.js), which must agree on the key and the values.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadTheme, parseTheme, setTheme, THEME_KEY, themeAttribute } from '../../renderer/src/lib/theme.ts';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

test('only light and dark are kept choices; anything else follows the system', () => {
  assert.equal(parseTheme('dark'), 'dark');
  assert.equal(parseTheme('light'), 'light');
  assert.equal(parseTheme('DARK'), 'system');
  assert.equal(parseTheme(null), 'system');
  assert.equal(themeAttribute('system'), null);
  assert.equal(themeAttribute('dark'), 'dark');
});

test('setTheme keeps light/dark, forgets system, and sets data-theme on the root', () => {
  const storage = memoryStorage();
  const root = { dataset: {} as Record<string, string> } as unknown as HTMLElement;
  setTheme('dark', storage, root);
  assert.equal(storage.data.get(THEME_KEY), 'dark');
  assert.equal(root.dataset.theme, 'dark');
  assert.equal(loadTheme(storage), 'dark');
  setTheme('system', storage, root);
  assert.equal(storage.data.has(THEME_KEY), false);
  assert.equal(root.dataset.theme, undefined);
});

test('storage that throws (disabled by privacy settings) still applies the theme and loads as system', () => {
  const root = { dataset: {} as Record<string, string> } as unknown as HTMLElement;
  const broken = {
    getItem: () => {
      throw new Error('denied');
    },
    setItem: () => {
      throw new Error('denied');
    },
    removeItem: () => {},
  };
  setTheme('light', broken, root);
  assert.equal(root.dataset.theme, 'light');
  assert.equal(loadTheme(broken), 'system');
});

test('public/theme.js reads the same key and accepts the same values', () => {
  const script = readFileSync(new URL('../../renderer/public/theme.js', import.meta.url), 'utf8');
  assert.ok(script.includes(`localStorage.getItem('${THEME_KEY}')`));
  // Run it against a fake page: it sets data-theme for a kept choice only.
  for (const [stored, expected] of [
    ['dark', 'dark'],
    ['light', 'light'],
    ['purple', undefined],
  ] as const) {
    const documentElement = { dataset: {} as Record<string, string> };
    new Function('localStorage', 'document', script)(memoryStorage({ [THEME_KEY]: stored }), { documentElement });
    assert.equal(documentElement.dataset.theme, expected, `stored ${stored}`);
  }
});
