/** safeNext: only paths of this site survive (issue 6 finding 7: `/%09/other-host`). */
import { describe, expect, it } from 'vitest';
import { safeNext } from '../web/src/lib/safe-next.ts';

const ORIGIN = 'http://school.example:8000';
const go = (next: string | null) => safeNext(next, '/console', ORIGIN);

describe('safeNext', () => {
  it('keeps a path of this site with its query and hash', () => {
    expect(go('/console?class=abc&lang=en#quiz')).toBe('/console?class=abc&lang=en#quiz');
    expect(go('/monitor')).toBe('/monitor');
  });

  it('falls back without a next', () => {
    expect(go(null)).toBe('/console');
    expect(go('')).toBe('/console');
  });

  it.each([
    '/%09/other-host',
    '/%0a/other-host',
    '/%250d/other-host',
    '/\t/other-host',
    '//other-host/console',
    '/\\other-host',
    '/%5cother-host',
    '/%2F/other-host',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'https://other-host/console',
    'other-host/console',
    ' /console',
    '/%E0%A4%A',
  ])('refuses %j', (next) => {
    expect(go(next)).toBe('/console');
  });
});
