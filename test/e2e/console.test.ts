// End to end: the console served by `lifeline serve`, in real headless Chromium.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, servedConsole } from '../helpers/browser.js';
import { TEST_OUTPUT } from '../helpers/env.js';

const chromiumCheck = chromiumAvailable();
if (!chromiumCheck.ok) console.warn(`skipping the console end-to-end tests: ${chromiumCheck.reason}`);

describe.skipIf(!chromiumCheck.ok)('the console in headless Chromium', () => {
  const c = servedConsole();

  it('asks the demo question in Chinese and shows a cited answer, without leaving loopback', async () => {
    const page = await c.browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    const offLoopback: string[] = [];
    page.on('request', (req) => {
      const u = new URL(req.url());
      if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) && u.protocol !== 'data:') offLoopback.push(req.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(c.server.consoleUrl);
    // The token moves from the address bar into session storage.
    await page.waitForFunction(() => !(globalThis as unknown as { location: { hash: string } }).location.hash.includes('token'));
    await expect.poll(() => page.getByTestId('status-ready').textContent(), { timeout: 30_000 }).toMatch(/就绪|ready/i);
    await page.getByTestId('ask-input').fill('如何请假？');
    await page.getByTestId('ask-submit').click();
    const answer = page.getByTestId('answer');
    await answer.waitFor({ timeout: 30_000 });
    expect(await answer.textContent()).toContain('请假');
    const citations = page.getByTestId('citation');
    await citations.first().waitFor();
    expect(await citations.count()).toBeGreaterThan(0);
    expect(await citations.first().textContent()).toContain('请假制度.md');
    await page.screenshot({ path: path.join(TEST_OUTPUT, 'console-ask-zh.png'), fullPage: true });
    expect(offLoopback).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('switches the console to English and shows a plain "not covered" answer for an unrelated question', async () => {
    const page = await c.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(c.server.consoleUrl);
    await page.getByTestId('lang-switch').click();
    const switcher = page.getByTestId('lang-switch');
    if ((await switcher.evaluate((el) => el.tagName)) === 'SELECT') await switcher.selectOption('en');
    await expect.poll(() => page.getByTestId('nav-ask').textContent()).toMatch(/Ask/);
    await page.getByTestId('ask-input').fill('Who won the football world cup in 1998?');
    await page.getByTestId('ask-submit').click();
    await page.getByTestId('not-covered').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('citation').count()).toBe(0);
    await page.screenshot({ path: path.join(TEST_OUTPUT, 'console-not-covered-en.png') });
  });

  it('shows nothing but an explanation when opened without the token', async () => {
    const page = await c.browser.newPage();
    await page.goto(c.server.url);
    const body = await page.locator('body').textContent();
    expect(body).toMatch(/lifeline serve/);
    expect(await page.getByTestId('answer').count()).toBe(0);
  });
});
