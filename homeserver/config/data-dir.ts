// The default data folder: the OS's per-user application data folder, plus 'hearth'.
// Linux follows the XDG Base Directory spec; macOS and Windows use their conventional folders.

import os from 'node:os';
import path from 'node:path';

export const APP_FOLDER = 'hearth';

export function defaultDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, homeDir: string = env.HOME || os.homedir()): string {
  if (platform === 'win32') {
    const appData = env.APPDATA || path.win32.join(env.USERPROFILE || homeDir, 'AppData', 'Roaming');
    return path.win32.join(appData, APP_FOLDER);
  }
  if (platform === 'darwin') {
    return path.posix.join(homeDir, 'Library', 'Application Support', APP_FOLDER);
  }
  // XDG Base Directory spec: "If an implementation encounters a relative path in any of these
  // variables it should consider the path invalid and ignore it."
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(homeDir, '.local', 'share');
  return path.posix.join(base, APP_FOLDER);
}
