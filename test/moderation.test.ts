import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_DATABASE_URL,
  createTestSchema,
  dropTestSchema,
  urlWithSchema,
} from '../src/control/store/testing.ts';
import {
  addPending,
  chatReduce,
  initialChat,
  type ChatState,
} from '../web/src/lib/components/chat/chat-state.ts';
import { startClassroomApp, type ClassroomApp } from './helpers/classroom-app.ts';
import { TEST_REDIS_URL, dropRedisPrefix } from './helpers/redis.ts';
import type { Msg, TestSocket } from './helpers/ws-client.ts';

/**
 * The chat hold (issue 10) over real WebSockets, the real API and a real PGlite store: a
 * student's message with a phone number waits for the teacher (nobody else sees it; its sender
 * is told it waits), the teacher's approval posts it as an ordinary chat message everyone sees,
 * a rejection never shows it, students cannot decide, the console's REST list shows what waits,
 * and a decision is made once. Also the student's own chat log (the panel's reducer): waiting,
 * rejected, replaced by the approved message. And across two replicas on PostgreSQL and Redis.
 */

const PHONE = '제 번호는 010-1234-5678 이에요';
const isChat = (text: string) => (m: Msg) => m.type === 'chat.message' && m.text === text;

describe('chat hold: held messages wait in a moderation queue', () => {
  let a: ClassroomApp;
  let teacher: string;
  let classId: string;
  let tws: TestSocket;
  /** A read-only monitor link (a projector, a visitor): never sees held messages. */
  let mws: TestSocket;
  const sockets: TestSocket[] = [];
  const students: { token: string; id: string; ws: TestSocket }[] = [];

  const open = async (token: string, cls?: string) => {
    const s = await a.connect(token, cls);
    sockets.push(s);
    return s;
  };
  const heldList = async (token: string) =>
    a.call({ method: 'GET', url: `/api/classes/${classId}/chat/held`, token });

  beforeAll(async () => {
    a = await startClassroomApp();
    teacher = (await a.teacher()).token;
    const c = (
      await a.call({ method: 'POST', url: '/api/classes', token: teacher, payload: { title: '국어' } })
    ).json() as { id: string; joinCode: string };
    classId = c.id;
    await a.call({ method: 'POST', url: `/api/classes/${classId}/start`, token: teacher });
    tws = await open(teacher, classId);
    const link = (
      await a.call({ method: 'POST', url: `/api/classes/${classId}/monitor-links`, token: teacher })
    ).json() as { token: string };
    mws = await open(link.token);
    for (const name of ['하나', '두리']) {
      const j = (
        await a.call({ method: 'POST', url: '/api/join', payload: { code: c.joinCode, name } })
      ).json() as { token: string; participantId: string };
      students.push({ token: j.token, id: j.participantId, ws: await open(j.token) });
    }
  });
  afterAll(async () => {
    for (const s of sockets) await s.close().catch(() => undefined);
    await a?.remove();
  });

  it('holds a phone number: the teacher sees it, the other student does not; approval posts it', async () => {
    const [s1, s2] = students as [(typeof students)[0], (typeof students)[0]];
    s1.ws.send({ type: 'chat.send', text: PHONE, clientId: 'p1' });
    const pending = await s1.ws.nextOf('chat.pending');
    expect(pending).toMatchObject({ clientId: 'p1', reasons: ['phone'] });
    const held = await tws.nextOf('chat.held');
    expect(held.held).toMatchObject({
      id: pending.id,
      from: { id: s1.id, name: '하나' },
      text: PHONE,
      reasons: ['phone'],
    });
    expect(held.audience).toBe('teachers');

    // The REST list (what the console loads after a reload) has it, for the teacher only.
    const list = await heldList(teacher);
    expect(list.statusCode).toBe(200);
    expect((list.json() as { held: Msg[] }).held).toMatchObject([
      { id: pending.id, text: PHONE, reasons: ['phone'], from: { name: '하나' } },
    ]);
    expect((await heldList(s1.token)).statusCode).toBe(403);

    // A student cannot approve it.
    s2.ws.send({ type: 'chat.approve', id: pending.id as string });
    expect(await s2.ws.nextOf('error', (m) => m.ref === 'chat.approve')).toMatchObject({ code: 'FORBIDDEN' });
    s2.ws.send({ type: 'chat.reject', id: pending.id as string });
    expect(await s2.ws.nextOf('error', (m) => m.ref === 'chat.reject')).toMatchObject({ code: 'FORBIDDEN' });

    // Something posted after it reaches s2, and the held one did not come before it.
    tws.send({ type: 'chat.send', text: '잠시만요' });
    await s2.ws.next(isChat('잠시만요'));
    expect(s2.ws.messages.some((m) => JSON.stringify(m).includes('010-1234-5678'))).toBe(false);
    expect(s2.ws.all('chat.held')).toEqual([]);
    await mws.next(isChat('잠시만요'));
    expect(mws.all('chat.held')).toEqual([]);
    expect(mws.messages.some((m) => JSON.stringify(m).includes('010-1234-5678'))).toBe(false);

    // Approval: an ordinary chat message from 하나 that everyone sees; staff told it is decided.
    tws.send({ type: 'chat.approve', id: pending.id as string });
    const seen = await Promise.all([tws, s1.ws, s2.ws].map((s) => s.next(isChat(PHONE))));
    expect(seen[1]).toMatchObject({ from: { id: s1.id, name: '하나', role: 'student' }, heldId: pending.id });
    expect(new Set(seen.map((m) => m.seq)).size).toBe(1);
    const decided = await tws.nextOf('chat.decided', (m) => m.id === pending.id);
    expect(decided).toMatchObject({ status: 'approved', messageId: seen[0]!.id });
    expect(s2.ws.all('chat.decided')).toEqual([]);
    expect((await heldList(teacher)).json()).toEqual({ held: [] });

    // Once decided it cannot be decided again (a second click, another teacher).
    tws.send({ type: 'chat.approve', id: pending.id as string });
    expect(await tws.nextOf('error', (m) => m.ref === 'chat.approve')).toMatchObject({
      code: 'MESSAGE_NOT_FOUND',
    });
    const stored = await a.store.chat.since(classId, 0, 100);
    expect(stored.filter((m) => m.text === PHONE)).toHaveLength(1);
  });

  it('never shows a rejected message; its sender is told', async () => {
    const [s1, s2] = students as [(typeof students)[0], (typeof students)[0]];
    const insult = '야 이 병신아';
    s2.ws.send({ type: 'chat.send', text: insult, clientId: 'x1' });
    const pending = await s2.ws.nextOf('chat.pending', (m) => m.clientId === 'x1');
    expect(pending.reasons).toEqual(['insult']);
    await tws.nextOf('chat.held', (m) => (m.held as { id: string }).id === pending.id);
    tws.send({ type: 'chat.reject', id: pending.id as string });
    expect(await s2.ws.nextOf('chat.rejected', (m) => m.id === pending.id)).toBeTruthy();
    expect(await tws.nextOf('chat.decided', (m) => m.id === pending.id)).toMatchObject({
      status: 'rejected',
    });
    await s1.ws.nextOf('chat.rejected', (m) => m.id === pending.id);
    expect(s1.ws.messages.some((m) => JSON.stringify(m).includes(insult))).toBe(false);
    expect((await a.store.chat.since(classId, 0, 100)).some((m) => m.text === insult)).toBe(false);
    expect((await heldList(teacher)).json()).toEqual({ held: [] });
  });

  it("does not hold the teacher's messages or ordinary ones, and keeps the lesson on held rows", async () => {
    const [s1] = students as [(typeof students)[0]];
    tws.send({ type: 'chat.send', text: '제 번호는 010-9999-8888 입니다' });
    await s1.ws.next(isChat('제 번호는 010-9999-8888 입니다'));
    s1.ws.send({ type: 'chat.send', text: '2+3=5 맞나요?', clientId: 'ok' });
    await tws.next(isChat('2+3=5 맞나요?'));

    s1.ws.send({ type: 'chat.send', text: 'mail me: hana@school.kr', clientId: 'm1' });
    const pending = await s1.ws.nextOf('chat.pending', (m) => m.clientId === 'm1');
    const [row] = (await heldList(teacher)).json().held as Msg[];
    expect(row).toMatchObject({ id: pending.id, reasons: ['email'] });
    const lesson = await a.store.lessons.current(classId);
    const stored = (await a.store.held.listHeld(classId))[0]!;
    expect(stored.lessonId).toBe(lesson!.id);
    // A decision of another class's id, or a malformed one, finds nothing.
    expect(await a.store.held.decide('00000000-0000-4000-8000-000000000000', stored.id, 'rejected')).toBe(
      undefined,
    );
    expect(await a.store.held.decide(classId, 'not-a-uuid', 'rejected')).toBe(undefined);
  });
});

