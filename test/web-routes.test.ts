/**
 * The built pages (src/control/http/routes/web.ts): served from the build dir, hashed assets
 * cacheable for good, pages never cached, and without a build a clear 503 that says what to run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { webRoutes } from '../src/control/http/routes/web.ts';

const dir = mkdtempSync(join(tmpdir(), 'airclass-web-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('web routes', () => {
  it('serves the built pages and assets', async () => {
    mkdirSync(join(dir, 'join'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'join', 'index.html'), '<!doctype html><title>join</title>');
    writeFileSync(join(dir, 'assets', 'join-AbC123.js'), 'export {};');
    const app = Fastify();
    await webRoutes(app, dir);
    const page = await app.inject('/join?code=123456');
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('<title>join</title>');
    expect((await app.inject('/')).body).toContain('<title>join</title>');
    const asset = await app.inject('/web/assets/join-AbC123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    // A page that was not built answers 503 with what to run.
    const missing = await app.inject('/projector');
    expect(missing.statusCode).toBe(503);
    await app.close();
  });

  it('answers 503 "run npm run build:web" when nothing is built', async () => {
    const app = Fastify();
    await webRoutes(app, join(dir, 'nothing-here'));
    for (const url of ['/', '/join', '/watch/live/abc', '/web/assets/x.js']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(503);
      expect(res.body, url).toContain('npm run build:web');
    }
    await app.close();
  });
});
