/**
 * Bad input on the class channel (DESIGN §9): malformed JSON, wrong types, unknown types,
 * binary and oversized frames, floods. Each is answered with an error code (or, for an
 * oversized frame or abuse, a close of that socket only) while the other sockets of the class
 * keep chatting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChannel, type ChannelHarness } from './helpers/channel.ts';
import type { Msg, TestSocket } from './helpers/ws-client.ts';

const isChat = (text: string) => (m: Msg) => m.type === 'chat.message' && m.text === text;

describe('class channel input', () => {
  let h: ChannelHarness;
  let teacher: TestSocket;
  let bystander: TestSocket;
  let classToken: () => Promise<string>;

  beforeAll(async () => {
    h = await startChannel({ bus: 'memory', limits: { perSecond: 2, burst: 8, maxStrikes: 12 } });
    const t = await h.teacher();
    const c = await h.classOf(t.user);
    teacher = await h.connect(t.token, { classId: c.id });
    bystander = await h.connect((await h.student(c, 'Bystander')).token);
    let n = 0;
    classToken = async () => (await h.student(c, `Student ${++n}`)).token;
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** Sends `raw` and returns the error it earned. */
  async function errorFor(s: TestSocket, raw: unknown): Promise<Msg> {
    const before = s.all('error').length;
    s.send(raw);
    await s.next(() => s.all('error').length > before, 3000);
    return s.all('error')[before]!;
  }

  it('answers bad messages with stable codes and keeps the socket open', async () => {
    const s = await h.connect(await classToken());
    expect(await errorFor(s, '{"type": "chat.send", "text": ')).toMatchObject({ code: 'INVALID_JSON' });
    expect(await errorFor(s, { type: 'chat.send', text: 5 })).toMatchObject({
      code: 'VALIDATION',
      ref: 'chat.send',
    });
    expect(await errorFor(s, { type: 'chat.send', text: 'x'.repeat(1001) })).toMatchObject({
      code: 'VALIDATION',
    });
    expect(await errorFor(s, { type: 'chat.send', text: 'hi', admin: true })).toMatchObject({
      code: 'VALIDATION',
    });
    expect(await errorFor(s, { type: 'chat.lock', locked: 'yes' })).toMatchObject({ code: 'VALIDATION' });
    await new Promise((r) => setTimeout(r, 2500)); // let the rate limit (2/s, burst 8) refill
    expect(await errorFor(s, { type: 'teleport' })).toMatchObject({ code: 'UNKNOWN_TYPE', ref: 'teleport' });
    expect(await errorFor(s, { text: 'no type' })).toMatchObject({ code: 'VALIDATION' });
    expect(await errorFor(s, '[1, 2, 3]')).toMatchObject({ code: 'VALIDATION' });
    s.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
    await s.next((m) => m.type === 'error' && m.code === 'INVALID_JSON' && /Binary/.test(String(m.message)));

    // Still open and useful.
    await new Promise((r) => setTimeout(r, 2500)); // let the rate limit refill
    s.send({ type: 'ping', id: 7 });
    expect(await s.nextOf('pong')).toMatchObject({ id: 7 });
    s.send({ type: 'chat.send', text: 'still here' });
    await bystander.next(isChat('still here'));
    await s.close();
  });

  it('closes only the socket that sends an oversized frame (1009)', async () => {
    const s = await h.connect(await classToken());
    s.send({ type: 'chat.send', text: 'y'.repeat(9000) });
    expect((await s.closed).code).toBe(1009);
    teacher.send({ type: 'chat.send', text: 'after the big one' });
    await bystander.next(isChat('after the big one'));
    bystander.send({ type: 'chat.send', text: 'I am fine' });
    await teacher.next(isChat('I am fine'));
  });

  it('closes a socket that sends a text frame that is not UTF-8 (1007, as RFC 6455 asks)', async () => {
    const s = await h.connect(await classToken());
    s.ws.send(Buffer.from([0x7b, 0xde, 0xad, 0xbe, 0xef, 0x7d]), { binary: false });
    expect((await s.closed).code).toBe(1007);
    teacher.send({ type: 'chat.send', text: 'after the bad bytes' });
    await bystander.next(isChat('after the bad bytes'));
  });

  it('rate-limits a socket, then closes it as abusive (1008) if it keeps on', async () => {
    const s = await h.connect(await classToken());
    for (let i = 0; i < 10; i++) s.send({ type: 'ping', id: i });
    await s.next(() => s.all('pong').length + s.all('error').length >= 10);
    expect(s.all('pong').length).toBeGreaterThanOrEqual(8);
    expect(s.all('error').every((e) => e.code === 'RATE_LIMITED')).toBe(true);
    expect(s.all('error').length).toBeGreaterThan(0);
    for (let i = 0; i < 40; i++) s.send({ type: 'ping', id: i });
    expect((await s.closed).code).toBe(1008);
    teacher.send({ type: 'chat.send', text: 'after the flood' });
    await bystander.next(isChat('after the flood'));
  });
});
