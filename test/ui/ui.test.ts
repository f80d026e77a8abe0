import test from 'ava';
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { axeViolations, pages } from '../helpers/ui-page.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { ADMIN, diamond, failing, seedModel, startApiFixture, type ApiFixture } from '../api/api-fixture.ts';

let redis: TestRedis;
let api: ApiFixture;
let browser: Browser;
const gates = new Map<string, Promise<void>>();
let releaseGate: () => void = () => {};
gates.set('ui', new Promise<void>((resolve) => (releaseGate = resolve)));

test.before(async () => {
  mkdirSync('test-results', { recursive: true });
  redis = await startTestRedis();
  api = await startApiFixture(redis, [diamond(gates), failing()]);
  await seedModel(api.registry);
  browser = await launchChromium();
});
test.after.always(async () => {
  releaseGate();
  await browser?.close();
  await api?.close();
  await redis?.destroy();
});

const withPage = pages(() => browser, () => api.url);

test.serial('trigger from the form: 422 shown inline, then a run whose graph nodes turn green live', async (t) => {
  await withPage(t, 'trigger', async (page) => {
    await page.goto(`${api.url}/#/pipelines/diamond`);
    const n = page.getByLabel(/^n/);
    await n.fill('1000');
    await page.getByRole('button', { name: 'Trigger run' }).click();
    await page.locator('#param-n-error').filter({ hasText: /100/ }).waitFor();
    t.is(await n.getAttribute('aria-invalid'), 'true');

    await n.fill('3');
    await page.getByLabel(/^gate/).fill('ui');
    await page.getByRole('button', { name: 'Trigger run' }).click();
    await page.waitForURL(/#\/runs\/r/);
    const node = (step: string) => page.locator(`svg.dag .node[data-step="${step}"]`);
    // a and c finish; b waits on its gate, so the run is still running on this very page.
    await node('a').and(page.locator('[data-status="succeeded"]')).waitFor();
    await node('c').and(page.locator('[data-status="succeeded"]')).waitFor();
    t.is(await node('d').getAttribute('data-status'), 'pending');
    t.is(await page.locator('#run-status').textContent(), 'running');
    releaseGate();
    await node('d').and(page.locator('[data-status="succeeded"]')).waitFor();
    await page.locator('#run-status', { hasText: 'succeeded' }).waitFor();
    for (const step of ['a', 'b', 'c', 'd']) t.is(await node(step).getAttribute('data-status'), 'succeeded');
    const fill = await node('d').locator('rect').evaluate((el) => getComputedStyle(el).fill);
    t.is(fill, 'rgb(47, 179, 104)', 'succeeded nodes are green');

    // Keyboard: focus a node, Enter opens its detail with output and the redacted log line.
    await node('a').focus();
    await page.keyboard.press('Enter');
    await page.locator('#detail-step', { hasText: 'a' }).waitFor();
    t.regex((await page.locator('#step-output').textContent()) ?? '', /"n": 3/);
    t.regex((await page.locator('#step-logs').textContent()) ?? '', /connecting with password=\*\*\*/);
    await page.screenshot({ path: 'test-results/run-page.png' });
  });
});

test.serial("a failed run: the failed step's error is shown", async (t) => {
  const { runId } = await api.runtime.engine.trigger(failing(), {});
  await api.runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
  await withPage(t, 'failed-step', async (page) => {
    await page.goto(`${api.url}/#/runs`);
    await page.getByRole('link', { name: runId }).click();
    await page.locator('svg.dag .node[data-step="validate"][data-status="failed"]').waitFor();
    await page.locator('svg.dag .node[data-step="validate"]').click();
    const error = await page.locator('#step-error').textContent();
    t.regex(error ?? '', /expected column "age" to be numeric, found "abc" in row 2/);
    t.is(await page.locator('svg.dag .node[data-step="publish"]').getAttribute('data-status'), 'skipped');
    await page.getByRole('button', { name: 'Retry failed steps' }).waitFor();
  });
});

test.serial('models: promote a version through the confirmation dialog; history records it', async (t) => {
  await withPage(t, 'promote', async (page) => {
    await page.goto(`${api.url}/#/models/churn`);
    await page.locator('svg.chart polyline').waitFor();
    t.is(await page.locator('#aliases tr[data-alias="production"] .alias-version').textContent(), 'v1');
    await page.locator('#versions tr[data-version="3"]').getByRole('button', { name: 'Promote…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason').fill('v3 has the best f1');
    await dialog.getByRole('button', { name: 'Promote' }).click();
    await page.locator('#aliases tr[data-alias="production"] .alias-version', { hasText: 'v3' }).waitFor();
    t.regex((await page.locator('#history').textContent()) ?? '', /v3 has the best f1/);
    t.is((await api.registry.aliases('churn')).production, 3);
    await page.screenshot({ path: 'test-results/models-page.png' });
  });
});

test.serial('readable at 390px: no horizontal page scroll on runs, run and models pages', async (t) => {
  await withPage(
    t,
    'narrow',
    async (page) => {
      for (const hash of ['#/runs', '#/models/churn', '#/queues', '#/pipelines/diamond']) {
        await page.goto(`${api.url}/${hash}`);
        await page.locator('h1').first().waitFor();
        await page.waitForLoadState('networkidle').catch(() => {});
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        t.true(overflow <= 1, `${hash} overflows by ${overflow}px`);
      }
      await page.screenshot({ path: 'test-results/narrow-models.png', fullPage: true });
    },
    { width: 390, height: 844 },
  );
});

test.serial('runs list: filters apply on submit (arrow keys do not navigate); a refresh keeps keyboard focus', async (t) => {
  const { runId } = await api.runtime.engine.trigger(failing(), {});
  await api.runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
  await withPage(t, 'runs-filters', async (page) => {
    await page.goto(`${api.url}/#/runs`);
    await page.getByRole('link', { name: runId }).waitFor();
    const status = page.getByLabel('Status');
    await status.focus();
    await page.keyboard.press('ArrowDown');
    t.notRegex(page.url(), /status=/, 'moving through the select does not navigate');
    await status.selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/status=failed/);
    await page.getByRole('link', { name: runId }).waitFor();
    const statuses = await page.locator('tbody tr .badge').allTextContents();
    t.true(statuses.length > 0 && statuses.every((s) => s.includes('failed')), statuses.join(','));

    await page.getByRole('link', { name: runId }).focus();
    for (let i = 0; i < 2; i++) await page.waitForResponse((r) => r.url().includes('/api/v1/runs?'));
    t.is(await page.evaluate(() => document.activeElement?.textContent), runId, 'focus stays on the link across live refreshes');
  });
});

test.serial('favicon exists; responses are gzip-compressed; every time says its zone and a toggle switches UTC/local', async (t) => {
  for (const path of ['/favicon.ico', '/ui/favicon.svg']) {
    const res = await fetch(`${api.url}${path}`);
    t.is(res.status, 200, path);
    t.regex(res.headers.get('content-type') ?? '', /image\/svg\+xml/);
  }
  for (const path of ['/ui/runs.js', '/api/v1/openapi.json']) {
    const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${ADMIN}`, 'accept-encoding': 'gzip' } });
    t.is(res.status, 200, path);
    t.is(res.headers.get('content-encoding'), 'gzip', path);
    t.regex(res.headers.get('vary') ?? '', /accept-encoding/i);
    t.true((await res.text()).length > 0, 'fetch decodes it');
  }
  const { runId } = await api.runtime.engine.trigger(failing(), {});
  await api.runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
  await withPage(t, 'time-zone', async (page) => {
    await page.goto(`${api.url}/#/runs`);
    const created = page.locator(`tr[data-run="${runId}"] td`).nth(4);
    await created.waitFor();
    const toggle = page.locator('#time-zone');
    if (/Times: UTC/.test((await toggle.textContent()) ?? '')) await toggle.click();
    await toggle.click();
    await page.locator('#time-zone', { hasText: 'Times: UTC' }).waitFor();
    await page.locator(`tr[data-run="${runId}"] td`, { hasText: 'UTC' }).waitFor();
    t.regex((await created.textContent()) ?? '', /UTC$/);
    await toggle.click();
    await page.locator('#time-zone', { hasText: 'Times: local' }).waitFor();
    await page.locator(`tr[data-run="${runId}"]`).waitFor();
    // The browser runs in some zone; whichever it is, the text names it (UTC, GMT+1, PST...).
    t.regex((await page.locator(`tr[data-run="${runId}"] td`).nth(4).textContent()) ?? '', /(UTC|GMT|[A-Z]{3,4})[+-]?\d*$/);
  });
});

