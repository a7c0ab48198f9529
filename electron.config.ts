// electron-builder's configuration: how `npm run package` turns dist/ into installers.
// electron-builder finds this file only when told: `electron-builder --config electron.config.ts`.

import type { Configuration } from 'electron-builder';

const config: Configuration = {
  appId: 'org.hearth.desktop',
  productName: 'Hearth',
  directories: {
    // Icons and installer assets (icon.png, icon.icns, icon.ico, background.png).
    buildResources: 'build',
    output: 'release',
  },
  // The compiled main process and homeserver and the built renderer; production dependencies
  // from node_modules are added by electron-builder itself.
  files: ['dist/**', '!dist/**/*.map'],
  // sqlite3 is a Node-API addon: one binary works under Node and Electron alike, so the prebuilt
  // one needs no rebuild against Electron's headers. Each platform is packaged on its own OS.
  npmRebuild: false,
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Network;InstantMessaging',
    maintainer: 'Hearth developers',
  },
  mac: {
    target: 'dmg',
    category: 'public.app-category.social-networking',
  },
  win: {
    target: 'nsis',
  },
};

export default config;
