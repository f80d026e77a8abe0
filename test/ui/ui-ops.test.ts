/**
 * The operators' views in a real browser: the history grid and pipeline summaries, finding a run by
 * id, a run's artifacts (shown as text, never as markup), and keyboard focus across live updates.
 */
import test from 'ava';
import type { Page } from 'playwright-core';
import { REPORT_MD, diamond, failing, type ApiFixture } from '../api/api-fixture.ts';
import { axeViolations, startUiSession, type UiSession } from '../helpers/ui-session.ts';

let session: UiSession;
let api: ApiFixture;
const gates = new Map<string, Promise<void>>();
let release: () => void = () => {};
gates.set('hold', new Promise<void>((resolve) => (release = resolve)));
let okRunId = '';
let failedRunId = '';

test.before(async () => {
  session = await startUiSession([diamond(gates), failing()]);
  api = session.api;
  const { engine } = api.runtime;
  okRunId = (await engine.trigger(diamond(), { params: { n: 2 } })).runId;
  failedRunId = (await engine.trigger(failing(), {})).runId;
  await Promise.all([okRunId, failedRunId].map((id) => engine.waitForRun(id, { timeoutMs: 20_000 })));
});
test.after.always(async () => {
  release();
  await session?.close();
});

/** Resolves after `selector`'s subtree changed `times` times (a live update happened), bounded by playwright's timeout. */
async function mutations(page: Page, selector: string, times: number): Promise<void> {
  await page.evaluate(
    ([sel, n]) =>
      new Promise<void>((resolve) => {
        let seen = 0;
        new MutationObserver((_records, observer) => {
          if (++seen >= n) {
            observer.disconnect();
            resolve();
          }
        }).observe(document.querySelector(sel as string)!, { childList: true, subtree: true });
      }),
    [selector, times] as const,
  );
}

test.serial('pipeline page: a runs × steps grid with icons; a cell opens that step of that run; graph nodes are not tab stops', async (t) => {
  await session.withPage(t, 'history-grid', async (page) => {
    await page.goto(`${api.url}/#/pipelines/fails`);
    const cell = page.locator(`#history-grid a[data-run="${failedRunId}"][data-step="validate"]`);
    await cell.waitFor();
    t.is(await cell.getAttribute('data-status'), 'failed');
    t.is((await cell.textContent())?.trim(), '✗', 'an icon, not colour alone');
    t.is(await cell.getAttribute('aria-label'), `validate in run ${failedRunId}: failed`);
    t.is(await page.locator(`#history-grid a[data-run="${failedRunId}"][data-step="publish"]`).textContent(), '⤼');
    t.is(await page.locator('svg.dag .node[tabindex]').count(), 0, 'nodes that do nothing are not focusable');
    await cell.click();
    await page.waitForURL(new RegExp(`#/runs/${failedRunId}\\?step=validate$`));
    await page.locator('#detail-step', { hasText: 'validate' }).waitFor();
    await page.screenshot({ path: 'test-results/history-grid.png' });
  });
});

test.serial('pipelines list: last run, success rate, next run in its zone, duration trend', async (t) => {
  await session.withPage(t, 'pipelines-list', async (page) => {
    await page.goto(`${api.url}/#/pipelines`);
    const fails = page.locator('tr[data-pipeline="fails"]');
    await fails.waitFor();
    t.regex((await fails.locator('.hist-last').textContent()) ?? '', /failed/);
    t.regex((await fails.locator('.hist-rate').textContent()) ?? '', /^0%/);
    t.regex((await fails.locator('.hist-next').textContent()) ?? '', /not scheduled/);
    const dia = page.locator('tr[data-pipeline="diamond"]');
    t.regex((await dia.locator('.hist-rate').textContent()) ?? '', /^100%/);
    t.regex((await dia.locator('.hist-next').textContent()) ?? '', /hourly, zone UTC/);
    t.regex((await dia.locator('.hist-trend svg').getAttribute('aria-label')) ?? '', /durations of the last 1 finished runs/);
  });
});

