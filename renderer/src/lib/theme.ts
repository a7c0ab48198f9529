// The colour theme the user picked: light, dark, or the OS's (system). It is kept in
// localStorage and set as `data-theme` on <html>, which app.css reads to override the
// prefers-color-scheme tokens. public/theme.js applies the saved choice before the first paint
// (a module script may run after it); this module is what the settings screen uses.

export type ThemeChoice = 'light' | 'dark' | 'system';

/** The localStorage key; public/theme.js reads the same key. */
export const THEME_KEY = 'hearth.theme';

export const THEME_CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];

/** A stored value as a choice: anything unknown (or nothing) follows the OS. */
export function parseTheme(raw: string | null | undefined): ThemeChoice {
  return raw === 'light' || raw === 'dark' ? raw : 'system';
}

/** The `data-theme` attribute for a choice: none for system, so the media query decides. */
export function themeAttribute(choice: ThemeChoice): 'light' | 'dark' | null {
  return choice === 'system' ? null : choice;
}

export function loadTheme(storage: Pick<Storage, 'getItem'> = localStorage): ThemeChoice {
  try {
    return parseTheme(storage.getItem(THEME_KEY));
  } catch {
    // Storage can be disabled (privacy settings): follow the OS.
    return 'system';
  }
}

export function applyTheme(choice: ThemeChoice, root: HTMLElement = document.documentElement): void {
  const attr = themeAttribute(choice);
  if (attr) root.dataset.theme = attr;
  else delete root.dataset.theme;
}

/** Saves and applies at once, so the whole page changes as the user picks. */
export function setTheme(choice: ThemeChoice, storage: Pick<Storage, 'setItem' | 'removeItem'> = localStorage, root?: HTMLElement): void {
  try {
    if (choice === 'system') storage.removeItem(THEME_KEY);
    else storage.setItem(THEME_KEY, choice);
  } catch {
    // Not kept across reloads, but still applied now.
  }
  applyTheme(choice, root);
}
