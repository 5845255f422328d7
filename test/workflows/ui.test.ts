/**
 * The Temporal Web UI is where users watch builds: a real Chromium opens the UI of a running build and
 * finds its summary, its stage details and the workflows filtered by our search attributes.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startBuild } from '../../src/client';
import { mergeConfigInput, type ConfigInput } from '../../src/config';
import { freePort, startDevServer, type DevServer } from '../../src/devtools/temporal';
import { startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';
import { startWorker, testClient, testConfig, testDir, waitUntil } from '../support/harness';
import { TINY_THRESHOLDS, tinyLanguages } from '../support/tiny-data';

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('the Temporal UI shows a running build (Debian chromium at /usr/bin/chromium)', () => {
  let fake: FakeOpenAi;
  let server: DevServer;
  let browser: Browser;
  let uiUrl: string;
  let dir: string;

  beforeAll(async () => {
    fake = await startFakeOpenAi({ faults: { latencyMs: 1_500 } });
    dir = testDir('ui');
    const [port, uiPort] = [await freePort(), await freePort()];
    server = await startDevServer({ binary: inject('temporalBinary'), port, uiPort, namespace: 'default', logFile: path.join(dir, 'temporal.log') });
    uiUrl = server.uiUrl!;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await fake?.stop();
  });

  it('lists the build by language and stage and shows its summary and live details', async () => {
    const overrides = mergeConfigInput({ ...TINY_THRESHOLDS, languages: tinyLanguages(dir, ['en', 'zh'], 2) }, { temporal: { uiUrl } }) as ConfigInput;
    const config = testConfig(dir, fake.url, overrides, server.address);
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId, uiUrl: buildUrl } = await startBuild(client, config);
      const stageId = `${buildId}/zh/chat_specific`;
      await waitUntil(async () => {
        for await (const w of client.workflow.list({ query: `WorkflowId = '${stageId}'` })) if (w.status.name === 'RUNNING') return true;
        return false;
      }, 120_000, 'the zh dialogue stage to run');

      const page = await browser.newPage();
      // The list filtered by our search attributes shows the zh stage and not the en one.
      const query = encodeURIComponent(`UltralinkBuild = '${buildId}' AND UltralinkLanguage = 'zh'`);
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${query}`);
      await page.getByText(stageId, { exact: true }).first().waitFor({ timeout: 60_000 });
      expect(await page.getByText(`${buildId}/en/chat_specific`, { exact: true }).count()).toBe(0);

      // The build's page shows the static summary set at start, and our search attributes.
      await page.goto(buildUrl);
      await page.getByText('User Metadata', { exact: true }).click({ timeout: 60_000 });
      await waitForText(page, 'ultralink build: en, zh');
      await page.getByText('Search Attributes', { exact: true }).click();
      await page.getByText('UltralinkBuild').first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: path.join(dir, 'ui-build.png'), fullPage: true });

      // A stage's page shows its live details (setCurrentDetails) once the stage has reported progress.
      await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(stageId)}`);
      await page.getByText('User Metadata', { exact: true }).click({ timeout: 60_000 });
      await waitForText(page, /kept/i);
      await page.screenshot({ path: '/tmp/ui-stage.png', fullPage: true });
      await page.close();
    } finally {
      await worker.stop();
    }
  });
});

/** Waits until `text` shows in the page or any of its frames (the UI renders user metadata in an iframe). */
async function waitForText(page: Page, text: string | RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      if ((await frame.getByText(text).count().catch(() => 0)) > 0) return;
    }
    if (Date.now() > deadline) {
      await page.screenshot({ path: '/tmp/ui-timeout.png', fullPage: true });
      throw new Error(`timed out waiting for ${String(text)} in the UI`);
    }
    await page.waitForTimeout(500);
  }
}
