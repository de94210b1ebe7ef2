import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRing,
  FLAG_KEY_START,
  FLAG_MARKER,
  FLAG_VIDEO,
  KIND_EVENT,
  KIND_RTP,
  RECORD_HEADER,
  RingReader,
  RingWriter,
  type RingBuffers,
  type RingRecord,
} from './packet-ring.ts';

/**
 * The shared-memory ring between the ingest and the egress worker: records come out as they
 * went in, in order, through many wrap-arounds; a full ring drops and says so once; and a
 * reader in a real worker thread, woken by Atomics.waitAsync, gets what the main thread writes.
 */

type Rec = Omit<RingRecord, 'body'> & { body: Uint8Array };

/** A deterministic pseudo-random generator (LCG), 0 ≤ x < 1. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

function makeRecord(rand: () => number, i: number, maxBody: number): Rec {
  const body = new Uint8Array(Math.floor(rand() * (maxBody + 1)));
  for (let j = 0; j < body.length; j++) body[j] = (i * 31 + j * 7) & 0xff;
  return {
    kind: rand() < 0.95 ? KIND_RTP : KIND_EVENT,
    flags: Math.floor(rand() * 256),
    stream: Math.floor(rand() * 65536),
    seq: i & 0xffff,
    timestamp: Math.floor(rand() * 2 ** 32),
    pts: i * 33.366666 + rand(),
    arrival: 1.7e12 + i * 33.4 + rand(),
    body,
  };
}

const put = (w: RingWriter, r: Rec): boolean =>
  w.write(r.kind, r.flags, r.stream, r.seq, r.timestamp, r.pts, r.arrival, r.body);

function drainAll(reader: RingReader): RingRecord[] {
  const out: RingRecord[] = [];
  reader.drain((r) => out.push(r));
  return out;
}

function expectSame(got: RingRecord[], want: Rec[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const { body, ...head } = g;
    const { body: wantBody, ...wantHead } = want[i]!;
    expect(head).toEqual(wantHead);
    expect(Buffer.from(body).equals(wantBody), `body of record ${i}`).toBe(true);
  });
}

describe('packet ring in one thread', () => {
  it('gives back every header field and body, in order, once flushed', () => {
    const ring = createRing(1);
    expect(ring.data.byteLength).toBe(64 * 1024);
    const w = new RingWriter(ring);
    const r = new RingReader(ring);
    const recs: Rec[] = [
      {
        kind: KIND_RTP,
        flags: FLAG_MARKER | FLAG_VIDEO | FLAG_KEY_START,
        stream: 65535,
        seq: 65535,
        timestamp: 0xffff_ffff,
        pts: 123456.789,
        arrival: 1_764_000_000_123.25,
        body: Uint8Array.from([1, 2, 3]),
      },
      {
        kind: KIND_EVENT,
        flags: 0,
        stream: 0,
        seq: 0,
        timestamp: 0,
        pts: -5.5,
        arrival: 0,
        body: new Uint8Array(0),
      },
      {
        kind: KIND_RTP,
        flags: FLAG_VIDEO,
        stream: 3,
        seq: 12,
        timestamp: 90_000,
        pts: Number.MAX_SAFE_INTEGER,
        arrival: Number.MIN_VALUE,
        body: Buffer.from(JSON.stringify({ e: 'open', path: 'live/x' })),
      },
    ];
    for (const rec of recs) expect(put(w, rec)).toBe(true);
    // Nothing is visible before the flush.
    expect(r.drain(() => {})).toBe(0);
    const before = r.written;
    w.flush();
    expect(r.written).toBe(before + 1);
    const got = drainAll(r);
    expectSame(got, recs);
    expect(r.drain(() => {})).toBe(0);
    expect(r.takeLost()).toBe(0);
  });

  it('hands out bodies that are copies (the ring reusing its bytes does not change them)', () => {
    const ring = createRing(1);
    const w = new RingWriter(ring);
    const r = new RingReader(ring);
    put(w, {
      kind: KIND_RTP,
      flags: 0,
      stream: 1,
      seq: 1,
      timestamp: 1,
      pts: 1,
      arrival: 1,
      body: new Uint8Array(1000).fill(7),
    });
    w.flush();
    const [first] = drainAll(r);
    expect(first!.body.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    for (let i = 0; i < 200; i++) {
      put(w, {
        kind: KIND_RTP,
        flags: 0,
        stream: 1,
        seq: i,
        timestamp: 1,
        pts: 1,
        arrival: 1,
        body: new Uint8Array(1000).fill(9),
      });
      w.flush();
      drainAll(r);
    }
    expect(first!.body.every((b) => b === 7)).toBe(true);
  });

  it('wraps around with pad records over many rounds of random sizes and batches', () => {
    const ring = createRing(64 * 1024);
    const w = new RingWriter(ring);
    const r = new RingReader(ring);
    const rand = rng(42);
    let i = 0;
    let bytes = 0;
    for (let round = 0; round < 2000; round++) {
      const batch: Rec[] = [];
      const n = 1 + Math.floor(rand() * 12);
      for (let k = 0; k < n; k++) {
        // Mostly RTP-sized, sometimes near the largest record the ring takes (a quarter).
        const max = rand() < 0.05 ? 16 * 1024 - RECORD_HEADER - 8 : 1200;
        const rec = makeRecord(rand, i, max);
        if (!put(w, rec)) break;
        i++;
        bytes += rec.body.length + RECORD_HEADER;
        batch.push(rec);
      }
      w.flush();
      expectSame(drainAll(r), batch);
    }
    expect(w.dropped).toBe(0);
    // Many times round the ring.
    expect(bytes / ring.data.byteLength).toBeGreaterThan(20);
  });

  it('keeps order when the reader lags behind by several flushes', () => {
    const ring = createRing(64 * 1024);
    const w = new RingWriter(ring);
    const r = new RingReader(ring);
    const rand = rng(7);
    const pending: Rec[] = [];
    let i = 0;
    for (let round = 0; round < 3000; round++) {
      const rec = makeRecord(rand, i, 1400);
      if (put(w, rec)) {
        pending.push(rec);
        i++;
      }
      if (rand() < 0.5) w.flush();
      if (rand() < 0.1) {
        w.flush();
        expectSame(drainAll(r), pending.splice(0));
      }
    }
    w.flush();
    expectSame(drainAll(r), pending.splice(0));
    expect(r.takeLost()).toBe(w.dropped);
  });

  it('keeps working when the positions wrap past 2^32', () => {
    const ring = createRing(64 * 1024);
    const ctl = new Int32Array(ring.control);
    const start = (2 ** 32 - 5 * 65536 - 48) | 0;
    ctl[0] = start; // head
    ctl[1] = start; // tail
    const w = new RingWriter(ring);
    const r = new RingReader(ring);
    const rand = rng(99);
    let i = 0;
    for (let round = 0; round < 1000; round++) {
      const batch: Rec[] = [];
      for (let k = 0; k < 4; k++) {
        const rec = makeRecord(rand, i++, 1300);
        expect(put(w, rec)).toBe(true);
        batch.push(rec);
      }
      w.flush();
      expectSame(drainAll(r), batch);
    }
    // The head went past 2^32 and started again from 0.
    expect(ctl[0]! >>> 0).toBeLessThan(start >>> 0);
    expect(w.dropped).toBe(0);
  });

  it('refuses a record too large for the ring', () => {
    const ring = createRing(1);
    const w = new RingWriter(ring);
    expect(() => w.write(KIND_RTP, 0, 0, 0, 0, 0, 0, new Uint8Array(16 * 1024))).toThrow(RangeError);
    expect(w.write(KIND_RTP, 0, 0, 0, 0, 0, 0, new Uint8Array(16 * 1024 - RECORD_HEADER))).toBe(true);
  });

  it('drops when full, counts each drop, reports them once, and recovers after a drain', () => {
    const ring = createRing(1);
    const w = new RingWriter(ring);
    const r = new RingReader(ring);
    const rand = rng(3);
    const kept: Rec[] = [];
    let i = 0;
    // Records of one size, so none fits once one did not.
    const sized = (): Rec => ({ ...makeRecord(rand, i++, 0), body: new Uint8Array(1200).fill(i & 0xff) });
    for (;;) {
      const rec = sized();
      if (!put(w, rec)) break;
      kept.push(rec);
    }
    expect(kept.length).toBeGreaterThan(40);
    expect(w.dropped).toBe(1);
    for (let k = 0; k < 4; k++) expect(put(w, sized())).toBe(false);
    expect(w.dropped).toBe(5);
    w.flush();
    expect(r.takeLost()).toBe(5);
    expect(r.takeLost()).toBe(0);
    // What went in before the ring filled comes out whole.
    expectSame(drainAll(r), kept);
    const after = sized();
    expect(put(w, after)).toBe(true);
    w.flush();
    expectSame(drainAll(r), [after]);
    expect(r.takeLost()).toBe(0);
    put(w, makeRecord(rand, i++, 0));
    expect(w.dropped).toBe(5);
  });

  it('wait() resolves on the next flush, at once if one happened since, and on its timeout', async () => {
    const ring = createRing(1);
    const w = new RingWriter(ring);
    const r = new RingReader(ring);
    const since = r.written;
    const t = setTimeout(() => {
      w.write(KIND_RTP, 0, 1, 2, 3, 4, 5, Uint8Array.from([9]));
      w.flush();
    }, 20);
    await r.wait(since, 30_000);
    clearTimeout(t);
    expect(drainAll(r).map((x) => x.seq)).toEqual([2]);
    // A flush already happened after `since`: no wait.
    await r.wait(since, 30_000);
    // No flush: resolves (does not reject) when the timeout passes.
    await expect(r.wait(r.written, 10)).resolves.toBeUndefined();
  });
});

/**
 * The reader side of the egress worker, in a real worker thread: waits with
 * RingReader.wait (Atomics.waitAsync), drains, and posts what it read back in batches.
 */
