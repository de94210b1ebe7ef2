import { describe, expect, it } from 'vitest';
import { InboundGuard } from './inbound.ts';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('InboundGuard', () => {
  it('admits valid messages of every type', () => {
    const g = new InboundGuard({ perSecond: 100, burst: 100 });
    for (const m of [
      { type: 'chat.send', text: '안녕하세요', clientId: 'a1' },
      { type: 'chat.delete', id: '0b7e9a3c-1111-4222-8333-444455556666' },
      { type: 'chat.lock', locked: true },
      { type: 'ping' },
      { type: 'ping', id: 3 },
    ]) {
      expect(g.accept(JSON.stringify(m))).toEqual({ ok: true, msg: m });
    }
  });

  it('names what is wrong with a stable code', () => {
    const g = new InboundGuard({ perSecond: 100, burst: 100 });
    const code = (raw: string | Buffer, binary = false) => {
      const r = g.accept(raw, binary);
      return r.ok ? 'ok' : r.code;
    };
    expect(code('{')).toBe('INVALID_JSON');
    expect(code('"text"')).toBe('VALIDATION');
    expect(code('null')).toBe('VALIDATION');
    expect(code('[]')).toBe('VALIDATION');
    expect(code('{"type":1}')).toBe('VALIDATION');
    expect(code('{"type":"__proto__"}')).toBe('UNKNOWN_TYPE');
    expect(code('{"type":"toString"}')).toBe('UNKNOWN_TYPE');
    expect(code('{"type":"chat.send"}')).toBe('VALIDATION');
    expect(code('{"type":"chat.send","text":""}')).toBe('VALIDATION');
    expect(code('{"type":"chat.send","text":"hi","extra":1}')).toBe('VALIDATION');
    expect(code('{"type":"ping","id":1.5}')).toBe('VALIDATION');
    expect(code(Buffer.from('{"type":"ping"}'), true)).toBe('INVALID_JSON');
    expect(code(Buffer.from('{"type":"ping"}'))).toBe('ok');
    const r = g.accept('{"type":"chat.send","text":5}');
    expect(r).toMatchObject({ ok: false, ref: 'chat.send', message: expect.stringMatching(/^\/text: /) });
  });

  it('rate-limits with a token bucket that refills', () => {
    const c = clock();
    const g = new InboundGuard({ perSecond: 2, burst: 3, maxStrikes: 100 }, c.now);
    const ping = '{"type":"ping"}';
    expect([1, 2, 3, 4].map(() => g.accept(ping).ok)).toEqual([true, true, true, false]);
    expect(g.accept(ping)).toMatchObject({ ok: false, code: 'RATE_LIMITED' });
    c.advance(500);
    expect(g.accept(ping).ok).toBe(true);
    expect(g.accept(ping).ok).toBe(false);
    c.advance(10_000);
    expect([1, 2, 3, 4].map(() => g.accept(ping).ok)).toEqual([true, true, true, false]);
  });

  it('marks a socket abusive after too many refusals in the window, and forgives later', () => {
    const c = clock();
    const g = new InboundGuard({ perSecond: 100, burst: 100, maxStrikes: 3, strikeWindowMs: 1000 }, c.now);
    const abuse = () => {
      const r = g.accept('nope');
      return !r.ok && r.abuse;
    };
    expect([abuse(), abuse(), abuse()]).toEqual([false, false, false]);
    expect(abuse()).toBe(true);
    c.advance(1001);
    expect(abuse()).toBe(false);
    expect(g.strike()).toBe(false);
  });
});
