import type { ExecutionContext } from 'ava';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { Pipeline } from '../../src/dsl/pipeline.ts';
import { ADMIN, seedModel, startApiFixture, type ApiFixture } from '../api/api-fixture.ts';
import { launchChromium } from './browser.ts';
import { startTestRedis, type TestRedis } from './redis-server.ts';

/** What the browser tests share: a Redis, the API fixture (worker included), Chromium, signed-in pages. */
export interface UiSession {
  api: ApiFixture;
  browser: Browser;
  /** Runs `fn` on a fresh signed-in page; on failure saves a screenshot under test-results/. */
  withPage(t: ExecutionContext, name: string, fn: (page: Page) => Promise<void>, viewport?: { width: number; height: number }): Promise<void>;
  close(): Promise<void>;
}

export async function startUiSession(pipelines: Pipeline<any, any>[]): Promise<UiSession> {
  mkdirSync('test-results', { recursive: true });
  let redis: TestRedis | undefined;
  let api: ApiFixture | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await api?.close();
    await redis?.destroy();
  };
  try {
    redis = await startTestRedis();
    api = await startApiFixture(redis, pipelines);
    await seedModel(api.registry);
    browser = await launchChromium();
  } catch (error) {
    await close();
    throw error;
  }
  const session = { api, browser };
  return {
    ...session,
    close,
    async withPage(t, name, fn, viewport = { width: 1280, height: 800 }) {
      const context = await session.browser.newContext({ viewport });
      const page = await context.newPage();
      // The UI must work offline: any request that is not to the test server fails the test.
      const foreign: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(session.api.url) && !request.url().startsWith('blob:')) foreign.push(request.url());
      });
      try {
        await page.goto(`${session.api.url}/`);
        await page.getByLabel('API token').fill(ADMIN);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await fn(page);
        t.deepEqual(foreign, [], 'no request leaves the server');
      } catch (error) {
        await page.screenshot({ path: `test-results/${name}-failure.png`, fullPage: true }).catch(() => {});
        throw error;
      } finally {
        await context.close();
      }
    },
  };
}

const AXE_SOURCE = readFileSync('node_modules/axe-core/axe.min.js', 'utf8');

/** axe-core, injected into the page: serious and critical violations, as "rule: target" lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') blocks an injected <script>.
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run());
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')}`));
}