const READER_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { RingReader, KIND_EVENT } = await import(workerData.module);
  const reader = new RingReader(workerData.ring);
  // As in egress-worker.ts, the port's listener keeps the thread alive: a pending
  // Atomics.waitAsync does not hold the event loop open, and the thread would exit.
  parentPort.on('message', () => {});
  let lost = 0;
  let waits = 0;
  let done = false;
  parentPort.postMessage({ op: 'ready' });
  while (!done) {
    const since = reader.written;
    const batch = [];
    reader.drain((r) => {
      if (r.kind === KIND_EVENT && r.body.toString() === 'end') done = true;
      else batch.push(r);
    });
    lost += reader.takeLost();
    if (batch.length) parentPort.postMessage({ op: 'records', batch });
    if (!done) {
      waits++;
      await reader.wait(since, 5000);
    }
  }
  parentPort.postMessage({ op: 'done', lost, waits });
})();
`;

describe('packet ring across threads', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.terminate();
    worker = undefined;
  });

  it('a reader in a worker thread receives what the main thread writes, in order, whole', async () => {
    const ring: RingBuffers = createRing(64 * 1024);
    const moduleUrl = new URL('./packet-ring.ts', import.meta.url).href;
    const got: RingRecord[] = [];
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    let finish!: (m: { lost: number; waits: number }) => void;
    const finished = new Promise<{ lost: number; waits: number }>((resolve) => (finish = resolve));
    worker = new Worker(READER_WORKER, { eval: true, workerData: { ring, module: moduleUrl } });
    let gone: Error | undefined;
    const failed = new Promise<never>((_, reject) => {
      worker!.once('error', (e) => reject((gone = e)));
      worker!.once('exit', (c) => reject((gone = new Error(`worker exited with ${c}`))));
    });
    failed.catch(() => {});
    const yieldToReader = async (): Promise<void> => {
      if (gone) throw gone;
      await new Promise((resolve) => setImmediate(resolve));
    };
    worker.on('message', (m: { op: string; batch?: RingRecord[]; lost?: number; waits?: number }) => {
      if (m.op === 'ready') ready();
      else if (m.op === 'records') got.push(...m.batch!);
      else if (m.op === 'done') finish({ lost: m.lost!, waits: m.waits! });
    });
    await Promise.race([isReady, failed]);

    const w = new RingWriter(ring);
    const rand = rng(2024);
    const sent: Rec[] = [];
    let refused = 0;
    for (let i = 0; i < 6000;) {
      const n = 1 + Math.floor(rand() * 20);
      for (let k = 0; k < n && i < 6000; k++) {
        const rec = makeRecord(rand, i, 1400);
        // The ring is small: when full, let the worker catch up and write the record again.
        while (!put(w, rec)) {
          refused++;
          w.flush();
          await yieldToReader();
        }
        sent.push(rec);
        i++;
      }
      w.flush();
      if (rand() < 0.3) await yieldToReader();
    }
    while (!w.write(KIND_EVENT, 0, 0, 0, 0, 0, 0, Buffer.from('end'))) {
      refused++;
      await yieldToReader();
    }
    w.flush();
    const { lost, waits } = await Promise.race([finished, failed]);

    // Bodies arrive as Uint8Array (structured clone of the reader's Buffers).
    expectSame(got, sent);
    // Every refused write was counted as a drop and reported to the reader.
    expect(lost).toBe(refused);
    expect(w.dropped).toBe(refused);
    // The reader slept on the ring (Atomics.waitAsync) rather than spinning.
    expect(waits).toBeGreaterThan(0);
    console.log(
      `ring across threads: ${sent.length} records, ${refused} writes refused while the reader caught up, ${waits} waits`,
    );
  });
});
