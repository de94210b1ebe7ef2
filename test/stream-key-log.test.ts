import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { startServer, type TestServer } from './helpers/server.ts';

/**
 * Stream keys never reach the log (issue 6, found when tried: 6): a real `airclass start`
 * at log level info, ffmpeg publishing with a class's key, then with a wrong key-shaped name
 * and the key pasted into the server URL; the whole log holds none of them.
 */
describe('stream keys in the log', () => {
  let s: TestServer;
  let log = '';
  const publishers: Publisher[] = [];

  beforeAll(async () => {
    s = await startServer({
      env: { AIRCLASS_ADMIN_PASSWORD: 'log-admin-password', AIRCLASS_LOG_LEVEL: 'debug' },
    });
    s.proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    s.proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  });
  afterAll(async () => {
    await Promise.all(publishers.map((p) => p.stop()));
    await s?.stop();
  });

  it('logs the class path, never the key (accepted or refused)', async () => {
    const login = await fetch(`${s.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@airclass.local', password: 'log-admin-password' }),
    });
    const token = ((await login.json()) as { token: string }).token;
    const res = await fetch(`${s.httpUrl}/api/classes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ title: 'Logged' }),
    });
    const c = (await res.json()) as { id: string; rtmp: { streamKey: string } };
    const key = c.rtmp.streamKey;
    const good = publishTestPattern({ url: `${s.rtmpUrl}/live/${key}`, size: '320x240', rate: 15 });
    publishers.push(good);
    const deadline = Date.now() + 20_000;
    while (!log.includes('RTMP publish started') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(log).toContain(`live/${c.id}`);
    const wrong = 'W'.repeat(20) + key.slice(20);
    const refused = publishTestPattern({ url: `${s.rtmpUrl}/live/${wrong}`, size: '320x240', rate: 15 });
    publishers.push(refused);
    expect(await refused.exited).not.toBe(0);
    const pasted = publishTestPattern({ url: `${s.rtmpUrl}/live/${key}/extra`, size: '320x240', rate: 15 });
    publishers.push(pasted);
    expect(await pasted.exited).not.toBe(0);
    await good.stop();
    await new Promise((r) => setTimeout(r, 500));
    expect(log).toContain('RTMP publish refused');
    expect(log).not.toContain(key);
    expect(log).not.toContain(wrong);
  });
});