test.serial('find a run: an exact id or a unique start of one opens it; an ambiguous start filters the list', async (t) => {
  await session.withPage(t, 'find-run', async (page) => {
    await page.goto(`${api.url}/#/runs`);
    const box = page.getByLabel('Run id or its start');
    await box.fill(failedRunId.slice(0, -3));
    await box.press('Enter');
    await page.waitForURL(new RegExp(`#/runs/${failedRunId}$`));
    await page.goto(`${api.url}/#/runs`);
    await page.getByLabel('Run id or its start').fill(okRunId);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(new RegExp(`#/runs/${okRunId}$`));
    // "r" starts every generated id: the list, filtered by that start.
    await page.goto(`${api.url}/#/runs`);
    await page.getByLabel('Run id or its start').fill('r');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/id=r/);
    await page.locator(`tr[data-run="${okRunId}"]`).waitFor();
  });
});

test.serial('artifacts: listed on the run page, viewed as text (markup is not run), downloaded with their name', async (t) => {
  await session.withPage(t, 'artifacts', async (page) => {
    await page.goto(`${api.url}/#/runs/${failedRunId}`);
    await page.getByRole('button', { name: 'View report.md' }).click();
    const text = page.locator('#artifact-text');
    await text.waitFor();
    t.is(await text.textContent(), REPORT_MD);
    t.is(await page.locator('#artifact-viewer img').count(), 0, 'the <img> in the report is text');
    t.is(await page.evaluate(() => document.body.dataset.injected), undefined);
    t.is(await page.evaluate(() => document.activeElement?.id), 'artifact-text', 'focus moves to the shown text (scrollable by keyboard)');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download report.md' }).click()]);
    t.is(download.suggestedFilename(), 'report.md');
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    t.is(Buffer.concat(chunks).toString('utf8'), REPORT_MD);
  });
});

test.serial('keyboard focus survives live updates (timeline every second) and used-up actions (cancel, retry)', async (t) => {
  const { runId } = await api.runtime.engine.trigger(diamond(gates), { params: { gate: 'hold' } });
  await session.withPage(t, 'focus-live', async (page) => {
    await page.goto(`${api.url}/#/runs/${runId}`);
    await page.locator('svg.dag .node[data-step="a"][data-status="succeeded"]').waitFor();
    const stepButton = page.locator('.gantt button[data-focus-key="a"]');
    await stepButton.focus();
    await mutations(page, '.gantt', 2); // the running timeline re-draws every second
    t.is(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.focusKey), 'a');

    const cancel = page.getByRole('button', { name: 'Cancel run' });
    await cancel.focus();
    await page.keyboard.press('Enter');
    await page.locator('#run-status', { hasText: 'cancelled' }).waitFor();
    await page.getByRole('button', { name: 'Retry failed steps' }).waitFor();
    t.is(await page.evaluate(() => document.activeElement?.id), 'run-title', 'Cancel is gone: focus is on the run title, not <body>');

    await page.getByRole('button', { name: 'Retry failed steps' }).focus();
    release();
    await page.keyboard.press('Enter');
    await page.locator('#run-status', { hasText: 'succeeded' }).waitFor();
    t.not(await page.evaluate(() => document.activeElement?.tagName), 'BODY');
  });
});

test.serial('trigger form: errors are announced and focus stays on the button', async (t) => {
  await session.withPage(t, 'form-focus', async (page) => {
    await page.goto(`${api.url}/#/pipelines/diamond`);
    await page.getByLabel(/^n/).fill('1000');
    const button = page.getByRole('button', { name: 'Trigger run' });
    await button.focus();
    await page.keyboard.press('Enter');
    const alert = page.locator('form [role="alert"]');
    await alert.filter({ hasText: /n: .*100/ }).waitFor();
    t.is(await page.evaluate(() => document.activeElement?.textContent), 'Trigger run');
  });
});

test.serial('axe-core: no serious or critical violation on the new views', async (t) => {
  await session.withPage(t, 'axe-ops', async (page) => {
    const found: string[] = [];
    const check = async (label: string) => found.push(...(await axeViolations(page)).map((v) => `${label} ${v}`));
    await page.goto(`${api.url}/#/pipelines`);
    await page.locator('tr[data-pipeline="fails"] .hist-last').waitFor();
    await check('pipelines list');
    await page.goto(`${api.url}/#/pipelines/fails`);
    await page.locator('#history-grid a').first().waitFor();
    await check('history grid');
    await page.goto(`${api.url}/#/runs/${failedRunId}?step=validate`);
    await page.getByRole('button', { name: 'View report.md' }).click();
    await page.locator('#artifact-text').waitFor();
    await check('run with artifact');
    await page.goto(`${api.url}/#/runs?id=r`);
    await page.locator('tbody tr').first().waitFor();
    await check('runs filtered by id start');
    t.deepEqual(found, []);
  });
});
