// The client itself, loaded by main.ts once its start-up requests are on their way.
import { mount } from 'svelte';
import App from './App.svelte';

// main.ts runs `async`, possibly before the page has been parsed to the end.
function start(): void {
  mount(App, { target: document.getElementById('app')! });
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
