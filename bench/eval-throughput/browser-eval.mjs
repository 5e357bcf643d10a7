// Drives a running BonStudio web app in Debian's headless chromium (Playwright, playwright-core) for the issue #3
// acceptance evidence: `launch` fills the New-run form for a bon-eval from a config file (the same JSON `run` takes)
// and clicks Launch; `inspect` waits for a run to succeed, then screenshots its run page and the N-sample inspector.
// Usage (ES modules resolve from the script's folder: copy it into a folder where `npm install playwright-core@1.64.1` ran):
//   node browser-eval.mjs launch  BASE_URL CONFIG.json            → prints "run N"
//   node browser-eval.mjs inspect BASE_URL RUN_ID OUT_PREFIX [VERIFIER] → OUT_PREFIX-run.png, OUT_PREFIX-inspector.png
//   (VERIFIER: the score layer whose Best-of-N pick the inspector highlights, e.g. reward-model#5; default: the first)
import { chromium } from 'playwright-core';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [mode, baseUrl, arg, outPrefix, verifier] = process.argv.slice(2);
if (!['launch', 'inspect'].includes(mode) || !baseUrl || !arg) {
  console.error('usage: browser-eval.mjs launch BASE_URL CONFIG.json | inspect BASE_URL RUN_ID OUT_PREFIX');
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), 'bs-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1600, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(120_000);
  const url = path => new URL(path, baseUrl).toString();

  if (mode === 'launch') {
    const file = JSON.parse(readFileSync(arg, 'utf8'));
    await page.goto(url(`runs/new?kind=${encodeURIComponent(file.kind)}`));
    // Clicks before the Blazor circuit is interactive are lost: wait for the page's own flag.
    await page.waitForSelector("[data-page='new-run'][data-interactive='true']");
    if (file.name) await page.fill('#run-name', file.name);
    for (const [field, value] of Object.entries(file.config)) {
      if (typeof value === 'boolean') {
        const input = page.locator(`input#cfg-${field}, #cfg-${field} input`).first();
        if ((await input.isChecked()) !== value) await input.click();
      } else if ((await page.getAttribute(`#cfg-${field}`, 'type')) === 'hidden') {
        // A choice (MudSelect): its input is hidden; open the list and click the item when the value differs.
        if ((await page.inputValue(`#cfg-${field}`)) !== String(value)) {
          await page.locator(`#cfg-${field}`).locator('xpath=ancestor::div[contains(@class, "mud-select")][1]').click();
          await page.locator('.mud-popover-open .mud-list-item').filter({ hasText: new RegExp(`^${value}$`) }).click();
        }
      } else {
        await page.fill(`#cfg-${field}`, Array.isArray(value) ? value.join(', ') : String(value));
      }
    }
    const launch = page.locator('#launch-run');
    await launch.waitFor();
    if (await launch.isDisabled()) {
      const errors = await page.locator('[data-error-for], .mud-input-helper-text.mud-input-error').allInnerTexts();
      throw new Error('the form refused the config: ' + errors.join(' | '));
    }
    await launch.click();
    await page.waitForURL(/\/runs\/\d+$/);
    console.log('run ' + page.url().match(/\/runs\/(\d+)$/)[1]);
  } else {
    const runId = arg;
    await page.goto(url(`runs/${runId}`));
    await page.waitForSelector("[data-page='run-detail'][data-interactive='true']");
    // The run page follows the run live; wait (without reloading) until it has finished.
    const detail = page.locator("[data-page='run-detail']");
    for (;;) {
      const status = await detail.getAttribute('data-run-status');
      if (status === 'succeeded') break;
      if (status === 'failed' || status === 'cancelled') throw new Error(`run ${runId} ended ${status}`);
      await page.waitForTimeout(5_000);
    }
    await page.waitForTimeout(2_000);
    await page.screenshot({ path: `${outPrefix}-run.png`, fullPage: true });

    await page.goto(url(`inspector/${runId}` + (verifier ? `?verifier=${encodeURIComponent(verifier)}` : '')));
    await page.waitForSelector("[data-page='inspector'][data-interactive='true']");
    await page.waitForSelector("[data-testid='prompt-key']");
    // Show a prompt that the model solved at least once (c/n > 0), so the verdicts and the BoN pick are visible.
    const rows = page.locator('tr[data-set-id]');
    const count = await rows.count();
    for (let i = 0; i < count; i++) {
      const cn = (await rows.nth(i).locator('td').nth(1).innerText()).trim();
      const [c, n] = cn.split('/').map(Number);
      if (c > 0 && c < n) { await rows.nth(i).click(); break; }
    }
    await page.waitForTimeout(1_500);
    const key = await page.locator("[data-page='inspector']").getAttribute('data-selected-key');
    const picks = await page.locator("[data-bon-pick='true']").count();
    await page.screenshot({ path: `${outPrefix}-inspector.png`, fullPage: false });
    console.log(`inspector: run ${runId}, prompt ${key}, ${picks} BoN-picked sample(s) highlighted`);
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