describe("chat hold: the student's own chat log (chat-state reducer)", () => {
  const you = { id: 'p1', name: '하나', role: 'student', joinedAt: '2026-12-04T09:00:00Z', sub: 'p1' };
  const welcome = {
    type: 'welcome',
    seq: 1,
    you: { ...you, canSend: true, canModerate: false },
    class: { id: 'c', title: '국어', status: 'live', chatLocked: false, streamLive: false },
    roster: [],
  } as Msg;
  const kinds = (s: ChatState) => s.items.map((i) => (i.kind === 'held' ? `held:${i.state}` : i.kind));

  it('shows a held message as waiting, then rejected, or replaced by the approved message', () => {
    let s = chatReduce(initialChat(), welcome);
    s = addPending(s, 'k1', PHONE);
    s = addPending(s, 'k2', '야 이 병신아');
    s = chatReduce(s, { type: 'chat.pending', id: 'h1', clientId: 'k1', reasons: ['phone'] } as Msg);
    s = chatReduce(s, { type: 'chat.pending', id: 'h2', clientId: 'k2', reasons: ['insult'] } as Msg);
    expect(kinds(s)).toEqual(['held:waiting', 'held:waiting']);
    // A reconnect does not count held lines as lost sends.
    s = chatReduce(chatReduce(s, welcome), { type: 'replayed', since: 1, count: 0, truncated: false } as Msg);
    expect(kinds(s)).toEqual(['held:waiting', 'held:waiting']);
    expect(s.restore).toBe(null);
    s = chatReduce(s, { type: 'chat.rejected', seq: 5, id: 'h2' } as Msg);
    expect(kinds(s)).toEqual(['held:waiting', 'held:rejected']);
    s = chatReduce(s, {
      type: 'chat.message',
      seq: 6,
      id: 'm1',
      from: { id: 'p1', name: '하나', role: 'student' },
      text: PHONE,
      at: '2026-12-04T09:01:00Z',
      heldId: 'h1',
    } as Msg);
    expect(kinds(s)).toEqual(['held:rejected', 'msg']);
  });
});

