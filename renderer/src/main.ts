// The page's entry, kept small on purpose: it runs as soon as it arrives, while the browser is
// still compiling the client (app.ts: Svelte and matrix-js-sdk, which index.html preloads), and
// sends the signed-in start-up requests so the server answers them meanwhile (lib/prefetch.ts).
import './app.css';
import { loadSession } from './lib/session.ts';
import { prefetchStartup } from './lib/prefetch.ts';

const session = loadSession();
if (session) prefetchStartup(session);

// A page's first Intl.DateTimeFormat costs tens of ms (ICU loads the locale's date patterns),
// later ones almost nothing. The room list's times need one: pay for it while the client compiles.
setTimeout(() => new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' }).format(0));

import('./app.ts').catch((err: unknown) => {
  console.error(err);
  const root = document.getElementById('app');
  if (!root) return;
  root.textContent = 'Hearth could not load. Reload the page to try again.';
  root.setAttribute('role', 'alert');
});
