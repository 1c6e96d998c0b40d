// End to end: the Health screen and the Chatchat rescue screen of the console served by
// `lifeline serve`, in real headless Chromium. The Health part damages the data root out of
// band (a vector segment file is deleted), finds it with a deep check, repairs it and checks
// again; the Chatchat part inspects and imports the shared Langchain-Chatchat fixture.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, screenshotWhole, waitOrError, servedConsole } from '../helpers/browser.js';
import { CHATCHAT_FIXTURE, TEST_OUTPUT, fixturePresent } from '../helpers/env.js';

const chromiumCheck = chromiumAvailable();
if (!chromiumCheck.ok) console.warn(`skipping the health console end-to-end tests: ${chromiumCheck.reason}`);
const chatchatFixture = fixturePresent(CHATCHAT_FIXTURE);
if (!chatchatFixture.present) console.warn(`skipping the Chatchat rescue part of the console end-to-end test: ${chatchatFixture.reason}`);

describe.skipIf(!chromiumCheck.ok)('the Health and Chatchat rescue screens in headless Chromium', () => {
  const c = servedConsole();

  const shot = (page: Page, name: string) => screenshotWhole(page, path.join(TEST_OUTPUT, name), 6000);

  async function openConsole(): Promise<{ page: Page; errors: string[] }> {
    const page = await c.browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(c.server.consoleUrl);
    await expect.poll(() => page.getByTestId('status-ready').getAttribute('data-status'), { timeout: 60_000 }).toBe('ready');
    return { page, errors };
  }


  it('checks, finds a deleted segment with a deep check, repairs it, and checks clean again', async () => {
    const { page, errors } = await openConsole();
    await page.getByTestId('nav-health').click();
    await page.getByTestId('screen-health').waitFor();

    // The component cards: the catalog is ok.
    const catalog = page.locator('[data-testid="health-component"][data-component="catalog"]');
    await waitOrError(page, '[data-testid="health-component"][data-component="catalog"]', ['health-error'], 30_000);
    expect(await catalog.getAttribute('data-status')).toBe('ok');
    const ids = await page.getByTestId('health-component').evaluateAll((els) => els.map((e) => e.getAttribute('data-component')));
    expect(ids).toEqual(expect.arrayContaining(['catalog', 'indexes', 'models', 'jobs', 'backups']));
    await page.getByTestId('health-trend').waitFor();

    // Quick check: the last verify shows ok.
    await page.getByTestId('health-verify-quick').click();
    await waitOrError(page, '[data-testid="health-result"]', ['health-verify-error'], 60_000);
    const last = page.getByTestId('health-last-verify');
    await expect.poll(() => last.getAttribute('data-ok'), { timeout: 30_000 }).toBe('true');
    expect(await last.getAttribute('data-deep')).toBe('false');
    expect(await page.getByTestId('health-repair').isDisabled()).toBe(true);
    await shot(page, 'health-console-quick.png');

    // Out of band: delete one vector segment of the data root.
    const segments = path.join(c.dir, 'segments');
    const faiss = fs.readdirSync(segments).filter((f) => f.endsWith('.faiss'));
    expect(faiss.length).toBeGreaterThan(0);
    fs.rmSync(path.join(segments, faiss[0]!));

    // Deep check: the missing segment is listed, with what fixes it.
    await page.getByTestId('health-verify-deep').click();
    const missing = page.locator('[data-testid="health-problem"][data-code="segment-missing"]');
    await waitOrError(page, '[data-testid="health-problem"][data-code="segment-missing"]', ['health-verify-error'], 180_000);
    expect(await missing.first().getAttribute('data-severity')).toBe('error');
    expect(await missing.first().getAttribute('data-repair')).toBe('rebuild');
    expect((await missing.first().getByTestId('health-problem-fix').textContent())?.length).toBeGreaterThan(5);
    await expect.poll(() => last.getAttribute('data-ok'), { timeout: 30_000 }).toBe('false');
    expect(await last.getAttribute('data-deep')).toBe('true');
    await shot(page, 'health-console-problem.png');

    // Repair: the actions taken show ok.
    const repair = page.getByTestId('health-repair');
    await expect.poll(() => repair.isEnabled()).toBe(true);
    await repair.click();
    await waitOrError(page, '[data-testid="health-repair-action"]', ['health-repair-error'], 180_000);
    const actions = page.getByTestId('health-repair-action');
    expect(await actions.count()).toBeGreaterThan(0);
    expect(await actions.evaluateAll((els) => els.map((e) => e.getAttribute('data-ok')))).not.toContain('false');
    await shot(page, 'health-console-repaired.png');

    // Deep check again: no errors.
    await page.getByTestId('health-verify-deep').click();
    const result = page.getByTestId('health-result');
    await expect.poll(async () => `${await result.getAttribute('data-after-repair')} ${await result.getAttribute('data-deep')}`, { timeout: 180_000 }).toBe('false true');
    expect(await page.locator('[data-testid="health-problem"][data-severity="error"]').count()).toBe(0);
    await expect.poll(() => last.getAttribute('data-errors'), { timeout: 30_000 }).toBe('0');
    expect(fs.readdirSync(segments).filter((f) => f.endsWith('.faiss')).length).toBeGreaterThan(0);
    // The history chart has one bar per check (at least the three made here).
    await expect.poll(() => page.locator('[data-testid="health-trend"] rect.trend-bar').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    await shot(page, 'health-console-clean.png');
    expect(errors).toEqual([]);
  }, 600_000);

  it.skipIf(!chatchatFixture.present)('inspects the Chatchat samples knowledge base and imports it', async () => {
    const { page, errors } = await openConsole();
    if ((await page.getByTestId('lang-switch').getAttribute('data-locale')) !== 'en') await page.getByTestId('lang-switch').click();
    await page.getByTestId('nav-chatchat').click();
    await page.getByTestId('screen-chatchat').waitFor();

    await page.getByTestId('chatchat-dir').fill(path.join(CHATCHAT_FIXTURE, 'knowledge_base'));
    expect(await page.getByTestId('chatchat-deep').isChecked()).toBe(false);
    await page.getByTestId('chatchat-inspect').click();
    await waitOrError(page, '[data-testid="chatchat-kb"]', ['chatchat-inspect-error'], 120_000);
    const kbs = page.getByTestId('chatchat-kb');
    expect(await kbs.count()).toBe(1);
    expect(await kbs.first().getAttribute('data-kb')).toBe('samples');
    const stores = kbs.first().getByTestId('chatchat-store');
    expect(await stores.count()).toBe(1);
    expect(await stores.first().getAttribute('data-status')).toBe('ok');
    expect(await stores.first().getAttribute('data-vectors')).toBe('323');
    await shot(page, 'health-console-chatchat-report.png');

    // Import into "chatchat-samples" (the target defaults to the Chatchat name).
    const target = page.getByTestId('chatchat-import-kb');
    expect(await target.inputValue()).toBe('samples');
    await target.fill('chatchat-samples');
    await page.getByTestId('chatchat-import').click();
    await waitOrError(page, '[data-testid="chatchat-import-result"]', ['chatchat-import-error'], 300_000);
    const result = page.getByTestId('chatchat-import-result');
    expect(Number(await result.getAttribute('data-imported'))).toBeGreaterThanOrEqual(1);
    expect(await result.getAttribute('data-kb')).toBe('chatchat-samples');
    await shot(page, 'health-console-chatchat-imported.png');

    // The new knowledge base is listed.
    await page.getByTestId('nav-kb').click();
    await page.locator('[data-testid="kb-row"][data-kb="chatchat-samples"]').waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
  }, 600_000);
});
