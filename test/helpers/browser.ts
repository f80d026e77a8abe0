import { chromium, type Browser } from 'playwright-core';
import { findChromium } from './chromium.ts';

/** A locally installed headless Chromium (never a downloaded browser; see findChromium), quiet: no network of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
