// Builds the browser pages (web/ → dist/web/ with Vite) when they are missing or older than
// their sources, so `npm ci && npm start` on a fresh clone serves them. Plain JavaScript, run
// by bin/airclass.js before the server starts. The build goes to a temporary directory that
// replaces dist/web in one rename, so a server already running never sees a half-built tree.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');
const OUT = join(ROOT, 'dist', 'web');
const STAMP = '.stamp';
const VITE = join(ROOT, 'node_modules', '.bin', 'vite');

/** Newest modification time (ms) of the files under `dir`. */
function newest(dir) {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return max;
}

/** True when dist/web is missing or a source under web/ (or the lock file) changed since its build. */
export function webIsStale() {
  const stamp = join(OUT, STAMP);
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const lock = join(ROOT, 'package-lock.json');
  return newest(WEB) > built || (existsSync(lock) && statSync(lock).mtimeMs > built);
}

/** Builds dist/web when stale. Exits the process with a clear message when the build fails. */
export function ensureWeb({ quiet = false, force = false } = {}) {
  if (!existsSync(WEB) || (!force && !webIsStale())) return;
  if (!existsSync(VITE)) {
    process.stderr.write(
      'airclass: cannot build the web pages: node_modules is missing. Run `npm ci` first.\n',
    );
    process.exit(1);
  }
  const startedAt = new Date();
  const tmp = `${OUT}.tmp-${process.pid}`;
  if (!quiet) process.stderr.write('airclass: building the web pages (vite build)…\n');
  const run = spawnSync(
    process.execPath,
    [
      VITE,
      'build',
      '--config',
      join(WEB, 'vite.config.ts'),
      '--outDir',
      tmp,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (run.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    process.stderr.write(
      'airclass: building the web pages failed (see above). Fix it, or run `npm run build:web`.\n',
    );
    process.exit(1);
  }
  // The stamp carries the build's start time: a source saved during the build is newer than it.
  writeFileSync(join(tmp, STAMP), `${startedAt.toISOString()}\n`);
  utimesSync(join(tmp, STAMP), startedAt, startedAt);
  const old = `${OUT}.old-${process.pid}`;
  if (existsSync(OUT)) renameSync(OUT, old);
  renameSync(tmp, OUT);
  rmSync(old, { recursive: true, force: true });
}

// `node bin/ensure-web.js` builds when stale; `--force` always (`npm run build:web`).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  ensureWeb({ force: process.argv.includes('--force') });
