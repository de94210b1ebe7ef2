/**
 * Slide text by OCR for the built-in analyzer (issue 10): the `tesseract` binary (tesseract-ocr
 * with its Korean and English data) run on one PNG at a time, no network. `status()` says
 * whether it can read and, when not, why in words an admin can act on; `read()` answers the
 * normalised text (blank lines collapsed, lines of noise dropped).
 */
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { AirError } from '../../../shared/errors.ts';

/** Whether slides can be read, with which languages, and why not. */
export interface OcrStatus {
  ok: boolean;
  /** Languages present among `kor` and `eng`. */
  langs: string[];
  /** Why OCR is off or limited (e.g. "tesseract-ocr is not installed"). */
  note?: string;
}

/** What the built-in provider reads slides with. */
export interface TextReader {
  status(): Promise<OcrStatus>;
  /** The text of a PNG (empty when there is none). Throws when it cannot read. */
  read(png: Uint8Array): Promise<string>;
}

/** Options of {@link TesseractReader}. */
export interface TesseractOptions {
  /** Explicit binary (config `tesseractPath`); default `tesseract` on PATH. */
  path?: string;
  /** PATH to search instead of `process.env.PATH` (tests). */
  searchPath?: string;
  /** One read's limit, ms (then the process is killed). Default 20 000. */
  timeoutMs?: number;
  /** Reads waiting behind the running one; beyond it `read` refuses. Default 4. */
  maxQueued?: number;
  /**
   * Tesseract page segmentation mode. Default 6 (one block of text): on rendered slides the
   * automatic mode 3 takes a large heading, or the whole slide, for a picture and reads nothing
   * or noise, and the sparse mode 11 splits Korean words apart; 6 read every test slide.
   */
  psm?: number;
}

/** Reads slides with tesseract, one at a time per node. */
export class TesseractReader implements TextReader {
  private readonly opts: TesseractOptions;
  private cached?: Promise<{ bin?: string; status: OcrStatus }>;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(opts: TesseractOptions = {}) {
    this.opts = opts;
  }

  /** Whether OCR works here (found once, then cached). */
  async status(): Promise<OcrStatus> {
    return (await this.probe()).status;
  }

  private probe(): Promise<{ bin?: string; status: OcrStatus }> {
    return (this.cached ??= findTesseract(this.opts));
  }

  async read(png: Uint8Array): Promise<string> {
    const { bin, status } = await this.probe();
    if (!bin || !status.ok) throw new AirError('OCR_UNAVAILABLE', status.note ?? 'OCR is unavailable.');
    if (this.running > 0) {
      if (this.waiting.length >= (this.opts.maxQueued ?? 4))
        throw new AirError('OCR_UNAVAILABLE', 'OCR is busy; the slide was not read.');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      const raw = await runTesseract(
        bin,
        status.langs,
        png,
        this.opts.psm ?? 6,
        this.opts.timeoutMs ?? 20_000,
      );
      return normaliseOcr(raw);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/** Finds the binary and its languages. Never throws. */
async function findTesseract(opts: TesseractOptions): Promise<{ bin?: string; status: OcrStatus }> {
  const bin = opts.path || (await onPath('tesseract', opts.searchPath ?? process.env.PATH ?? ''));
  if (!bin) return { status: { ok: false, langs: [], note: 'tesseract-ocr is not installed' } };
  let out: string;
  try {
    out = await new Promise<string>((resolve, reject) =>
      execFile(bin, ['--list-langs'], { timeout: 5000 }, (err, stdout, stderr) =>
        err ? reject(err) : resolve(`${stdout}\n${stderr}`),
      ),
    );
  } catch (e) {
    return { status: { ok: false, langs: [], note: `tesseract does not run (${bin}): ${errText(e)}` } };
  }
  const all = new Set(out.split(/\r?\n/).map((l) => l.trim()));
  const langs = ['kor', 'eng'].filter((l) => all.has(l));
  if (langs.length === 0)
    return {
      bin,
      status: {
        ok: false,
        langs,
        note: 'tesseract has neither Korean nor English data (install tesseract-ocr-kor, tesseract-ocr-eng)',
      },
    };
  const note = !all.has('kor')
    ? 'Korean data (tesseract-ocr-kor) missing'
    : !all.has('eng')
      ? 'English data (tesseract-ocr-eng) missing'
      : undefined;
  return { bin, status: note ? { ok: true, langs, note } : { ok: true, langs } };
}

/** `tesseract stdin stdout -l kor+eng --psm N`, the PNG on stdin, killed after `timeoutMs`. */
function runTesseract(
  bin: string,
  langs: string[],
  png: Uint8Array,
  psm: number,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['stdin', 'stdout', '-l', langs.join('+'), '--psm', String(psm)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
    });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new AirError('OCR_UNAVAILABLE', `OCR took longer than ${timeoutMs} ms.`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 2000) err += d.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`tesseract exited with ${code}: ${err.trim().split('\n').pop() ?? ''}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(png);
  });
}

/**
 * Tidies OCR output: trims lines, drops lines with fewer than two letters or digits (speckles
 * read as "|", "—", "."), collapses runs of blank lines to one, trims the whole.
 */
export function normaliseOcr(raw: string): string {
  const lines = raw
    .replace(/\f/g, '\n')
    .split(/\r?\n/)
    .map((l) => l.replace(/[ \t]+/g, ' ').trim());
  const kept: string[] = [];
  for (const l of lines) {
    const letters = l.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
    if (l === '') {
      if (kept.length > 0 && kept[kept.length - 1] !== '') kept.push('');
    } else if (letters >= 2 && letters * 2 >= l.replace(/ /g, '').length) kept.push(l);
  }
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  return kept.join('\n');
}

async function onPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

function errText(e: unknown): string {
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code ?? e.message.split('\n')[0]!;
  return String(e);
}
