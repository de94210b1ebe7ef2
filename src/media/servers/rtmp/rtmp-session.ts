/**
 * One RTMP connection: handshake → chunk parser → commands (connect, releaseStream, FCPublish,
 * createStream, publish, FCUnpublish, deleteStream; play is refused) → media into the registry.
 * Any error closes this connection only, with a logged stable code; nothing is thrown out.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { AirError, isAirError, type ErrorCode } from '../../../shared/errors.ts';
import { redactUrl, type Logger } from '../../../shared/logger.ts';
import type { Amf0Object } from '../../protocol/amf/amf0.ts';
import { ChunkParser, ChunkWriter, type RtmpMessage } from '../../protocol/rtmp/chunk.ts';
import { ServerHandshake } from '../../protocol/rtmp/handshake.ts';
import {
  CommandMessage,
  ControlMessage,
  DataMessage,
  MessageType,
  SetPeerBandwidth,
  splitAggregate,
  UserControl,
  UserControlEvent,
} from '../../protocol/rtmp/messages.ts';
import type { Publisher, StreamRegistry } from '../../stream/registry.ts';
import {
  connectResult,
  createStreamResult,
  mergeQueries,
  onFCPublish,
  onStatus,
  splitName,
  tcUrlQuery,
} from './rtmp-commands.ts';
import { RtmpMedia } from './rtmp-media.ts';
import type { RtmpAuthorize, RtmpLimits } from './rtmp-options.ts';

/** Dependencies of a session. */
export interface RtmpSessionDeps {
  id: string;
  registry: StreamRegistry;
  authorize: RtmpAuthorize;
  logger: Logger;
  limits: RtmpLimits;
}

/** Events of a session. */
export interface RtmpSessionEvents {
  /** The connection ended; `code` is set when it ended on an error or a refusal. */
  close: [code: ErrorCode | undefined, reason: string];
}

const OUT_CHUNK_SIZE = 4096;

/** Text for the log with anything shaped like a stream key (32+ URL-safe characters) redacted. */
export function redactKeys(s: string): string {
  return redactUrl(s).replace(/[A-Za-z0-9_-]{32,}/g, '[redacted]');
}
const WINDOW_ACK_SIZE = 5_000_000;

