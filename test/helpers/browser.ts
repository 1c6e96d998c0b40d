// Real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core. Never
// `npx playwright install`: no browser can be downloaded here.
import fs from 'node:fs';
import { type Browser, type Page, chromium } from 'playwright-core';

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
