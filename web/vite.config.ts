/**
 * The browser pages: one Vite multi-page build of web/ into dist/web/, served by
 * src/control/http/routes/web.ts at /web/ (pages at /join, /watch/…). Preact with the automatic
 * JSX runtime through Vite's own oxc transform (no babel preset).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const ROOT = import.meta.dirname;

/** Every page of the app: its folder under web/ holds index.html. */
export const PAGES = ['join', 'login', 'console', 'monitor', 'watch', 'projector', 'replay'] as const;

/** A page with an index.html that loads its entry from web/src (others are left out). */
function ported(page: string): boolean {
  const file = resolve(ROOT, page, 'index.html');
  return existsSync(file) && readFileSync(file, 'utf8').includes('src="/src/');
}

export default defineConfig({
  root: ROOT,
  base: '/web/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: resolve(ROOT, '../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rollupOptions: {
      input: Object.fromEntries(PAGES.filter(ported).map((p) => [p, resolve(ROOT, p, 'index.html')])),
    },
  },
});
