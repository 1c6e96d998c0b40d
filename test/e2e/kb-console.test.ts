// End to end: managing a knowledge base from the console served by `lifeline serve`, in real
// headless Chromium — create, upload (drag-and-drop's file input), ask with a citation,
// delete a document, delete the knowledge base and restore it.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, servedConsole } from '../helpers/browser.js';
import { TEST_OUTPUT } from '../helpers/env.js';

const chromiumCheck = chromiumAvailable();
if (!chromiumCheck.ok) console.warn(`skipping the knowledge-base console end-to-end test: ${chromiumCheck.reason}`);

const KB = '药剂科';
const DOC = '发药流程.md';
const FACT = '夜间发药窗口位于门诊楼一层，电话分机 6120。';
const MARKDOWN = `# 发药流程

## 夜间发药

${FACT}夜间（22:00 至次日 7:30）急诊处方由值班药师在该窗口发药，特殊管理药品需双人核对后发放。

## 日间发药

日间门诊处方在门诊楼二层药房按叫号顺序发药。
`;

describe.skipIf(!chromiumCheck.ok)('the knowledge-base console in headless Chromium', () => {
  const c = servedConsole();

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(TEST_OUTPUT, name), fullPage: true });
  const kbRow = (page: Page, name: string) => page.locator(`[data-testid="kb-row"][data-kb="${name}"]`);
  const deletedRow = (page: Page, name: string) => page.locator(`[data-testid="kb-deleted-row"][data-kb="${name}"]`);
  const uploadItem = (page: Page, name: string) => page.locator(`[data-testid="upload-item"][data-name="${name}"]`);

  it('creates a knowledge base, uploads into it, answers from it, deletes and restores it', async () => {
    const page = await c.browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(c.server.consoleUrl);
    await expect.poll(() => page.getByTestId('status-ready').getAttribute('data-status'), { timeout: 30_000 }).toBe('ready');

    // Knowledge bases → create 药剂科.
    await page.getByTestId('nav-kb').click();
    await page.getByTestId('kb-create-name').fill(KB);
    await page.getByTestId('kb-create-description').fill('药剂科制度与流程');
    await page.getByTestId('kb-create-submit').click();
    await kbRow(page, KB).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('kb-create-error').count()).toBe(0);

    // Select it: its (empty) documents and the upload zone appear.
    await kbRow(page, KB).getByTestId('kb-select').click();
    await page.getByTestId('upload-zone').waitFor();
    await page.getByTestId('doc-empty').waitFor({ timeout: 15_000 });

    // Upload two files through the file input: a Markdown document and an empty file.
    await page.getByTestId('upload-input').setInputFiles([
      { name: DOC, mimeType: 'text/markdown', buffer: Buffer.from(MARKDOWN, 'utf8') },
      { name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) },
    ]);
    await expect.poll(() => uploadItem(page, DOC).getAttribute('data-state'), { timeout: 60_000 }).toBe('added');
    await expect.poll(() => uploadItem(page, 'empty.txt').getAttribute('data-state'), { timeout: 60_000 }).toBe('failed');
    expect(await uploadItem(page, 'empty.txt').getByTestId('upload-error').textContent()).toMatch(/empty|空/i);
    const progress = page.getByTestId('upload-progress');
    await expect.poll(() => progress.getAttribute('data-active')).toBe('false');
    expect(await progress.getAttribute('data-done')).toBe('2');
    expect(await progress.getAttribute('data-total')).toBe('2');

    // The document list shows the new document.
    await page.locator(`[data-testid="doc-row"][data-doc="${DOC}"]`).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('doc-row').count()).toBe(1);
    await shot(page, 'kb-console-uploaded.png');
    await page.getByTestId('kb-documents').screenshot({ path: path.join(TEST_OUTPUT, 'kb-console-upload-list.png') });

    // Ask, restricted to 药剂科: the answer carries the fact and cites the document.
    await page.getByTestId('nav-ask').click();
    await page.getByTestId('ask-kb').selectOption(KB);
    await page.getByTestId('ask-input').fill('夜间发药窗口在哪里？');
    await page.getByTestId('ask-submit').click();
    const answer = page.getByTestId('answer');
    await answer.waitFor({ timeout: 60_000 });
    expect(await answer.textContent()).toContain('6120');
    const citation = page.locator(`[data-testid="citation"][data-document="${DOC}"]`).first();
    await citation.waitFor();
    expect(await citation.textContent()).toContain(DOC);
    // Opening the citation shows the document and the full passage.
    await citation.locator('.citation-head').click();
    const passage = citation.getByTestId('citation-passage');
    await passage.waitFor();
    expect(await passage.getByTestId('passage-document').textContent()).toBe(DOC);
    expect(await passage.getByTestId('passage-text').textContent()).toContain('6120');
    await shot(page, 'kb-console-answer.png');

    // Back to the knowledge bases: delete the document (confirmed).
    await page.getByTestId('nav-kb').click();
    await kbRow(page, KB).getByTestId('kb-select').click();
    const docRow = page.locator(`[data-testid="doc-row"][data-doc="${DOC}"]`);
    await docRow.waitFor({ timeout: 15_000 });
    await docRow.getByTestId('doc-delete').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('doc-empty').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('doc-row').count()).toBe(0);

    // Delete the knowledge base: OK stays disabled until its name is typed exactly.
    await kbRow(page, KB).getByTestId('kb-delete').click();
    const ok = page.getByTestId('confirm-ok');
    expect(await ok.isDisabled()).toBe(true);
    await page.getByTestId('confirm-input').fill('药剂');
    expect(await ok.isDisabled()).toBe(true);
    await page.getByTestId('confirm-input').fill(KB);
    expect(await ok.isEnabled()).toBe(true);
    await shot(page, 'kb-console-delete-confirm.png');
    await ok.click();
    await deletedRow(page, KB).waitFor({ timeout: 15_000 });
    await expect.poll(() => kbRow(page, KB).count()).toBe(0);
    await shot(page, 'kb-console-recently-deleted.png');

    // Restore it.
    await deletedRow(page, KB).getByTestId('kb-undelete').click();
    await kbRow(page, KB).waitFor({ timeout: 15_000 });
    await expect.poll(() => deletedRow(page, KB).count()).toBe(0);
    await shot(page, 'kb-console-restored.png');

    expect(errors).toEqual([]);
  }, 240_000);

  it('shows the server\'s refusal inline, renames, and purges for good after typing the name (in English)', async () => {
    const page = await c.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(c.server.consoleUrl);
    await expect.poll(() => page.getByTestId('status-ready').getAttribute('data-status'), { timeout: 30_000 }).toBe('ready');
    if ((await page.getByTestId('lang-switch').getAttribute('data-locale')) !== 'en') await page.getByTestId('lang-switch').click();
    await page.getByTestId('nav-kb').click();
    await page.getByTestId('models').waitFor();

    // A name that already exists is refused by the core; the message appears under the form.
    await kbRow(page, 'demo').waitFor({ timeout: 15_000 });
    await page.getByTestId('kb-create-name').fill('demo');
    await page.getByTestId('kb-create-submit').click();
    await page.getByTestId('kb-create-error').waitFor({ timeout: 15_000 });
    expect((await page.getByTestId('kb-create-error').textContent())?.length).toBeGreaterThan(10);

    // Create, rename.
    await page.getByTestId('kb-create-name').fill('scratch');
    await page.getByTestId('kb-create-submit').click();
    await kbRow(page, 'scratch').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('kb-create-error').count()).toBe(0);
    await kbRow(page, 'scratch').getByTestId('kb-rename').click();
    await page.getByTestId('confirm-input').fill('scratch-2');
    await page.getByTestId('confirm-ok').click();
    await kbRow(page, 'scratch-2').waitFor({ timeout: 15_000 });
    expect(await kbRow(page, 'scratch').count()).toBe(0);

    // Delete, then purge: again only once the name is typed; then it is gone from both lists.
    await kbRow(page, 'scratch-2').getByTestId('kb-delete').click();
    await page.getByTestId('confirm-input').fill('scratch-2');
    await page.getByTestId('confirm-ok').click();
    await deletedRow(page, 'scratch-2').waitFor({ timeout: 15_000 });
    await deletedRow(page, 'scratch-2').getByTestId('kb-purge').click();
    expect(await page.getByTestId('confirm-dialog').textContent()).toMatch(/cannot be/i);
    expect(await page.getByTestId('confirm-ok').isDisabled()).toBe(true);
    await page.getByTestId('confirm-input').fill('scratch-2');
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => deletedRow(page, 'scratch-2').count(), { timeout: 15_000 }).toBe(0);
    expect(await kbRow(page, 'scratch-2').count()).toBe(0);
    await shot(page, 'kb-console-en.png');
    expect(errors).toEqual([]);
  }, 120_000);
});
