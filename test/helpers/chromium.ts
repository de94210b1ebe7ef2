/**
 * Real Chromium for end-to-end tests and benchmarks: Debian's /usr/bin/chromium driven by
 * playwright-core, headless, with a fresh user-data-dir that is removed on close.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where Debian installs Chromium; override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags every AirClass test browser runs with (the user-data-dir is added by playwright). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * What the watch page exposes as `window.airclass` (web/src/lib/whep-player.ts). Times are the
 * page's performance.now() values; null until the event happened in the current session.
 */
export interface AirclassMonitor {
  state: 'connecting' | 'live' | 'reconnecting' | 'waiting' | 'ended' | 'refused';
  /** HTTP status of the last WHEP POST (null after a network error). */
  httpStatus: number | null;
  /** The current WHEP session URL (Location), null before the first 201. */
  sessionUrl: string | null;
  /** When the WHEP POST was sent / its 201 answer fully read. */
  postAt: number | null;
  answerAt: number | null;
  connectedAt: number | null;
  firstFrameAt: number | null;
  /** New sessions opened after a broken one. */
  reconnects: number;
  framesDecoded(): number;
  videoSize(): { width: number; height: number };
  /** RMS of the remote audio, 0..1. */
  audioLevel(): number;
  /** What the watch page plays over: WebRTC, or HLS when WebRTC cannot connect. */
  transport?: 'webrtc' | 'hls';
}

declare global {
  interface Window {
    airclass?: AirclassMonitor;
  }
}

/** Options for {@link launchBrowser}. */
export interface LaunchOptions {
  /** Extra Chromium flags, after {@link CHROMIUM_ARGS}. */
  args?: string[];
  /**
   * Keep Chromium's autoplay policy (drop `--autoplay-policy=no-user-gesture-required`),
   * to see what a real student sees when unmuted autoplay is refused.
   */
  strictAutoplay?: boolean;
  /** Browser UI language, e.g. 'ko-KR' or 'en-US' (navigator.language). Default en-US. */
  locale?: string;
  /** Viewport size; default 1280×800. */
  viewport?: { width: number; height: number };
  /** Forward the page's console messages and errors to this function. */
  onConsole?: (line: string) => void;
  /**
   * Profile preferences written before launch (Default/Preferences), e.g.
   * `{ webrtc: { ip_handling_policy: 'disable_non_proxied_udp' } }`: no UDP for WebRTC.
   */
  prefs?: Record<string, unknown>;
  /** Environment of the Chromium process (e.g. HOME with an NSS database trusting a test CA). */
  env?: Record<string, string>;
}

/** A running Chromium with its own profile directory. */
export interface TestBrowser {
  /** The persistent context (one profile); pages made by newPage() live here. */
  context: BrowserContext;
  /** Opens a new tab. */
  newPage(): Promise<Page>;
  /** Closes Chromium and removes its profile directory. Idempotent. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with the AirClass test flags and a fresh user-data-dir
 * (made with mkdtemp, removed by close()). Playwright refuses `--user-data-dir` in `args`,
 * so the directory goes through launchPersistentContext.
 */
export async function launchBrowser(opts: LaunchOptions = {}): Promise<TestBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'airclass-chromium-'));
  if (opts.prefs) {
    await mkdir(join(userDataDir, 'Default'), { recursive: true });
    await writeFile(join(userDataDir, 'Default', 'Preferences'), JSON.stringify(opts.prefs));
  }
  const args = CHROMIUM_ARGS.filter((a) => !(opts.strictAutoplay && a.startsWith('--autoplay-policy')));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...args, ...(opts.args ?? [])],
      // Playwright adds --mute-audio in headless mode; the page's Web Audio must hear the stream.
      ignoreDefaultArgs: ['--mute-audio'],
      locale: opts.locale ?? 'en-US',
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      timeout: 30_000,
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
  const onConsole = opts.onConsole;
  if (onConsole) {
    context.on('console', (msg) => onConsole(`[page ${msg.type()}] ${msg.text()}`));
    context.on('weberror', (err) => onConsole(`[page error] ${err.error().message}`));
  }
  // A persistent context opens with one blank tab; close it so pages are only ours.
  for (const page of context.pages()) await page.close().catch(() => {});

  let closing: Promise<void> | undefined;
  return {
    context,
    newPage: () => context.newPage(),
    close: () =>
      (closing ??= (async () => {
        await context.close().catch(() => {});
        await rm(userDataDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
      })()),
  };
}

/** One Chromium holding several isolated contexts (each its own cookies and storage). */
export interface TestBrowserPool {
  /** A fresh context (own cookies and storage), as a separate person's browser. */
  newContext(
    opts?: Pick<LaunchOptions, 'locale' | 'viewport'> & { isMobile?: boolean },
  ): Promise<BrowserContext>;
  /** Closes Chromium (Playwright removes its temporary profile). Idempotent. */
  close(): Promise<void>;
}

/**
 * Launches one headless Chromium with the AirClass flags for several people at once, each in
 * their own context (cheaper on two cores than a Chromium each). Playwright gives the launch a
 * fresh temporary profile directory of its own.
 */
export async function launchBrowserPool(
  opts: Pick<LaunchOptions, 'onConsole'> = {},
): Promise<TestBrowserPool> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    ignoreDefaultArgs: ['--mute-audio'],
    timeout: 30_000,
  });
  const onConsole = opts.onConsole;
  let closing: Promise<void> | undefined;
  return {
    newContext: async (o = {}) => {
      const ctx = await browser.newContext({
        locale: o.locale ?? 'en-US',
        viewport: o.viewport ?? { width: 1280, height: 800 },
        isMobile: o.isMobile,
        hasTouch: o.isMobile,
      });
      if (onConsole) {
        ctx.on('console', (msg) => onConsole(`[page ${msg.type()}] ${msg.text()}`));
        ctx.on('weberror', (err) => onConsole(`[page error] ${err.error().message}`));
      }
      return ctx;
    },
    close: () => (closing ??= browser.close().catch(() => {})),
  };
}
