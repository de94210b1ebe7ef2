import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateKeys } from '../auth/keys.ts';
import { TokenService } from '../auth/tokens.ts';
import type { DrizzleStore } from '../store/db.ts';
import { openMemoryStore } from '../store/testing.ts';
import type { User } from '../store/types.ts';
import { ClassService } from './class-service.ts';
import type { ClassEvent } from './events.ts';
import { createPublishAuthorizer } from './publish-auth.ts';

describe('publish authorization', () => {
  let store: DrizzleStore;
  let tokens: TokenService;
  let teacher: User;
  const events: { classId: string; event: ClassEvent }[] = [];
  let classes: ClassService;

  beforeAll(async () => {
    store = await openMemoryStore();
    tokens = new TokenService(await loadOrCreateKeys(mkdtempSync(join(tmpdir(), 'airclass-pa-'))));
    teacher = await store.users.create({ email: 't@s.test', name: 'T', role: 'teacher', passwordHash: 'x' });
    classes = new ClassService({
      classes: store.classes,
      lessons: store.lessons,
      events: { emit: (classId, event) => events.push({ classId, event }) },
      lessonRestartCooldownMs: 60_000,
    });
  });
  afterAll(async () => {
    await store?.close();
  });

  const req = (app: string, name: string, query = '') => ({
    app,
    name,
    query: new URLSearchParams(query),
    remote: '127.0.0.1:5000',
  });

  it('maps live/<streamKey> to live/<classId> and starts a lesson of a scheduled class once', async () => {
    const authorize = createPublishAuthorizer({ classes, tokens });
    const c = await classes.create(teacher.id, 'Key');
    const ok = { path: `live/${c.id}`, auth: 'key' };
    await expect(authorize(req('live', c.streamKey))).resolves.toEqual(ok);
    expect((await store.classes.byId(c.id))?.status).toBe('live');
    await expect(authorize(req('live', c.streamKey))).resolves.toEqual(ok);
    expect(events.filter((e) => e.classId === c.id).map((e) => e.event.type)).toEqual(['class.started']);
  });

  it('refuses an unknown key, a key within the cooldown after an end (LESSON_ENDED), an archived class', async () => {
    const authorize = createPublishAuthorizer({ classes, tokens });
    await expect(authorize(req('live', 'k'.repeat(40)))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(authorize(req('live', 'short'))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const c = await classes.create(teacher.id, 'Ended');
    await expect(authorize(req('other', c.streamKey))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await classes.start(c);
    await classes.end(c);
    // An encoder reconnecting right after the end must not restart the lesson.
    await expect(authorize(req('live', c.streamKey))).rejects.toMatchObject({ code: 'LESSON_ENDED' });
    expect((await store.classes.byId(c.id))?.status).toBe('scheduled');
    // The teacher starts the next lesson: the same key publishes again.
    await classes.start((await store.classes.byId(c.id))!);
    await expect(authorize(req('live', c.streamKey))).resolves.toMatchObject({ auth: 'key' });
    await classes.archive((await store.classes.byId(c.id))!);
    await expect(authorize(req('live', c.streamKey))).rejects.toMatchObject({ code: 'CLASS_ARCHIVED' });
  });

  it('falls back to the ?token= media token for any path', async () => {
    const authorize = createPublishAuthorizer({ classes, tokens });
    const t = await tokens.sign(
      { sub: 't', role: 'teacher', path: 'live/math1', actions: ['publish'] },
      '1h',
    );
    await expect(authorize(req('live', 'math1', `token=${t}`))).resolves.toEqual({
      path: 'live/math1',
      auth: 'token',
    });
    await expect(authorize(req('live', 'math2', `token=${t}`))).rejects.toMatchObject({
      code: 'TOKEN_SCOPE',
    });
    await expect(authorize(req('live', 'math1', 'token=bad'))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    const read = await tokens.sign(
      { sub: 's', role: 'student', path: 'live/math1', actions: ['read'] },
      '1h',
    );
    await expect(authorize(req('live', 'math1', `jwt=${read}`))).rejects.toMatchObject({
      code: 'TOKEN_SCOPE',
    });
  });
});