/** One RTMP client connection. */
export class RtmpSession extends EventEmitter<RtmpSessionEvents> {
  readonly id: string;
  readonly remote: string;
  state: 'handshake' | 'connected' | 'publishing' | 'closed' = 'handshake';
  /** The client's address (without port), for the server's per-address caps. */
  readonly remoteAddress: string;
  app: string | undefined;
  /** The path being published, once authorised. */
  path: string | undefined;
  /** How the publisher got in, as the authorize hook tagged it (e.g. "key", "token"). */
  auth: string | undefined;
  media: RtmpMedia | undefined;
  private readonly socket: Socket;
  private readonly deps: RtmpSessionDeps;
  private readonly log: Logger;
  private readonly handshake = new ServerHandshake({ now: () => Date.now() });
  private readonly parser: ChunkParser;
  private readonly writer = new ChunkWriter();
  private readonly queue: RtmpMessage[] = [];
  private busy = false;
  private connectQuery = new URLSearchParams();
  private nextStreamId = 1;
  private publisher: Publisher | undefined;
  private ackWindow = 0;
  private lastAck = 0;
  private readonly handshakeTimer: NodeJS.Timeout;
  private publishTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, deps: RtmpSessionDeps) {
    super();
    this.id = deps.id;
    this.socket = socket;
    this.deps = deps;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.log = deps.logger.child({ rtmp: deps.id, remote: this.remote });
    // Small messages only until the publish is authorised (a connect or publish command is a
    // few hundred bytes); the full limit applies to media.
    this.parser = new ChunkParser({
      maxMessageSize: Math.min(deps.limits.preAuthMaxMessageSize, deps.limits.maxMessageSize),
      maxChunkSize: deps.limits.maxChunkSize,
      maxChunkStreams: deps.limits.maxChunkStreams,
    });
    socket.setNoDelay(true);
    socket.setTimeout(deps.limits.idleTimeoutMs, () => this.close('RTMP_PROTOCOL', 'idle timeout'));
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.log.debug({ err: e.message }, 'RTMP socket error'));
    socket.on('close', () => this.close(undefined, 'connection closed by peer'));
    this.handshakeTimer = setTimeout(() => {
      if (this.state === 'handshake') this.close('RTMP_PROTOCOL', 'handshake timeout');
    }, deps.limits.handshakeTimeoutMs);
    this.publishTimer = setTimeout(
      () => this.close('RTMP_PROTOCOL', 'no publish in time'),
      deps.limits.publishTimeoutMs,
    );
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    try {
      let bytes: Uint8Array = chunk;
      if (this.state === 'handshake') {
        const step = this.handshake.process(bytes);
        if (step.send) this.socket.write(step.send);
        if (!step.done) return;
        this.state = 'connected';
        clearTimeout(this.handshakeTimer);
        bytes = step.rest;
      }
      this.queue.push(...this.parser.process(bytes));
      if (this.state !== 'publishing' && this.queue.length > this.deps.limits.preAuthMaxQueued) {
        throw new AirError(
          'RTMP_TOO_LARGE',
          `more than ${this.deps.limits.preAuthMaxQueued} messages before publishing`,
        );
      }
      this.acknowledge();
    } catch (e) {
      this.fail(e);
      return;
    }
    this.pump();
  }

  /** Handles queued messages in order; pauses the socket while a command awaits (authorize). */
  private pump(): void {
    while (!this.busy && this.state !== 'closed' && this.queue.length > 0) {
      const msg = this.queue.shift()!;
      let pending: Promise<void> | undefined;
      try {
        pending = this.handle(msg);
      } catch (e) {
        this.fail(e);
        return;
      }
      if (pending) {
        this.busy = true;
        this.socket.pause();
        pending
          .catch((e: unknown) => this.fail(e))
          .finally(() => {
            this.busy = false;
            if (this.state === 'closed') return;
            this.socket.resume();
            this.pump();
          });
      }
    }
  }

  private send(msg: RtmpMessage): void {
    if (this.state !== 'closed' && !this.socket.destroyed) this.socket.write(this.writer.write(msg));
  }

  private acknowledge(): void {
    if (this.ackWindow > 0 && this.parser.bytesIn - this.lastAck >= this.ackWindow) {
      this.lastAck = this.parser.bytesIn;
      this.send(new ControlMessage(MessageType.Ack, this.parser.bytesIn).serialize());
    }
  }

  private handle(msg: RtmpMessage): Promise<void> | undefined {
    switch (msg.typeId) {
      case MessageType.WindowAckSize:
        this.ackWindow = ControlMessage.parse(msg).value;
        return;
      case MessageType.UserControl: {
        const u = UserControl.parse(msg);
        if (u.event === UserControlEvent.PingRequest) {
          this.send(new UserControl(UserControlEvent.PingResponse, u.values).serialize());
        }
        return;
      }
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        return this.command(CommandMessage.parse(msg), msg.streamId);
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        if (this.media) this.media.data(DataMessage.parse(msg).values);
        return;
      case MessageType.Audio:
        if (this.media) this.media.audio(msg.timestamp, msg.payload);
        return;
      case MessageType.Video:
        if (this.media) this.media.video(msg.timestamp, msg.payload);
        return;
      case MessageType.Aggregate:
        for (const sub of splitAggregate(msg)) {
          if (sub.typeId === MessageType.Audio || sub.typeId === MessageType.Video) this.handle(sub);
        }
        return;
      default:
        return; // chunk size, abort, ack, peer bandwidth, shared objects: nothing to do
    }
  }

  private command(cmd: CommandMessage, streamId: number): Promise<void> | undefined {
    if (cmd.name !== 'connect' && this.app === undefined) {
      throw new AirError('RTMP_PROTOCOL', `command "${cmd.name.slice(0, 40)}" before connect`);
    }
    switch (cmd.name) {
      case 'connect':
        return this.connect(cmd);
      case 'createStream':
        this.send(createStreamResult(cmd.transactionId, this.nextStreamId++));
        return;
      case 'FCPublish':
        this.send(onFCPublish());
        return;
      case 'publish':
        return this.publish(cmd, streamId);
      case 'play':
      case 'play2':
        this.log.info('RTMP play refused');
        this.send(
          onStatus(
            streamId,
            'error',
            'NetStream.Play.Failed',
            'Playback over RTMP is not offered here; watch over WebRTC.',
          ),
        );
        this.close(undefined, 'play is not supported', true);
        return;
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        this.unpublish(cmd.name);
        return;
      default:
        return; // releaseStream, _checkbw, getStreamLength, …: no answer needed (as nginx-rtmp)
    }
  }

  private connect(cmd: CommandMessage): undefined {
    if (this.app !== undefined) throw new AirError('RTMP_PROTOCOL', 'second connect');
    const o = (
      cmd.object && typeof cmd.object === 'object' && !Array.isArray(cmd.object) ? cmd.object : {}
    ) as Amf0Object;
    const rawApp = typeof o.app === 'string' ? o.app : '';
    const { name: app, query } = splitName(rawApp.replace(/\/+$/, ''));
    this.app = app;
    this.connectQuery = mergeQueries(tcUrlQuery(typeof o.tcUrl === 'string' ? o.tcUrl : ''), query);
    const encoding = typeof o.objectEncoding === 'number' ? o.objectEncoding : 0;
    this.log.debug(
      { app: redactKeys(app), tcUrl: typeof o.tcUrl === 'string' ? redactKeys(o.tcUrl) : undefined },
      'RTMP connect',
    );
    this.send(new ControlMessage(MessageType.WindowAckSize, WINDOW_ACK_SIZE).serialize());
    this.send(new SetPeerBandwidth(WINDOW_ACK_SIZE, 2).serialize());
    this.send(new ControlMessage(MessageType.SetChunkSize, OUT_CHUNK_SIZE).serialize());
    this.send(connectResult(cmd.transactionId, encoding));
    return undefined;
  }

  private async publish(cmd: CommandMessage, streamId: number): Promise<void> {
    const raw = typeof cmd.args[0] === 'string' ? cmd.args[0] : '';
    const { name, query } = splitName(raw);
    // The stream name may be a class's stream key: it never reaches the log, only its length.
    const logName = { nameLength: name.length };
    if (this.publisher || !name) {
      this.refuse(
        streamId,
        'NetStream.Publish.BadName',
        'RTMP_PROTOCOL',
        this.publisher ? 'already publishing on this connection' : 'empty stream name',
      );
      return;
    }
    let path: string;
    let auth: string | undefined;
    try {
      ({ path, auth } = await this.deps.authorize({
        app: this.app ?? '',
        name,
        query: mergeQueries(this.connectQuery, query),
        remote: this.remote,
      }));
    } catch (e) {
      const code = isAirError(e) ? e.code : 'INTERNAL';
      const message = isAirError(e) && e.status < 500 ? e.message : 'internal error';
      const status = code.startsWith('TOKEN_')
        ? 'NetStream.Publish.Unauthorized'
        : 'NetStream.Publish.BadName';
      this.log.warn({ code, app: redactKeys(this.app ?? ''), ...logName }, 'RTMP publish refused');
      this.refuse(streamId, status, code, `${code}: ${message}`);
      return;
    }
    if (this.state === 'closed') return;
    try {
      this.publisher = this.deps.registry.publish(path, {
        id: this.id,
        protocol: 'rtmp',
        remote: this.remote,
      });
    } catch (e) {
      if (!isAirError(e, 'PATH_BUSY')) throw e;
      this.log.warn({ code: e.code, path }, 'RTMP publish refused: path busy');
      this.refuse(
        streamId,
        'NetStream.Publish.BadName',
        'PATH_BUSY',
        `PATH_BUSY: ${path} is already publishing`,
      );
      return;
    }
    this.path = path;
    this.auth = auth;
    this.state = 'publishing';
    this.parser.setMaxMessageSize(this.deps.limits.maxMessageSize);
    clearTimeout(this.publishTimer);
    this.publishTimer = undefined;
    this.media = new RtmpMedia(this.publisher, this.log.child({ path }));
    this.log.info({ app: redactKeys(this.app ?? ''), path, auth }, 'RTMP publish started');
    this.send(new UserControl(UserControlEvent.StreamBegin, [streamId]).serialize());
    this.send(
      onStatus(streamId, 'status', 'NetStream.Publish.Start', `${path} is now published.`, { details: path }),
    );
  }

  private refuse(streamId: number, status: string, code: ErrorCode, description: string): void {
    this.send(onStatus(streamId, 'error', status, description));
    this.close(code, description, true);
  }

  private unpublish(why: string): void {
    if (!this.publisher) return;
    this.log.info({ path: this.path, why, stats: this.media?.stats }, 'RTMP publish ended');
    this.publisher.close();
    this.publisher = undefined;
    this.media = undefined;
    this.state = 'connected';
  }

  private fail(e: unknown): void {
    const code: ErrorCode = isAirError(e) ? e.code : 'INTERNAL';
    const message = e instanceof Error ? e.message : String(e);
    this.log.warn({ code, err: message }, 'RTMP connection closed on error');
    this.close(code, message);
  }

  /**
   * Ends the connection and its publish (the registry keeps viewers for the grace period).
   * `flush` lets queued replies (a refusal's onStatus) reach the client first. Idempotent.
   */
  close(code?: ErrorCode, reason = 'closed', flush = false): void {
    if (this.state === 'closed') return;
    this.unpublish(reason);
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.publishTimer);
    this.queue.length = 0;
    if (flush && !this.socket.destroyed) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref();
    } else this.socket.destroy();
    this.emit('close', code, reason);
  }
}
