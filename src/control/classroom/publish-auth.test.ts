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
      events: { emit: (classId, event) => events.push({ classId, event }) },
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

  it('maps live/<streamKey> to live/<classId> and starts a scheduled class once', async () => {
    const authorize = createPublishAuthorizer({ classes, tokens });
    const c = await classes.create(teacher.id, 'Key');
    await expect(authorize(req('live', c.streamKey))).resolves.toEqual({ path: `live/${c.id}` });
    expect((await store.classes.byId(c.id))?.status).toBe('live');
    await expect(authorize(req('live', c.streamKey))).resolves.toEqual({ path: `live/${c.id}` });
    expect(events.filter((e) => e.classId === c.id).map((e) => e.event.type)).toEqual(['class.started']);
  });

  it('refuses an unknown key (TOKEN_INVALID), an ended class (CLASS_ENDED), a key under another app', async () => {
    const authorize = createPublishAuthorizer({ classes, tokens });
    await expect(authorize(req('live', 'k'.repeat(40)))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(authorize(req('live', 'short'))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const c = await classes.create(teacher.id, 'Ended');
    await expect(authorize(req('other', c.streamKey))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await classes.end(c);
    await expect(authorize(req('live', c.streamKey))).rejects.toMatchObject({ code: 'CLASS_ENDED' });
  });

  it('falls back to the ?token= media token for any path', async () => {
    const authorize = createPublishAuthorizer({ classes, tokens });
    const t = await tokens.sign(
      { sub: 't', role: 'teacher', path: 'live/math1', actions: ['publish'] },
      '1h',
    );
    await expect(authorize(req('live', 'math1', `token=${t}`))).resolves.toEqual({ path: 'live/math1' });
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
