// End to end: the Drills screen of the console served by `lifeline serve`, in real headless
// Chromium. Runs the index-lost drill (on a sandbox copy of the data root, never the live one),
// sees it PASS with its times, finds it in the history with its steps and in the chart, checks
// that a real-services drill asks first, and saves a monthly schedule.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, screenshotWhole, waitOrError, servedConsole } from '../helpers/browser.js';
import { TEST_OUTPUT } from '../helpers/env.js';

const chromiumCheck = chromiumAvailable();
if (!chromiumCheck.ok) console.warn(`skipping the drills console end-to-end test: ${chromiumCheck.reason}`);

describe.skipIf(!chromiumCheck.ok)('the Drills screen in headless Chromium', () => {
  const c = servedConsole();

  const shot = (page: Page, name: string) => screenshotWhole(page, path.join(TEST_OUTPUT, name), 8000);


  it('runs index-lost to a PASS with its times, lists it in the history and chart, and saves a monthly schedule', async () => {
    const page = await c.browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(c.server.consoleUrl);
    await expect.poll(() => page.getByTestId('status-ready').getAttribute('data-status'), { timeout: 30_000 }).toBe('ready');

    // Drills: the explanation (sandbox copy; the two real-services exceptions) and one card per scenario.
    await page.getByTestId('nav-drills').click();
    await page.getByTestId('screen-drills').waitFor();
    expect(await page.getByTestId('drills-intro').textContent()).toMatch(/沙箱/);
    expect(await page.getByTestId('drills-real-warning').textContent()).toMatch(/容器停止.*端口冲突/);
    const cards = page.getByTestId('drill-card');
    await expect.poll(() => cards.count()).toBe(10);
    const card = page.locator('[data-testid="drill-card"][data-scenario="index-lost"]');
    expect(await card.textContent()).toMatch(/FAISS/);
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 15_000 }).toBe('never');
    expect(await page.getByTestId('drill-history-none').count()).toBe(1);

    // A real-services drill asks first; cancelling runs nothing.
    await page.locator('[data-testid="drill-run"][data-scenario="port-conflict"]').click();
    await page.getByTestId('drill-confirm').waitFor();
    expect(await page.getByTestId('confirm-dialog').textContent()).toMatch(/真实/);
    await page.getByTestId('confirm-cancel').click();
    await expect.poll(() => page.getByTestId('confirm-dialog').count()).toBe(0);
    expect(await page.locator('[data-testid="drill-card"][data-scenario="port-conflict"]').getAttribute('data-status')).toBe('never');

    // Run index-lost: PASS, detected and recovered, with both times.
    await page.locator('[data-testid="drill-run"][data-scenario="index-lost"]').click();
    await waitOrError(page, '[data-testid="drill-card"][data-scenario="index-lost"] [data-testid="drill-result"]', ['drill-error'], 60_000);
    await expect.poll(() => card.getAttribute('data-status'), { timeout: 60_000 }).toBe('pass');
    const result = card.getByTestId('drill-result');
    expect(await result.getAttribute('data-scenario')).toBe('index-lost');
    expect(await result.getAttribute('data-detected')).toBe('true');
    expect(await result.getAttribute('data-recovered')).toBe('true');
    expect(await result.getAttribute('data-data-lost')).toBe('false');
    const detectMs = Number(await result.getAttribute('data-detect-ms'));
    const recoverMs = Number(await result.getAttribute('data-recover-ms'));
    expect(detectMs).toBeGreaterThanOrEqual(0);
    expect(recoverMs).toBeGreaterThan(0);
    expect(recoverMs).toBeGreaterThanOrEqual(detectMs);
    expect(await result.getByTestId('drill-detect-ms').textContent()).toMatch(/\d+(\.\d+)? (ms|s)/);
    expect(await result.getByTestId('drill-recover-ms').textContent()).toMatch(/\d+(\.\d+)? (ms|s)/);
    expect(await result.getByTestId('drill-status').textContent()).toMatch(/通过/);
    expect(await page.getByTestId('drills-summary').getAttribute('data-pass')).toBe('1');

    // The history lists it; a click shows its steps (the fault, the detection, the recovery).
    const row = page.locator('[data-testid="drill-history-row"][data-scenario="index-lost"]');
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    expect(await row.getAttribute('data-status')).toBe('pass');
    await row.click();
    const steps = page.getByTestId('drill-steps');
    await steps.waitFor();
    expect(await steps.getAttribute('data-id')).toBe(await result.getAttribute('data-id'));
    const stepItems = steps.getByTestId('drill-step');
    expect(await stepItems.count()).toBeGreaterThanOrEqual(3);
    expect(await stepItems.evaluateAll((els) => els.map((e) => e.getAttribute('data-ok')))).not.toContain('false');
    expect(await steps.textContent()).toMatch(/detected:.*recovered:/s);

    // The chart has a point for it.
    const trend = page.getByTestId('drill-trend');
    await expect.poll(() => trend.getAttribute('data-points')).toBe('1');
    expect(await trend.locator('circle.drill-point').count()).toBe(1);

    // The schedule: day 15 of each month → the next run falls on a 15th.
    await page.getByTestId('drill-schedule-day').selectOption('15');
    await page.getByTestId('drill-schedule-save').click();
    await waitOrError(page, '[data-testid="drill-schedule-saved"]', ['drill-schedule-error'], 15_000);
    const next = page.getByTestId('drill-schedule-next');
    await expect.poll(() => next.getAttribute('data-monthly-day')).toBe('15');
    const nextRun = await next.getAttribute('data-next-run');
    expect(nextRun).toBeTruthy();
    expect(new Date(nextRun!).getDate()).toBe(15);
    expect(Date.parse(nextRun!)).toBeGreaterThan(Date.now());
    expect(await next.textContent()).toMatch(/-15 /);
    await shot(page, 'drills-console-zh.png');

    // The same screen in English says the same thing.
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.getByTestId('nav-drills').textContent()).toMatch(/Drills/);
    expect(await page.getByTestId('drills-intro').textContent()).toMatch(/never into the live data root/);
    expect(await result.getByTestId('drill-status').textContent()).toMatch(/PASS/);
    await shot(page, 'drills-console-en.png');
    expect(errors).toEqual([]);
  }, 90_000);
});
