import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const PLACES = [
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/snap/bin/chromium',
];

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The Chromium the UI tests drive (never downloaded): CONVEYOR_CHROMIUM, else the usual names on
 * PATH, else the usual install places. Throws one line saying how to get one.
 */
export function findChromium(): string {
  const fromEnv = process.env.CONVEYOR_CHROMIUM;
  if (fromEnv) {
    if (executable(fromEnv)) return fromEnv;
    throw new Error(`CONVEYOR_CHROMIUM=${fromEnv} is not an executable file`);
  }
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const found = [...NAMES.flatMap((name) => dirs.map((dir) => join(dir, name))), ...PLACES].find(executable);
  if (found) return found;
  throw new Error(
    `the UI tests need Chromium and found none (${NAMES.join(', ')} on PATH, or CONVEYOR_CHROMIUM): ` +
      'install it with `apt-get install chromium` (Debian/Ubuntu) or `brew install --cask chromium` (macOS)',
  );
}
