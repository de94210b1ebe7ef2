import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import type { ErrorCode } from '../../shared/errors.ts';
import { CLIENT_SCHEMAS, type ClientMessage, type ClientType } from './messages.ts';

/** Limits of one socket's incoming messages. */
export interface InboundLimits {
  /** Sustained messages per second. */
  perSecond: number;
  /** Messages allowed in a burst above the sustained rate. */
  burst: number;
  /** Refused messages (bad or over the rate) tolerated per `strikeWindowMs` before closing. */
  maxStrikes?: number;
  strikeWindowMs?: number;
}

/** What the guard made of one frame. */
export type Inbound =
  | { ok: true; msg: ClientMessage }
  | { ok: false; code: ErrorCode; message: string; ref?: string; abuse: boolean };

const CHECKS = Object.fromEntries(
  Object.entries(CLIENT_SCHEMAS).map(([type, schema]) => [type, TypeCompiler.Compile(schema as TSchema)]),
) as Record<ClientType, TypeCheck<TSchema>>;

/**
 * Admits one socket's frames: a token bucket (rate limit), then JSON, then a known `type`,
 * then its schema. A refused frame becomes an error with a stable code; too many refusals in
 * a window mark the socket as abusive (the caller closes it). The frame size limit is the
 * WebSocket server's `maxPayload` and is not checked here.
 */
export class InboundGuard {
  private readonly limits: Required<InboundLimits>;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  private strikes: number[] = [];

  constructor(limits: InboundLimits, now: () => number = Date.now) {
    this.limits = { maxStrikes: 30, strikeWindowMs: 10_000, ...limits };
    this.now = now;
    this.tokens = limits.burst;
    this.refilledAt = now();
  }

  /** Judges one frame. */
  accept(data: Buffer | ArrayBuffer | Buffer[] | string, isBinary = false): Inbound {
    if (!this.take()) return this.refuse('RATE_LIMITED', 'Too many messages; slow down.');
    if (isBinary) return this.refuse('INVALID_JSON', 'Binary frames are not accepted; send JSON text.');
    let value: unknown;
    try {
      value = JSON.parse(typeof data === 'string' ? data : toBuffer(data).toString('utf8'));
    } catch {
      return this.refuse('INVALID_JSON', 'The message is not valid JSON.');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.refuse('VALIDATION', 'A message is a JSON object with a "type".');
    }
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string') return this.refuse('VALIDATION', 'A message needs a string "type".');
    if (!Object.hasOwn(CHECKS, type)) {
      return this.refuse('UNKNOWN_TYPE', `Unknown message type "${type.slice(0, 40)}".`, type.slice(0, 40));
    }
    const check = CHECKS[type as ClientType];
    if (!check.Check(value)) {
      const first = check.Errors(value).First();
      const where = first?.path || '/';
      return this.refuse('VALIDATION', `${where}: ${first?.message ?? 'invalid'}`, type);
    }
    return { ok: true, msg: value as ClientMessage };
  }

  /** Counts a refusal decided elsewhere (e.g. a forbidden action); true when now abusive. */
  strike(): boolean {
    const t = this.now();
    this.strikes.push(t);
    while (this.strikes.length > 0 && this.strikes[0]! <= t - this.limits.strikeWindowMs)
      this.strikes.shift();
    return this.strikes.length > this.limits.maxStrikes;
  }

  private refuse(code: ErrorCode, message: string, ref?: string): Inbound {
    return { ok: false, code, message, ref, abuse: this.strike() };
  }

  private take(): boolean {
    const t = this.now();
    const { perSecond, burst } = this.limits;
    this.tokens = Math.min(burst, this.tokens + ((t - this.refilledAt) / 1000) * perSecond);
    this.refilledAt = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
