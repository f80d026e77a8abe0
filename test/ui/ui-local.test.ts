import test from 'ava';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { diamond, startApiFixture, type ApiFixture } from '../api/api-fixture.ts';

/**
 * The UI in token-less local mode, where writes must be JSON or carry the UI's header and the Origin
 * must be the server's own: the UI's trigger (JSON body) and cancel (no body) still go through.
 */

let redis: TestRedis;
let api: ApiFixture;
let browser: Browser;
let releaseGate: () => void = () => {};
const gates = new Map([['hold', new Promise<void>((resolve) => (releaseGate = resolve))]]);

test.before(async () => {
  redis = await startTestRedis();
  api = await startApiFixture(redis, [diamond(gates)], { insecureLocal: true });
  browser = await launchChromium();
});
test.after.always(async () => {
  releaseGate();
  await browser?.close();
  await api?.close();
  await redis?.destroy();
});

test('local mode: trigger a run from the form and cancel it from its page, with no token', async (t) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const refused: string[] = [];
  page.on('response', (response) => {
    if (response.status() === 403) refused.push(`${response.request().method()} ${response.url()}`);
  });
  try {
    await page.goto(`${api.url}/#/pipelines/diamond`);
    await page.getByLabel(/^gate/).fill('hold');
    await page.getByRole('button', { name: 'Trigger run' }).click();
    await page.waitForURL(/#\/runs\/r/);
    await page.locator('#run-status', { hasText: 'running' }).waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('#run-status', { hasText: 'cancelled' }).waitFor();
    const runId = decodeURIComponent(page.url().split('#/runs/')[1]);
    t.is((await api.runtime.engine.getRun(runId)).status, 'cancelled');
    t.deepEqual(refused, []);
  } finally {
    await context.close();
  }
});
