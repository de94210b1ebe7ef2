/**
 * The browser side of bench:g2g, run in the watch page: keeps the page's peer connections (to
 * read their stats), and on each requestVideoFrameCallback copies the two rows of stamp blocks
 * from the video to a small canvas, reads the stamp back and notes when the frame is shown and
 * when its last packet was received (both as Unix ms, the publisher's clock).
 */
import type { Page } from 'playwright-core';
import { readStamp, type StampLayout } from './stamp.ts';

/** One frame read back: its stamp, when it is shown and when it was received (Unix ms). */
export type Sample = [stamp: number, shown: number, received: number | null];

/** Installs the peer-connection keeper and the stamp reader; call before page.goto. */
export async function preparePage(page: Page): Promise<void> {
  // Injected through the DevTools protocol, so the page's CSP does not apply.
  await page.addInitScript({ content: `window.__g2gReadStamp = ${readStamp.toString()};` });
  await page.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const pcs: RTCPeerConnection[] = [];
    (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = pcs;
    window.RTCPeerConnection = class extends Native {
      constructor(cfg?: RTCConfiguration) {
        super(cfg);
        pcs.push(this);
      }
    } as typeof RTCPeerConnection;
  });
}

/** Reads frames for `seconds`; returns the samples and the number of frames not readable. */
export async function sampleFrames(
  page: Page,
  seconds: number,
  layout: StampLayout,
): Promise<{ samples: Sample[]; unreadable: number }> {
  return page.evaluate(
    async ({ seconds, layout }) => {
      type Read = (px: (line: 0 | 1, x: number) => number, l: typeof layout) => number | undefined;
      const read = (window as unknown as { __g2gReadStamp: Read }).__g2gReadStamp;
      const video = document.querySelector('video')!;
      const w = video.videoWidth;
      const b = layout.block;
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = 2 * b;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const samples: [number, number, number | null][] = [];
      let unreadable = 0;
      const origin = performance.timeOrigin;
      await new Promise<void>((done) => {
        const end = performance.now() + seconds * 1000;
        const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
          // Only the stamp rows (y = b … 3b) are copied: cheap even for 1280×720.
          ctx.drawImage(video, 0, b, w, 2 * b, 0, 0, w, 2 * b);
          const px = ctx.getImageData(0, 0, w, 2 * b).data;
          const stamp = read((line, x) => px[((line * b + (b >> 1)) * w + x) * 4]!, layout);
          if (stamp === undefined) unreadable++;
          else {
            const received = (meta as { receiveTime?: number }).receiveTime;
            samples.push([
              stamp,
              origin + meta.expectedDisplayTime,
              received === undefined ? null : origin + received,
            ]);
          }
          if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
          else done();
        };
        video.requestVideoFrameCallback(onFrame);
      });
      return { samples, unreadable };
    },
    { seconds, layout },
  );
}

/** Numeric fields of the inbound-rtp stats per kind ('audio', 'video'), 'playout', and page.now (Unix ms). */
export type StatsSnapshot = Record<string, Record<string, number>>;

/** The last peer connection's inbound-rtp and media-playout stats. */
export async function statsSnapshot(page: Page): Promise<StatsSnapshot> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1);
    const out: Record<string, Record<string, number>> = {};
    if (!pc) return out;
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      const key =
        r.type === 'inbound-rtp' ? String(r.kind) : r.type === 'media-playout' ? 'playout' : undefined;
      if (!key) return;
      const o: Record<string, number> = {};
      for (const [k, v] of Object.entries(r)) if (typeof v === 'number') o[k] = v;
      out[key] = o;
    });
    out.page = { now: performance.timeOrigin + performance.now() };
    return out;
  });
}

/**
 * An AudioWorklet that posts the context time of each sound onset: the first sample above
 * 0.03 after at least 100 ms below it.
 */
const ONSET_WORKLET = `
class G2gOnset extends AudioWorkletProcessor {
  constructor() { super(); this.quiet = 0; }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) for (let i = 0; i < ch.length; i++) {
      if (Math.abs(ch[i]) >= 0.03) {
        if (this.quiet >= sampleRate / 10) this.port.postMessage(currentTime + i / sampleRate);
        this.quiet = 0;
      } else this.quiet++;
    }
    return true;
  }
}
registerProcessor('g2g-onset', G2gOnset);
`;

/**
 * Lets the page load the onset worklet from a blob: URL: its CSP allows scripts from 'self'
 * only, and worklet fetches cannot be intercepted. Call before page.goto.
 */
export async function allowOnsetWorklet(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Page.setBypassCSP', { enabled: true });
}

/**
 * Starts timing the received sound: the remote audio track into an AudioContext, through the
 * onset worklet; each onset is kept as the Unix ms at which the worklet processed it (context
 * time mapped through getOutputTimestamp, less the context's output latency). Read them with
 * {@link readOnsets}. Rejects when the page has no audio track.
 */
export async function startOnsets(page: Page): Promise<void> {
  await page.evaluate(async (source) => {
    const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1);
    const track = pc?.getReceivers().find((r) => r.track.kind === 'audio')?.track;
    if (!track) throw new Error('no audio track');
    const ctx = new AudioContext({ latencyHint: 'interactive' });
    await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
    const node = new AudioWorkletNode(ctx, 'g2g-onset');
    const mute = ctx.createGain();
    mute.gain.value = 0;
    ctx
      .createMediaStreamSource(new MediaStream([track]))
      .connect(node)
      .connect(mute)
      .connect(ctx.destination);
    await ctx.resume();
    // Context time → performance time: the offset getOutputTimestamp gives jitters by the
    // device's buffer, so it is sampled every 50 ms and the median is used.
    const state = { onsets: [] as number[], offsets: [] as number[], ctx };
    (window as unknown as { __g2gSound: typeof state }).__g2gSound = state;
    const sampleOffset = (): void => {
      const ts = ctx.getOutputTimestamp();
      if (ts.contextTime !== undefined && ts.performanceTime !== undefined && ts.contextTime > 0)
        state.offsets.push(ts.performanceTime - ts.contextTime * 1000);
    };
    setInterval(sampleOffset, 50);
    node.port.onmessage = (e: MessageEvent<number>) => state.onsets.push(e.data);
  }, ONSET_WORKLET);
}

/** The sound onsets timed so far (Unix ms, when the worklet processed them). */
export async function readOnsets(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    type State = { onsets: number[]; offsets: number[]; ctx: AudioContext };
    const st = (window as unknown as { __g2gSound?: State }).__g2gSound;
    if (!st || st.offsets.length === 0) return [];
    const sorted = [...st.offsets].sort((a, b) => a - b);
    const offset = sorted[sorted.length >> 1]! - st.ctx.outputLatency * 1000;
    return st.onsets.map((t) => performance.timeOrigin + t * 1000 + offset);
  });
}
