/**
 * A group of werift WHEP viewers in their own process (forked with IPC), each a student of a
 * cluster: it asks the main where to connect (`POST /api/cluster/assign`), plays there, and —
 * with failover on — when nothing arrives for 2 s asks again naming the node it lost, as the
 * browser player does. The parent reads each viewer's node, packet counts and longest gap.
 *
 *   fork('test/helpers/cluster-viewers.ts') → send { type: 'join', main, viewers: [{ id, token }] }
 */
import { whepView, type WeriftViewer } from './werift-viewer.ts';

export type ViewerCommand =
  | { type: 'join'; main: string; viewers: { id: string; token: string }[] }
  | { type: 'failover'; on: boolean }
  /** Starts a new measuring window: longest gaps are counted from now. */
  | { type: 'measure' }
  | { type: 'report' }
  | { type: 'close' };

export interface ViewerReport {
  id: string;
  node: string;
  video: number;
  audio: number;
  /** ms since the last packet (video or audio). */
  silentMs: number;
  /** Longest time without a packet since `measure`, ms (a viewer that moved counts its move). */
  maxGapMs: number;
  /** Sessions opened (1 + moves). */
  sessions: number;
  /** Time (ms since `measure`) when it played again on another node after losing one. */
  movedAfterMs: number | null;
}

interface Viewer {
  id: string;
  token: string;
  node: string;
  v?: WeriftViewer;
  counted: number;
  lastAt: number;
  /** When the current session was opened. */
  sessionAt: number;
  maxGap: number;
  sessions: number;
  moving: boolean;
  movedAfter: number | null;
  lostAt: number | null;
}

let main = '';
let failover = true;
let measureAt = Date.now();
const viewers: Viewer[] = [];

async function assign(v: Viewer, failed?: string): Promise<string> {
  for (;;) {
    try {
      const res = await fetch(`${main}/api/cluster/assign`, {
        method: 'POST',
        headers: { authorization: `Bearer ${v.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(failed ? { failed } : {}),
        signal: AbortSignal.timeout(5000),
      });
      if (res.ok) {
        const a = (await res.json()) as { whepUrl: string; node: { id: string } };
        v.node = a.node.id;
        return a.whepUrl;
      }
    } catch {
      // the main is away: ask again
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function connect(v: Viewer, failed?: string): Promise<void> {
  for (;;) {
    const url = await assign(v, failed);
    try {
      const w = await whepView(url, v.token);
      if (w.status === 201) {
        v.v = w;
        v.sessions++;
        v.counted = 0;
        v.sessionAt = Date.now();
        return;
      }
    } catch {
      // the node went away between the assignment and the offer
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function tick(): void {
  const now = Date.now();
  for (const v of viewers) {
    if (!v.v) continue;
    const n = v.v.received.video + v.v.received.audio;
    if (n !== v.counted) {
      v.maxGap = Math.max(v.maxGap, now - Math.max(v.lastAt, measureAt));
      v.counted = n;
      v.lastAt = now;
      if (v.lostAt !== null && !v.moving) {
        v.movedAfter = now - measureAt;
        v.lostAt = null;
      }
    } else if (
      failover &&
      !v.moving &&
      // 2 s without a packet on a session that played; 8 s for one still setting up
      now - Math.max(v.lastAt, v.sessionAt) > (v.counted > 0 ? 2000 : 8000)
    ) {
      v.moving = true;
      v.lostAt = now;
      const old = v.v;
      const lost = v.node;
      void old.close().catch(() => undefined);
      void connect(v, lost).then(() => (v.moving = false));
    }
  }
}

setInterval(tick, 50);

process.on('message', (m: ViewerCommand) => {
  if (m.type === 'join') {
    main = m.main;
    for (const { id, token } of m.viewers) {
      const v: Viewer = {
        id,
        token,
        node: '',
        counted: 0,
        lastAt: Date.now(),
        sessionAt: Date.now(),
        maxGap: 0,
        sessions: 0,
        moving: true,
        movedAfter: null,
        lostAt: null,
      };
      viewers.push(v);
      void connect(v).then(() => (v.moving = false));
    }
  } else if (m.type === 'failover') failover = m.on;
  else if (m.type === 'measure') {
    measureAt = Date.now();
    for (const v of viewers) {
      v.maxGap = 0;
      v.movedAfter = null;
    }
  } else if (m.type === 'report') {
    const now = Date.now();
    const report: ViewerReport[] = viewers.map((v) => ({
      id: v.id,
      node: v.node,
      video: v.v?.received.video ?? 0,
      audio: v.v?.received.audio ?? 0,
      silentMs: now - v.lastAt,
      maxGapMs: Math.max(v.maxGap, now - Math.max(v.lastAt, measureAt)),
      sessions: v.sessions,
      movedAfterMs: v.movedAfter,
    }));
    process.send?.({ type: 'report', report });
  } else if (m.type === 'close') {
    void Promise.all(viewers.map((v) => v.v?.close().catch(() => undefined))).then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
