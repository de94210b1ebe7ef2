/**
 * A minimal RTMP client over a raw socket, for tests: it can speak correctly (handshake,
 * connect, createStream, publish) and then send whatever bytes a test needs, good or bad.
 */
import { connect, type Socket } from 'node:net';
import type { Amf0Value } from '../../protocol/amf/amf0.ts';
import { ChunkParser, ChunkWriter, type RtmpMessage } from '../../protocol/rtmp/chunk.ts';
import { HANDSHAKE_SIZE } from '../../protocol/rtmp/handshake.ts';
import { CommandMessage, Csid } from '../../protocol/rtmp/messages.ts';

/** A test RTMP client. */
export class RawRtmpClient {
  readonly socket: Socket;
  readonly received: RtmpMessage[] = [];
  /** Resolves when the server closes (or the socket fails). */
  readonly closed: Promise<void>;
  private readonly writer = new ChunkWriter();
  private readonly parser = new ChunkParser();
  private waiters: { pred: (m: RtmpMessage) => boolean; resolve: (m: RtmpMessage) => void }[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
  }

  /** Connects and runs a simple handshake, leaving the socket ready for chunks. */
  static async open(port: number, host = '127.0.0.1'): Promise<RawRtmpClient> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawRtmpClient(socket);
    const c1 = new Uint8Array(HANDSHAKE_SIZE).map(() => (Math.random() * 256) | 0);
    c1.fill(0, 0, 8);
    socket.write(Uint8Array.of(3, ...c1));
    let got = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        got = Buffer.concat([got, d]);
        if (got.length < 1 + 2 * HANDSHAKE_SIZE) return;
        socket.off('data', onData);
        socket.write(got.subarray(1, 1 + HANDSHAKE_SIZE)); // C2 = S1
        const rest = got.subarray(1 + 2 * HANDSHAKE_SIZE);
        socket.on('data', (b: Buffer) => client.onData(b));
        if (rest.length) client.onData(rest);
        resolve();
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error('closed during handshake')));
    });
    return client;
  }

  private onData(b: Uint8Array): void {
    for (const m of this.parser.process(b)) {
      this.received.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    }
  }

  /** Sends a message through the chunk writer. */
  send(msg: RtmpMessage): void {
    this.socket.write(this.writer.write(msg));
  }

  /** Sends a command. */
  command(
    name: string,
    transactionId: number,
    object: Amf0Value,
    args: Amf0Value[] = [],
    streamId = 0,
  ): void {
    this.send(
      new CommandMessage(name, transactionId, object, args).serialize(
        streamId ? Csid.stream : Csid.command,
        streamId,
      ),
    );
  }

  /** Resolves with the first received command named `name` (already received or still to come). */
  waitForCommand(name: string): Promise<CommandMessage> {
    const isIt = (m: RtmpMessage): boolean => m.typeId === 20 && CommandMessage.parse(m).name === name;
    const seen = this.received.find(isIt);
    if (seen) return Promise.resolve(CommandMessage.parse(seen));
    return new Promise((resolve) =>
      this.waiters.push({ pred: isIt, resolve: (m) => resolve(CommandMessage.parse(m)) }),
    );
  }

  /** connect + createStream + publish; resolves with the publish onStatus. */
  async publish(app: string, name: string): Promise<CommandMessage> {
    this.command('connect', 1, { app, tcUrl: `rtmp://127.0.0.1/${app}`, type: 'nonprivate' });
    await this.waitForCommand('_result');
    this.command('createStream', 2, null);
    this.command('publish', 0, null, [name, 'live'], 1);
    return this.waitForCommand('onStatus');
  }

  /** Closes the socket. */
  destroy(): void {
    this.socket.destroy();
  }
}
