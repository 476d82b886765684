// Debian's chromium driven by playwright-core (never a downloaded browser), headless, with the flags
// that keep it off the network. Playwright gives every launch a fresh temporary profile.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { BackendUnavailableError } from '../errors.js';

export const CHROMIUM_PATH = process.env.BLAZEFACE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // WebGL on the CPU (SwiftShader): recent Chromium only falls back to it when asked.
  '--enable-unsafe-swiftshader',
];

/** null when chromium can be launched, else why not. */
export function chromiumMissingReason(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `${CHROMIUM_PATH} not found (install Debian's chromium, or set BLAZEFACE_CHROMIUM)`;
}

export async function launchChromium(): Promise<Browser> {
  const missing = chromiumMissingReason();
  if (missing) throw new BackendUnavailableError('CHROMIUM_MISSING', missing);
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (err) {
    throw new BackendUnavailableError('PLAYWRIGHT_MISSING', 'the browser checks drive chromium with playwright-core: npm install --save-dev playwright-core', { cause: err });
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
