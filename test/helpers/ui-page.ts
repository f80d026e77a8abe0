import type { ExecutionContext } from 'ava';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { ADMIN } from '../api/api-fixture.ts';

/**
 * Browser test pages shared by the UI test files: `pages(...)` returns a `withPage` that runs a
 * test body on a fresh signed-in page of the server at `url()`; `axeViolations` runs axe-core.
 */
export function pages(browser: () => Browser, url: () => string) {
  mkdirSync('test-results', { recursive: true });
  /** Runs `fn` on a fresh signed-in page; on failure saves a screenshot under test-results/. */
  return async function withPage(t: ExecutionContext, name: string, fn: (page: Page) => Promise<void>, viewport = { width: 1280, height: 800 }) {
    const context = await browser().newContext({ viewport });
    const page = await context.newPage();
    // The UI must work offline: any request that is not to the test server fails the test.
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(url())) foreign.push(request.url());
    });
    try {
      await page.goto(`${url()}/`);
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