test.serial('axe-core reports no serious or critical violation on any page', async (t) => {
  const { runId } = await api.runtime.engine.trigger(failing(), {});
  await api.runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
  await withPage(t, 'axe', async (page) => {
    const found: string[] = [];
    for (const [hash, ready] of [
      ['#/runs', 'tbody tr'],
      [`#/runs/${runId}`, 'svg.dag .node'],
      ['#/pipelines', 'main h1'],
      ['#/pipelines/diamond', 'main h1'],
      ['#/models', 'main h1'],
      ['#/models/churn', 'main h1'],
      ['#/queues', 'main h1'],
    ] as const) {
      await page.goto(`${api.url}/${hash}`);
      await page.locator(ready).first().waitFor();
      found.push(...(await axeViolations(page)).map((v) => `${hash} ${v}`));
    }
    t.deepEqual(found, []);
  });
});

test.serial('the run page downloads the run once (the event stream carries it), not also from GET /runs/:id', async (t) => {
  const { runId } = await api.runtime.engine.trigger(failing(), {});
  await api.runtime.engine.waitForRun(runId, { timeoutMs: 20_000 });
  await withPage(t, 'run-once', async (page) => {
    const requests: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes(`/api/v1/runs/${runId}`)) requests.push(new URL(r.url()).pathname);
    });
    await page.goto(`${api.url}/#/runs/${runId}`);
    await page.locator('svg.dag .node[data-step="validate"][data-status="failed"]').waitFor();
    await page.locator('#run-status', { hasText: 'failed' }).waitFor();
    t.deepEqual(requests.sort(), [`/api/v1/runs/${runId}/events`, `/api/v1/runs/${runId}/graph`]);
    await page.goto(`${api.url}/#/runs/r-no-such-run`);
    await page.locator('[role="alert"]').waitFor();
    t.regex((await page.locator('[role="alert"]').textContent()) ?? '', /r-no-such-run/);
  });
});
