/**
 * The class channel over real WebSockets (the `ws` package as the client) on a real store:
 * chat between a teacher and three students with a reconnect that gets what it missed,
 * presence, lock and delete, read-only monitors, lifecycle events, and refusals. Each runs on
 * the in-process bus with PGlite and on Redis with PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChannel, type ChannelHarness } from './helpers/channel.ts';
import type { Msg, TestSocket } from './helpers/ws-client.ts';

const isChat = (text: string) => (m: Msg) => m.type === 'chat.message' && m.text === text;

describe.each(['memory', 'redis'] as const)('class channel (%s bus)', (bus) => {
  let h: ChannelHarness;
  beforeAll(async () => {
    h = await startChannel({ bus });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('carries a chat between a teacher and three students, and a reconnect gets what it missed', async () => {
    const t = await h.teacher();
    const c = await h.classOf(t.user);
    const teacher = await h.connect(t.token, { classId: c.id });
    const names = ['민지', 'Jun', 'Sora'];
    const students: TestSocket[] = [];
    for (const name of names) students.push(await h.connect((await h.student(c, name)).token));
    const [s1, s2, s3] = students as [TestSocket, TestSocket, TestSocket];

    const welcome = s3.all('welcome')[0]!;
    expect(welcome).toMatchObject({
      class: { id: c.id, title: 'Math', status: 'scheduled', chatLocked: false, streamLive: false },
      you: { name: 'Sora', role: 'student', canSend: true, canModerate: false },
    });
    expect((welcome.roster as { name: string }[]).map((r) => r.name)).toEqual(['Teacher Kim', ...names]);

    teacher.send({ type: 'chat.send', text: '안녕하세요, page 12', clientId: 'c1' });
    const got = await Promise.all([teacher, ...students].map((s) => s.next(isChat('안녕하세요, page 12'))));
    expect(new Set(got.map((m) => m.seq)).size).toBe(1);
    expect(got[0]).toMatchObject({ from: { name: 'Teacher Kim', role: 'teacher' }, clientId: 'c1' });

    s1.send({ type: 'chat.send', text: '  Done!  ' });
    const back = await teacher.next(isChat('Done!'));
    expect(back.from).toMatchObject({ name: '민지', role: 'student' });
    await s2.next(isChat('Done!'));
    const cursor = (await s3.next(isChat('Done!'))).seq!;

    await s3.close();
    await teacher.nextOf('presence.leave');
    teacher.send({ type: 'chat.send', text: 'while you were away 1' });
    s2.send({ type: 'chat.send', text: 'while you were away 2' });
    teacher.send({ type: 'chat.lock', locked: true });
    teacher.send({ type: 'chat.lock', locked: false });
    await s1.nextOf('chat.locked', (m) => m.locked === false);
    await s1.next(isChat('while you were away 2'));

    const again = await h.connect((await h.student(c, 'Sora')).token, { since: cursor });
    const done = await again.nextOf('replayed');
    const idx = again.messages.indexOf(done);
    const replay = again.messages.slice(1, idx);
    expect(replay.filter((m) => m.type === 'chat.message').map((m) => m.text)).toEqual([
      'while you were away 1',
      'while you were away 2',
    ]);
    expect(replay.filter((m) => m.type === 'chat.locked').map((m) => m.locked)).toEqual([true, false]);
    const seqs = replay.map((m) => m.seq!);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.every((s) => s > cursor)).toBe(true);
    expect(done).toMatchObject({ since: cursor, count: replay.length, truncated: false });

    // Live again: the next message arrives once, after the replay.
    teacher.send({ type: 'chat.send', text: 'welcome back' });
    await again.next(isChat('welcome back'));
    expect(again.messages.filter(isChat('while you were away 1'))).toHaveLength(1);
    for (const s of [teacher, s1, s2, again]) await s.close();
  });

  it('pushes presence joins and leaves to everyone and keeps attendance', async () => {
    const t = await h.teacher('Ms Park');
    const c = await h.classOf(t.user);
    const teacher = await h.connect(t.token, { classId: c.id });
    const minji = await h.student(c, '민지');
    const s = await h.connect(minji.token);
    const join = await teacher.nextOf(
      'presence.join',
      (m) => (m.participant as { name: string }).name === '민지',
    );
    expect(join.participant).toMatchObject({ id: minji.participantId, role: 'student' });
    expect(s.all('welcome')[0]!.you).toMatchObject({ id: minji.participantId, sub: minji.participantId });

    await s.close();
    const leave = await teacher.nextOf('presence.leave', (m) => m.id === minji.participantId);
    expect(leave.seq).toBeGreaterThan(join.seq!);
    const rows = await h.store.participants.listByClass(c.id);
    expect(rows.find((r) => r.id === minji.participantId)?.leftAt).toBeInstanceOf(Date);

    // A second visit is a new attendance record and a new roster entry.
    const s2 = await h.connect(minji.token);
    const w = s2.all('welcome')[0]!;
    expect((w.you as { id: string }).id).not.toBe(minji.participantId);
    expect((w.roster as { name: string }[]).map((r) => r.name)).toEqual(['Ms Park', '민지']);
    await s2.close();
    await teacher.close();
  });

  it('lets the teacher lock the chat and delete a message; students and monitors cannot', async () => {
    const t = await h.teacher();
    const c = await h.classOf(t.user);
    const teacher = await h.connect(t.token, { classId: c.id });
    const student = await h.connect((await h.student(c, 'Jun')).token);
    const monitor = await h.connect(await h.monitor(c));
    expect(monitor.all('welcome')[0]!.you).toMatchObject({ role: 'monitor', canSend: false });

    monitor.send({ type: 'chat.send', text: 'hello from the TA' });
    expect(await monitor.nextOf('error')).toMatchObject({ code: 'FORBIDDEN', ref: 'chat.send' });

    student.send({ type: 'chat.send', text: 'spoiler!' });
    const spoiler = await monitor.next(isChat('spoiler!'));
    student.send({ type: 'chat.delete', id: spoiler.id });
    expect(await student.nextOf('error')).toMatchObject({ code: 'FORBIDDEN', ref: 'chat.delete' });
    student.send({ type: 'chat.lock', locked: true });
    await student.next((m) => m.type === 'error' && m.ref === 'chat.lock');

    teacher.send({ type: 'chat.delete', id: spoiler.id });
    const deleted = await student.nextOf('chat.deleted');
    expect(deleted.id).toBe(spoiler.id);
    await monitor.nextOf('chat.deleted');
    teacher.send({ type: 'chat.delete', id: '00000000-0000-4000-8000-000000000000' });
    expect(await teacher.nextOf('error')).toMatchObject({ code: 'MESSAGE_NOT_FOUND' });

    teacher.send({ type: 'chat.lock', locked: true });
    await student.nextOf('chat.locked', (m) => m.locked === true);
    student.send({ type: 'chat.send', text: 'let me talk' });
    expect(await student.nextOf('error', (m) => m.code === 'CHAT_LOCKED')).toMatchObject({
      ref: 'chat.send',
    });
    teacher.send({ type: 'chat.send', text: 'only I speak now' });
    await student.next(isChat('only I speak now'));
    teacher.send({ type: 'chat.lock', locked: false });
    await student.nextOf('chat.locked', (m) => m.locked === false);
    student.send({ type: 'chat.send', text: 'thanks' });
    await teacher.next(isChat('thanks'));

    // A replay from the start shows the deleted message without its text.
    const late = await h.connect((await h.student(c, 'Late')).token, { since: 0 });
    await late.nextOf('replayed');
    expect(late.messages.find((m) => m.id === spoiler.id)).toMatchObject({ deleted: true, text: '' });
    expect((await h.store.classes.byId(c.id))?.chatLocked).toBe(false);
    for (const s of [teacher, student, monitor, late]) await s.close();
  });

  it('pushes class and stream events and shows the stream state in welcome', async () => {
    const t = await h.teacher();
    const c = await h.classOf(t.user);
    const s = await h.connect((await h.student(c, 'Jun')).token);
    await h.channel.events.emit(c.id, { type: 'class.started', class: { id: c.id, status: 'live' } });
    await h.channel.events.emit(c.id, { type: 'stream.live', path: `live/${c.id}` });
    const started = await s.nextOf('class.started');
    const live = await s.nextOf('stream.live');
    expect(started).toMatchObject({ class: { status: 'live' } });
    expect(live.seq).toBeGreaterThan(started.seq!);
    const s2 = await h.connect((await h.student(c, 'Mina')).token);
    expect(s2.all('welcome')[0]!.class).toMatchObject({ streamLive: true });
    await h.channel.events.emit(c.id, { type: 'stream.offline', path: `live/${c.id}` });
    await s2.nextOf('stream.offline');
    await h.channel.events.emit(c.id, { type: 'class.ended' });
    await s2.nextOf('class.ended');
    // Ending is final: a student's socket closes after the event (4000), never to resume.
    expect(await s2.closed).toMatchObject({ code: 4000, reason: 'LESSON_ENDED' });
    expect(await h.channel.events.emit('00000000-0000-4000-8000-000000000000', { type: 'class.ended' })).toBe(
      undefined,
    );
    await s.close();
    await s2.close();
  });

  it('refuses sockets without a valid token or outside their class', async () => {
    const t = await h.teacher();
    const other = await h.teacher('Other');
    const c = await h.classOf(t.user);
    const c2 = await h.classOf(other.user);
    const refused = (url: string, headers?: Record<string, string>) =>
      import('./helpers/ws-client.ts').then(({ TestSocket }) =>
        TestSocket.open(url, headers).then(
          () => {
            throw new Error('opened');
          },
          (e: { status: number; body: string }) => ({
            status: e.status,
            code: JSON.parse(e.body).error.code,
          }),
        ),
      );
    expect(await refused(h.wsUrl)).toEqual({ status: 401, code: 'TOKEN_MISSING' });
    expect(await refused(`${h.wsUrl}?token=nope`)).toEqual({ status: 401, code: 'TOKEN_INVALID' });
    expect(await refused(`${h.wsUrl}?token=${t.token}`)).toEqual({ status: 400, code: 'VALIDATION' });
    expect(await refused(`${h.wsUrl}?token=${t.token}&classId=${c2.id}`)).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
    const st = await h.student(c, 'Jun');
    expect(await refused(`${h.wsUrl}?token=${st.token}&classId=${c2.id}`)).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
    expect(await refused(`${h.wsUrl}?token=${st.token}&since=-1`)).toEqual({
      status: 400,
      code: 'VALIDATION',
    });
    // Bearer header works too (API clients).
    const viaHeader = await import('./helpers/ws-client.ts').then(({ TestSocket }) =>
      TestSocket.open(`${h.wsUrl}?classId=${c.id}`, { authorization: `Bearer ${t.token}` }),
    );
    await viaHeader.nextOf('welcome');
    await viaHeader.close();
  });
});
