/**
 * A WebSocket client for tests and benchmarks (the `ws` package): keeps every JSON message it
 * receives and waits for the one that matches.
 */
import WebSocket from 'ws';

/** A server message as received (JSON object with a `type`). */
export type Msg = { type: string; seq?: number; [k: string]: unknown };

/** How a socket ended. */
export interface Closed {
  code: number;
  reason: string;
}

/** A connected test client. */
export class TestSocket {
  readonly ws: WebSocket;
  readonly messages: Msg[] = [];
  /** Resolves when the socket closes. */
  readonly closed: Promise<Closed>;
  private waiters: Array<() => void> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Msg);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const w of this.waiters.splice(0)) w();
      }),
    );
    ws.on('error', () => undefined);
  }

  /**
   * Opens `url`; resolves once open. Rejects with `{ status, body }` when the server refuses
   * the upgrade with an HTTP error.
   */
  static open(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const t = new TestSocket(ws);
      ws.once('open', () => resolve(t));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })),
        );
      });
      ws.once('error', (e) => reject(e));
    });
  }

  /** Sends an object as JSON, or a string / buffer as is. */
  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg));
  }

  /**
   * The first message (from index `from`) matching `pred`; waits up to `timeoutMs` for it.
   * Rejects on timeout or when the socket closes first.
   */
  async next(pred: (m: Msg) => boolean, timeoutMs = 5000, from = 0): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(pred);
      if (found) return found;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('socket closed while waiting');
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.messages.map((m) => m.type).join(', ');
        throw new Error(`timed out waiting for a message; got: ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for a message of `type` (optionally also matching `pred`). */
  nextOf(type: string, pred: (m: Msg) => boolean = () => true, timeoutMs = 5000): Promise<Msg> {
    return this.next((m) => m.type === type && pred(m), timeoutMs);
  }

  /** Messages of a type received so far. */
  all(type: string): Msg[] {
    return this.messages.filter((m) => m.type === type);
  }

  /** Closes the socket and waits for the close. */
  async close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}
