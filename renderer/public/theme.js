/* global document */
// Applies the saved colour theme before the first paint: a classic script in <head>, which runs
// before the page is drawn, unlike the module scripts. Kept tiny and in step with
// src/lib/theme.ts (same key, same values); the page's CSP allows scripts from 'self' only,
// hence a file rather than an inline script.
try {
  var theme = localStorage.getItem('hearth.theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
} catch (e) {
  // Storage disabled: follow the OS.
}
