// The Backups screen against the real server: a USB drive (loop-mounted ext4) plugged in while
// the console is open, a repository created on it, a backup with progress, the snapshot, and a
// restore with its confirmation and before/after summary.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { type ServeInfo, serve } from '../helpers/cli.js';
import { TEST_OUTPUT, tempDir } from '../helpers/env.js';
import { canUseLoopDevices, createLoopDrive, detachAllLoopDrives } from '../helpers/loopdev.js';

const chromium = chromiumAvailable();
const loop = canUseLoopDevices();
const skip = !chromium.ok || !loop.ok;
if (skip) console.warn(`skipping the Backups screen end-to-end test: ${!chromium.ok ? chromium.reason : loop.reason}`);

describe.skipIf(skip)('the Backups screen in headless Chromium', () => {
  const t = tempDir();
  const media = path.join(t.dir, 'media');
  let server: ServeInfo;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    fs.mkdirSync(media);
    server = await serve(['--data', path.join(t.dir, 'data')], { LIFELINE_MEDIA_ROOTS: media });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    fs.mkdirSync(TEST_OUTPUT, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    detachAllLoopDrives();
    t.cleanup();
  });

  it('notices a plugged-in drive, backs up to it with progress, and restores with a before/after summary', async () => {
    await page.goto(server.consoleUrl);
    await page.getByTestId('nav-backups').click();
    await page.getByTestId('backup-status').waitFor();
    // Plug the drive in while the screen is open: it must appear by itself within seconds.
    const drive = createLoopDrive({ sizeMiB: 32, label: 'WARD-USB', mountAt: path.join(media, 'WARD-USB'), keep: true });
    const target = page.locator(`[data-testid="backup-target"][data-path="${drive.mountpoint}"]`);
    await target.waitFor({ timeout: 15_000 });
    expect(await target.getAttribute('data-mounted')).toBe('true');
    await page.screenshot({ path: path.join(TEST_OUTPUT, 'backup-console-drive.png'), fullPage: true });

    const repo = path.join(drive.mountpoint, 'lifeline-backup');
    await page.getByTestId('backup-repo-path').fill(repo);
    await page.getByTestId('backup-repo-path').press('Enter');
    await page.getByTestId('backup-passphrase').fill('night shift passphrase');

    await page.getByTestId('backup-passphrase2').fill('night shift passphrase');
    await page.getByTestId('backup-init').click();
    await page.getByTestId('backup-run').click();
    await page.getByTestId('backup-result').waitFor({ timeout: 60_000 });
    expect(fs.existsSync(path.join(repo, 'lifeline-repo.json'))).toBe(true);
    await page.getByTestId('backup-snapshots-load').click().catch(() => undefined);
    await page.getByTestId('backup-snapshot').first().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('backup-snapshot').count()).toBe(1);
    await page.screenshot({ path: path.join(TEST_OUTPUT, 'backup-console-snapshot.png'), fullPage: true });

    // The passphrase forgotten, the next backup still runs: this data root remembers the
    // repository's write key. Reading the repository still needs the passphrase.
    await page.getByTestId('backup-forget').click();
    await page.getByTestId('backup-writekey-note').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('backup-snapshots-load').isDisabled()).toBe(true);
    await page.getByTestId('backup-run').click();
    const snapshotsOnDrive = () => fs.readdirSync(path.join(repo, 'snapshots')).filter((n) => n.endsWith('.age')).length;
    await expect.poll(snapshotsOnDrive, { timeout: 60_000 }).toBe(2);
    await page.getByTestId('backup-passphrase').fill('night shift passphrase');

    // The schedule (to this drive) and its retention: the logs' days are set on the screen and saved.
    await page.locator(`[data-testid="backup-policy-target"][data-repo="${repo}"]`).check();
    await page.getByTestId('backup-policy-keep-logs').fill('45');
    await page.getByTestId('backup-policy-save').click();
    await page.getByTestId('backup-policy-saved').waitFor({ timeout: 15_000 });
    const status = await fetch(new URL('/api/backup.status', server.url), { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` }, body: '{}' });
    expect(await status.json()).toMatchObject({ policy: { keepLogDays: 45, targets: [repo] } });

    await page.getByTestId('backup-restore').first().click();
    await page.getByTestId('backup-restore-confirm-input').fill('恢复');
    await page.getByTestId('backup-restore-confirm').click();
    const result = page.getByTestId('backup-restore-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await result.textContent()).toContain('demo');
    await page.screenshot({ path: path.join(TEST_OUTPUT, 'backup-console-restored.png'), fullPage: true });
    // The console still answers after the restore swapped the data root under it.
    await page.getByTestId('nav-ask').click();
    await page.getByTestId('ask-input').fill('如何请假？');
    await page.getByTestId('ask-submit').click();
    await page.getByTestId('citation').first().waitFor({ timeout: 30_000 });
  }, 180_000);
});
