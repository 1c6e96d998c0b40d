// Real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core. Never
// `npx playwright install`: no browser can be downloaded here.
import fs from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.LIFELINE_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): { ok: boolean; reason: string } {
  return fs.existsSync(CHROMIUM) ? { ok: true, reason: '' } : { ok: false, reason: `no Chromium at ${CHROMIUM} (apt-get install chromium, or set LIFELINE_CHROMIUM)` };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
