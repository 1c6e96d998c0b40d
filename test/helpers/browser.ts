// Real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core. Never
// `npx playwright install`: no browser can be downloaded here.
import fs from 'node:fs';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { type ServeInfo, serve } from './cli.js';
import { TEST_OUTPUT, tempDir } from './env.js';

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

/**
 * A picture of the whole screen: the console's main area scrolls by itself, so the viewport
 * grows to show all of it (up to maxHeight) and is put back afterwards.
 */
export async function screenshotWhole(page: Page, file: string, maxHeight = 8000): Promise<void> {
  const size = page.viewportSize() ?? { width: 1280, height: 900 };
  const extra = await page.evaluate(() => {
    const main = (globalThis as unknown as { document: { querySelector(s: string): { scrollHeight: number; clientHeight: number } | null } }).document.querySelector('main');
    return main ? Math.max(0, main.scrollHeight - main.clientHeight) : 0;
  });
  await page.setViewportSize({ width: size.width, height: Math.min(size.height + extra, maxHeight) });
  await page.screenshot({ path: file, fullPage: true });
  await page.setViewportSize(size);
}

/** Waits for `selector`, failing at once with the screen's own error message when one shows instead. */
export async function waitOrError(page: Page, selector: string, errorTestIds: readonly string[], timeout: number): Promise<void> {
  const errorSelector = errorTestIds.map((id) => `[data-testid="${id}"]`).join(', ');
  await page.locator(`${selector}, ${errorSelector}`).first().waitFor({ timeout });
  const shown = page.locator(errorSelector);
  if ((await shown.count()) > 0 && (await page.locator(selector).count()) === 0) {
    throw new Error(`the console shows an error instead of ${selector}: ${await shown.first().textContent()}`);
  }
}

/**
 * `lifeline serve` on a fresh data root and a headless Chromium, for the describe block that calls
 * this: started before its tests (`afterStart` runs between the two), stopped and removed after.
 */
export function servedConsole(opts: { afterStart?: (server: ServeInfo) => Promise<void> } = {}): { readonly dir: string; readonly server: ServeInfo; readonly browser: Browser } {
  const t = tempDir();
  let server: ServeInfo | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await serve(['--data', t.dir]);
    await opts.afterStart?.(server);
    browser = await launchChromium();
    fs.mkdirSync(TEST_OUTPUT, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    t.cleanup();
  });
  return {
    dir: t.dir,
    get server() {
      if (!server) throw new Error('the console is not served yet (use it inside a test)');
      return server;
    },
    get browser() {
      if (!browser) throw new Error('Chromium is not started yet (use it inside a test)');
      return browser;
    },
  };
}
