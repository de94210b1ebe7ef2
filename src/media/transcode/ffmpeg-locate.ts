import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Where the ffmpeg binary came from. */
export type FfmpegSource = 'config' | 'system' | 'npm';

/** Opus encoders ffmpeg may have: libopus (preferred) or its native, experimental one. */
export type OpusEncoder = 'libopus' | 'opus';

/** A usable ffmpeg, or why there is none. */
export type FfmpegLocation =
  | { ok: true; path: string; version: string; opusEncoder: OpusEncoder; source: FfmpegSource }
  | { ok: false; reason: string };

/** Options of `locateFfmpeg`. */
export interface LocateOptions {
  /** An explicit binary from config: used alone, with no fallback (a typo should be visible). */
  path?: string;
  /** The PATH to search instead of `process.env.PATH` (tests). */
  searchPath?: string;
  /** Skip the npm-shipped binary (tests). */
  noNpm?: boolean;
  /** Per-command timeout, ms. */
  timeoutMs?: number;
}

/**
 * Finds an ffmpeg that runs and can encode Opus: the configured path if given, else `ffmpeg`
 * on PATH, else the binary of the optional npm package `@ffmpeg-installer/ffmpeg`. Never throws.
 */
export async function locateFfmpeg(opts: LocateOptions = {}): Promise<FfmpegLocation> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  if (opts.path) return probe(opts.path, 'config', timeoutMs);
  const reasons: string[] = [];
  const onPath = await findOnPath('ffmpeg', opts.searchPath ?? process.env.PATH ?? '');
  if (onPath) {
    const r = await probe(onPath, 'system', timeoutMs);
    if (r.ok) return r;
    reasons.push(r.reason);
  } else reasons.push('no ffmpeg on PATH');
  if (!opts.noNpm) {
    const npmPath = await npmFfmpegPath();
    if (npmPath.ok) {
      const r = await probe(npmPath.path, 'npm', timeoutMs);
      if (r.ok) return r;
      reasons.push(r.reason);
    } else reasons.push(npmPath.reason);
  }
  return { ok: false, reason: `ffmpeg not found (install ffmpeg): ${reasons.join('; ')}` };
}

/** Runs `-version` and `-encoders` to check the binary and pick its Opus encoder. */
async function probe(path: string, source: FfmpegSource, timeoutMs: number): Promise<FfmpegLocation> {
  let version: string;
  try {
    const out = await run(path, ['-hide_banner', '-version'], timeoutMs);
    const m = /^ffmpeg version (\S+)/m.exec(out);
    if (!m)
      return { ok: false, reason: `${path} does not look like ffmpeg (no "ffmpeg version" in -version)` };
    version = m[1]!;
  } catch (e) {
    return { ok: false, reason: `${path} does not run: ${errorText(e)}` };
  }
  let encoders: string;
  try {
    encoders = await run(path, ['-hide_banner', '-encoders'], timeoutMs);
  } catch (e) {
    return { ok: false, reason: `${path} -encoders failed: ${errorText(e)}` };
  }
  // Lines look like " A....D libopus              libopus Opus (codec opus)".
  const has = (name: string): boolean => new RegExp(`^\\s*A\\S*\\s+${name}\\s`, 'm').test(encoders);
  const opusEncoder: OpusEncoder | undefined = has('libopus') ? 'libopus' : has('opus') ? 'opus' : undefined;
  if (!opusEncoder) return { ok: false, reason: `${path} (ffmpeg ${version}) has no Opus encoder` };
  return { ok: true, path, version, opusEncoder, source };
}

function run(path: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}

async function findOnPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The npm package is optional and platform-specific: imported lazily, absent is fine. */
async function npmFfmpegPath(): Promise<{ ok: true; path: string } | { ok: false; reason: string }> {
  const name = '@ffmpeg-installer/ffmpeg';
  try {
    const mod = (await import(name)) as { default?: { path?: unknown }; path?: unknown };
    const path = mod.default?.path ?? mod.path;
    if (typeof path === 'string') return { ok: true, path };
    return { ok: false, reason: `${name} gave no path` };
  } catch (e) {
    return { ok: false, reason: `${name} unavailable (${errorText(e)})` };
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code ?? e.message.split('\n')[0]!;
  return String(e);
}