describe('chat hold across two replicas (PostgreSQL + Redis)', () => {
  let schema: string;
  const prefix = `airclass-test-${randomBytes(4).toString('hex')}:`;
  const dir = mkdtempSync(join(tmpdir(), 'airclass-hold-'));
  let a: ClassroomApp;
  let b: ClassroomApp;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
    const common = {
      dataDir: dir,
      databaseUrl: urlWithSchema(TEST_DATABASE_URL, schema),
      redisUrl: TEST_REDIS_URL,
      redisPrefix: prefix,
    };
    a = await startClassroomApp(common);
    b = await startClassroomApp(common);
  });
  afterAll(async () => {
    for (const s of sockets) await s.close().catch(() => undefined);
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
    await dropRedisPrefix(prefix);
    if (schema) await dropTestSchema(schema);
  });

  it('a student on replica A is held for the teacher on B, who approves one and rejects one', async () => {
    const teacher = (await a.teacher()).token;
    const cls = (
      await a.call({ method: 'POST', url: '/api/classes', token: teacher, payload: { title: '수학' } })
    ).json() as { id: string; joinCode: string };
    await a.call({ method: 'POST', url: `/api/classes/${cls.id}/start`, token: teacher });
    const join = async (name: string) =>
      (await a.call({ method: 'POST', url: '/api/join', payload: { code: cls.joinCode, name } })).json() as {
        token: string;
      };
    const open = async (app: ClassroomApp, token: string, classId?: string) => {
      const s = await app.connect(token, classId);
      sockets.push(s);
      return s;
    };
    const tws = await open(b, teacher, cls.id);
    const sender = await open(a, (await join('하나')).token);
    const other = await open(b, (await join('두리')).token);

    sender.send({ type: 'chat.send', text: PHONE, clientId: 'r1' });
    const pending = await sender.nextOf('chat.pending', (m) => m.clientId === 'r1');
    await tws.nextOf('chat.held', (m) => (m.held as { id: string }).id === pending.id);
    const list = await b.call({ method: 'GET', url: `/api/classes/${cls.id}/chat/held`, token: teacher });
    expect((list.json() as { held: Msg[] }).held.map((h) => h.id)).toEqual([pending.id]);
    tws.send({ type: 'chat.approve', id: pending.id as string });
    for (const s of [sender, other, tws]) {
      expect(await s.next(isChat(PHONE), 10_000)).toMatchObject({
        heldId: pending.id,
        from: { name: '하나' },
      });
    }

    sender.send({ type: 'chat.send', text: 'you idiot', clientId: 'r2' });
    const second = await sender.nextOf('chat.pending', (m) => m.clientId === 'r2');
    expect(second.reasons).toEqual(['insult']);
    await tws.nextOf('chat.held', (m) => (m.held as { id: string }).id === second.id);
    tws.send({ type: 'chat.reject', id: second.id as string });
    await sender.nextOf('chat.rejected', (m) => m.id === second.id, 10_000);
    await other.nextOf('chat.rejected', (m) => m.id === second.id, 10_000);
    expect(other.messages.some((m) => JSON.stringify(m).includes('you idiot'))).toBe(false);
    expect(other.all('chat.held')).toEqual([]);
  });
});
