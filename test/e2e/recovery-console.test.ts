// End to end: the recovery wizard of the console served by `lifeline serve`, in real headless
// Chromium, on a fresh data root whose vector segment files are deleted out of band (the
// reference incident's lost index). The operator starts a run, finds the missing segments in
// the integrity step, repairs them, proves the answers with the golden questions, finishes,
// and gets the report with the recovery time and its export link.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, screenshotWhole, waitOrError, servedConsole } from '../helpers/browser.js';
import { TEST_OUTPUT } from '../helpers/env.js';

const chromiumCheck = chromiumAvailable();
if (!chromiumCheck.ok) console.warn(`skipping the recovery console end-to-end test: ${chromiumCheck.reason}`);

describe.skipIf(!chromiumCheck.ok)('the recovery wizard in headless Chromium', () => {
  const c = servedConsole({
    afterStart: async (s) => {
      // A fresh data root's monthly drill date is already past, so the server's scheduler would start
      // the drills a minute after start-up, in the middle of this test: turn the schedule off first.
      const res = await fetch(new URL('api/drills.setSchedule', s.url), {
        method: 'POST',
        headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ monthlyDay: null }),
      });
      expect(res.status).toBe(200);
    },
  });

  const shot = (page: Page, name: string) => screenshotWhole(page, path.join(TEST_OUTPUT, name), 8000);

  const wizardErrors = ['wizard-error', 'wizard-load-error'];

  /** Goes to a step by clicking it in the step list, and waits until its panel shows. */
  async function goToStep(page: Page, step: string): Promise<void> {
    await page.locator(`[data-testid="wizard-step"][data-step="${step}"]`).click();
    await waitOrError(page, `[data-testid="wizard-step-panel"][data-step="${step}"]`, wizardErrors, 30_000);
    await expect.poll(() => page.getByTestId('wizard-busy').count(), { timeout: 30_000 }).toBe(0);
  }

  /** Runs the checks of the step shown and waits until they are done. */
  async function runChecks(page: Page, step: string): Promise<void> {
    const panel = page.locator(`[data-testid="wizard-step-panel"][data-step="${step}"]`);
    const checkedAt = panel.getByTestId('wizard-checked-at');
    const before = (await checkedAt.count()) > 0 ? await checkedAt.textContent() : null;
    await panel.getByTestId('wizard-check').click();
    await expect
      .poll(async () => (await page.getByTestId('wizard-busy').count()) === 0 && (await checkedAt.count()) > 0 && (await checkedAt.textContent()) !== before, { timeout: 60_000 })
      .toBe(true);
    if ((await page.getByTestId('wizard-error').count()) > 0) throw new Error(`the check failed: ${await page.getByTestId('wizard-error').textContent()}`);
  }

  it('finds the deleted segments, repairs them, passes the golden questions and writes the report', async () => {
    // Out of band: the vector segment files of the fresh data root disappear.
    const segments = path.join(c.dir, 'segments');
    const files = fs.readdirSync(segments).filter((f) => fs.statSync(path.join(segments, f)).isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) fs.rmSync(path.join(segments, f));

    const page = await c.browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(c.server.consoleUrl);
    await expect.poll(() => page.getByTestId('status-ready').getAttribute('data-status'), { timeout: 30_000 }).toBe('ready');

    // Recovery → the operator's name → start.
    await page.getByTestId('nav-recovery').click();
    await page.getByTestId('screen-recovery').waitFor();
    await waitOrError(page, '[data-testid="wizard-operator"]', wizardErrors, 30_000);
    await page.getByTestId('wizard-operator').fill('值班工程师 张伟');
    await page.getByTestId('wizard-start').click();
    await waitOrError(page, '[data-testid="wizard-run"]', wizardErrors, 30_000);
    expect(await page.getByTestId('wizard-step').count()).toBe(8);

    // Integrity: the checks find the missing segments; Repair rebuilds them.
    await goToStep(page, 'integrity');
    await runChecks(page, 'integrity');
    const missing = page.locator('[data-testid="wizard-finding"][data-code="segment-missing"]');
    await expect.poll(() => missing.count(), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await missing.first().getAttribute('data-severity')).toBe('fail');
    await shot(page, 'recovery-console-integrity-missing.png');
    const repair = missing.first().locator('[data-testid="wizard-action"][data-action="repair"]');
    expect(await repair.getAttribute('data-destructive')).toBe('false');
    await repair.click();
    await waitOrError(page, '[data-testid="wizard-action-result"]', wizardErrors, 60_000);
    expect(await page.getByTestId('wizard-action-result').getAttribute('data-ok')).toBe('true');
    // The step was checked again after the repair: every finding is ok now.
    const integrity = page.locator('[data-testid="wizard-step-panel"][data-step="integrity"]');
    await expect.poll(() => integrity.getAttribute('data-status'), { timeout: 30_000 }).toBe('ok');
    const severities = await integrity.getByTestId('wizard-finding').evaluateAll((els) => els.map((e) => e.getAttribute('data-severity')));
    expect(severities.length).toBeGreaterThan(0);
    expect(new Set(severities)).toEqual(new Set(['ok']));
    expect(await page.locator('[data-testid="wizard-finding"][data-code="segment-missing"]').count()).toBe(0);
    expect(fs.readdirSync(segments).length).toBeGreaterThan(0);

    // Golden questions: every one passes (the demo set: 16 of 16).
    await goToStep(page, 'golden');
    await runChecks(page, 'golden');
    const golden = page.locator('[data-testid="wizard-finding"][data-code="golden-passed"]');
    await expect.poll(() => golden.count(), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await golden.first().getAttribute('data-severity')).toBe('ok');
    expect(await page.locator('[data-testid="wizard-finding"][data-code="golden-failed"]').count()).toBe(0);
    const counts = /(\d+) of (\d+) golden questions passed/.exec((await golden.first().textContent()) ?? '');
    expect(counts).not.toBeNull();
    expect(Number(counts![1])).toBe(Number(counts![2]));
    expect(Number(counts![2])).toBeGreaterThanOrEqual(16);
    expect(await page.locator('[data-testid="wizard-step"][data-step="golden"]').getAttribute('data-status')).toBe('ok');

    // Finish: the report, with the recovery time and the export link.
    await goToStep(page, 'report');
    await page.getByTestId('wizard-finish').click();
    await waitOrError(page, '[data-testid="wizard-finished"]', wizardErrors, 60_000);
    const report = page.getByTestId('wizard-report');
    await report.waitFor({ timeout: 30_000 });
    const time = report.getByTestId('wizard-recovery-time');
    await time.waitFor();
    expect(Number(await time.getAttribute('data-ms'))).toBeGreaterThan(0);
    expect((await time.textContent())?.trim().length).toBeGreaterThan(4);
    const exportLink = report.getByTestId('wizard-report-export');
    expect(await exportLink.getAttribute('href')).toMatch(/^(data:text\/html|blob:)/);
    expect(await exportLink.getAttribute('download')).toMatch(/\.html$/);
    expect(await page.locator('[data-testid="report-row"]').count()).toBeGreaterThanOrEqual(1);
    await shot(page, 'recovery-console-report.png');
    expect(errors).toEqual([]);
  }, 90_000);
});
