/** The outbox over a real WebSocket pair on 127.0.0.1. */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Outbox } from './outbox.ts';

async function pair(): Promise<{
  server: WebSocket;
  wire: Socket;
  client: WebSocket;
  got: string[];
  close(): void;
}> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  const accepted = new Promise<[WebSocket, Socket]>((r) =>
    wss.once('connection', (ws, req) => r([ws, req.socket])),
  );
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const got: string[] = [];
  client.on('message', (d) => got.push(String(d)));
  await new Promise((r) => client.once('open', r));
  const [server, wire] = await accepted;
  return {
    server,
    wire,
    client,
    got,
    close: () => {
      client.terminate();
      wss.close();
    },
  };
}

const until = async (pred: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('Outbox', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((f) => f()));

  it('keeps order: held frames go out before the next urgent one, or after batchMs', async () => {
    const p = await pair();
    cleanups.push(p.close);
    const out = new Outbox(p.server, p.wire, {
      maxBufferedBytes: 1 << 20,
      batchMs: 50,
      onSlow: () => undefined,
    });
    out.hold('p1');
    out.hold('p2');
    out.send('chat');
    out.hold('p3');
    await until(() => p.got.length === 3);
    expect(p.got).toEqual(['p1', 'p2', 'chat']);
    const t0 = Date.now();
    await until(() => p.got.length === 4);
    expect(p.got[3]).toBe('p3');
    expect(Date.now() - t0).toBeLessThan(1000);
    out.close();
    out.hold('dropped');
    out.send('dropped too');
    await new Promise((r) => setTimeout(r, 100));
    expect(p.got).toHaveLength(4);
  });

  it('reports a reader that stopped reading, once, and sends nothing after', async () => {
    const p = await pair();
    cleanups.push(p.close);
    let slow = 0;
    const out = new Outbox(p.server, p.wire, {
      maxBufferedBytes: 64 * 1024,
      batchMs: 10,
      onSlow: () => slow++,
    });
    (p.client as unknown as { _socket: Socket })._socket.pause();
    const big = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 2000 && slow === 0; i++) {
      out.send(big);
      await new Promise((r) => setImmediate(r));
    }
    expect(slow).toBe(1);
    out.send(big);
    expect(slow).toBe(1);
  });
});
