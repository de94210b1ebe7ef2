import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './helpers/chromium.ts';
import { startTestApi, type TestApi } from './helpers/api.ts';

/**
 * The security headers must not break the pages: swagger-ui at /docs renders the API's
 * operations in real Chromium under AirClass's Content-Security-Policy, with no violation.
 * (The watch page under the same policy is covered by watch.e2e.test.ts.)
 */
describe('/docs in Chromium under the CSP', () => {
  let t: TestApi;
  let browser: TestBrowser;
  let base: string;
  const logs: string[] = [];

  beforeAll(async () => {
    t = await startTestApi();
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser({ onConsole: (l) => logs.push(l) });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('renders the operations, with no CSP violation', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    await page.exposeFunction('__csp', (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { __csp: (v: string) => void }).__csp(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    const res = await page.goto(`${base}/docs`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
    const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.textContent ?? ''));
    expect(paths.join(' ')).toContain('/api/join');
    expect(paths.join(' ')).toContain('/api/classes/{id}/qr.png');
    expect(violations, logs.join('\n')).toEqual([]);
  });
});
