/**
 * Students' photos end to end in real Chromium (issue 10), on a real in-process node: a student
 * on the watch page picks a photo of their work (a JPEG made by ffmpeg) with the file input, sees
 * it sent, and the teacher's console shows its thumbnail with the student's name at once, opens
 * it larger and marks it seen. No video is published: the lesson runs without a stream.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './helpers/chromium.ts';
import { startTestNode, TEST_ADMIN_PASSWORD, type TestNode } from './helpers/node.ts';
import { FFMPEG_PATH } from './helpers/publisher.ts';

const WAIT = { timeout: 30_000 };
const TEACHER = { email: 'teacher@school.test', password: 'teacher-password' };
/** Where the screenshot goes (looked at by people, not asserted). */
const SHOTS = process.env.PHOTOS_E2E_SHOTS ?? tmpdir();

let t: TestNode;
let teacherBrowser: TestBrowser;
let studentBrowser: TestBrowser;
let dir: string;

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
) {
  const res = await fetch(`${t.http}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as T;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'photos-e2e-'));
  t = await startTestNode();
  [teacherBrowser, studentBrowser] = await Promise.all([
    launchBrowser({ viewport: { width: 1440, height: 1000 } }),
    launchBrowser({ viewport: { width: 420, height: 860 } }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([teacherBrowser?.close(), studentBrowser?.close()]);
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a student's photo reaches the teacher's console (real Chromium)", () => {
  it('the student picks a photo on the watch page; the console shows its thumbnail with the name', async () => {
    const admin = (
      await api<{ token: string }>('POST', '/api/auth/login', {
        email: 'admin@airclass.local',
        password: TEST_ADMIN_PASSWORD,
      })
    ).token;
    await api('POST', '/api/users', { ...TEACHER, name: 'Teacher' }, admin);
    const teacher = (await api<{ token: string }>('POST', '/api/auth/login', TEACHER)).token;
    const cls = await api<{ id: string; joinCode: string }>(
      'POST',
      '/api/classes',
      { title: '수학 풀이' },
      teacher,
    );
    await api('POST', `/api/classes/${cls.id}/start`, undefined, teacher);

    // The teacher's console, signed in through the page (the session cookie shows the images).
    const console = await teacherBrowser.newPage();
    await console.goto(`${t.http}/login?lang=en`);
    await console.fill('#email', TEACHER.email);
    await console.fill('#password', TEACHER.password);
    await console.click('#submit');
    await console.waitForURL(/\/console/, WAIT);
    await console.goto(`${t.http}/console?class=${cls.id}&lang=en`);
    await console.waitForSelector('#photos-card', WAIT);
    expect(await console.textContent('#photos-card')).toContain('No photos yet');

    // The student joins by code and sends a photo from the watch page.
    const student = await studentBrowser.newPage();
    await student.goto(`${t.http}/join?code=${cls.joinCode}&lang=en`);
    await student.fill('#name', '김민지');
    await student.click('#submit');
    await student.waitForURL(/\/watch\/live\//, WAIT);
    await student.waitForSelector('#photo-button', WAIT);
    expect(await student.textContent('#photo-button')).toContain('Send a photo of my work');
    const photo = join(dir, 'my-work.jpg');
    execFileSync(FFMPEG_PATH, [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=800x600',
      '-frames:v',
      '1',
      photo,
    ]);
    await student.setInputFiles('#photo-input', photo);
    await student.waitForSelector('#photo-send[data-state="sent"]', WAIT);
    expect(await student.textContent('#photo-status')).toContain('Only the teacher can see it');

    // The console shows the thumbnail with the name, its image loaded (decoded by Chromium).
    const item = console.locator('#photos li[data-name="김민지"]');
    await item.waitFor(WAIT);
    expect(await item.locator('.photo-name').textContent()).toBe('김민지');
    await console.waitForFunction(
      () => {
        const img = document.querySelector<HTMLImageElement>('#photos li img');
        return !!img && img.complete && img.naturalWidth === 800;
      },
      undefined,
      WAIT,
    );
    expect(await console.textContent('#photos-card-title')).toContain('1 new');

    // Larger on click, then "mark seen".
    await item.locator('.photo-thumb').click();
    await console.waitForSelector('#photo-dialog[open] img', WAIT);
    mkdirSync(SHOTS, { recursive: true });
    await console.screenshot({ path: join(SHOTS, 'photos-console-dialog.png') });
    await console.click('#photo-seen');
    await console.waitForSelector('#photo-dialog[open] .hint', WAIT);
    await console.keyboard.press('Escape');
    await console.waitForSelector('#photos li.seen', WAIT);
    expect(await console.textContent('#photos-card-title')).toContain('0 new');
    await console.screenshot({ path: join(SHOTS, 'photos-console.png') });
    await student.screenshot({ path: join(SHOTS, 'photos-student.png') });
  });
});
