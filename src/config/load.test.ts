import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, envKeyToConfigKey, configKeyToEnv } from './load.ts';
import { ports } from './schema.ts';

function yaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'airclass-cfg-'));
  const f = join(dir, 'airclass.yaml');
  writeFileSync(f, text);
  return f;
}

describe('config', () => {
  it('maps names both ways', () => {
    expect(envKeyToConfigKey('WEBRTC_PORT_MIN')).toBe('webrtcPortMin');
    expect(configKeyToEnv('webrtcPortMin')).toBe('AIRCLASS_WEBRTC_PORT_MIN');
  });

  it('layers defaults, file, env and overrides, and freezes the result', () => {
    const file = yaml('httpPort: 9000\nrtmpPort: 2935\nlogLevel: debug\n');
    const c = loadConfig({
      file,
      env: { AIRCLASS_RTMP_PORT: '3935', AIRCLASS_WEBRTC_ANNOUNCED_ADDRESSES: '203.0.113.5, 10.0.0.2' },
      overrides: { portOffset: 2 },
    });
    expect(c.httpPort).toBe(9000);
    expect(c.rtmpPort).toBe(3935);
    expect(c.logLevel).toBe('debug');
    expect(c.webrtcAnnouncedAddresses).toEqual(['203.0.113.5', '10.0.0.2']);
    expect(ports(c)).toMatchObject({ http: 9002, rtmp: 3937, rtsp: 8556 });
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { httpPort: number }).httpPort = 1;
    }).toThrow();
  });

  it('names an unknown key from the file', () => {
    const file = yaml('httpPortt: 9000\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(/httpPortt/);
  });

  it('names an unknown environment variable', () => {
    expect(() => loadConfig({ env: { AIRCLASS_HTTP_PROT: '1' } })).toThrow(/AIRCLASS_HTTP_PROT/);
  });

  it('lets through the variables that are read elsewhere: the master key, the admin password', () => {
    // Regression: the documented AIRCLASS_SECRET_KEY stopped the start as an unknown variable.
    const c = loadConfig({
      env: { AIRCLASS_SECRET_KEY: 'a'.repeat(44), AIRCLASS_ADMIN_PASSWORD: 'x', AIRCLASS_CONFIG: '' },
    });
    expect(JSON.stringify(c)).not.toContain('a'.repeat(44));
  });

  it('names a bad value', () => {
    expect(() => loadConfig({ env: { AIRCLASS_HTTP_PORT: 'eighty' } })).toThrow(
      /httpPort.*AIRCLASS_HTTP_PORT/,
    );
    expect(() => loadConfig({ env: { AIRCLASS_LOG_LEVEL: 'loud' } })).toThrow(/logLevel/);
    expect(() =>
      loadConfig({ env: { AIRCLASS_WEBRTC_PORT_MIN: '50000', AIRCLASS_WEBRTC_PORT_MAX: '40000' } }),
    ).toThrow(/webrtcPortMin/);
  });

  it('selects PGlite by default and PostgreSQL from DATABASE_URL or AIRCLASS_DATABASE_URL', () => {
    expect(loadConfig({ env: {} }).databaseUrl).toBe('');
    const file = yaml('databaseUrl: postgres://file@db/a\n');
    expect(loadConfig({ file, env: {} }).databaseUrl).toBe('postgres://file@db/a');
    // The conventional DATABASE_URL beats the file; an empty one is ignored.
    expect(loadConfig({ file, env: { DATABASE_URL: 'postgres://plain@db/b' } }).databaseUrl).toBe(
      'postgres://plain@db/b',
    );
    expect(loadConfig({ file, env: { DATABASE_URL: '' } }).databaseUrl).toBe('postgres://file@db/a');
    // AIRCLASS_DATABASE_URL beats DATABASE_URL (even when empty: back to PGlite); the CLI beats both.
    const both = { DATABASE_URL: 'postgres://plain@db/b', AIRCLASS_DATABASE_URL: 'postgresql://ours@db/c' };
    expect(loadConfig({ file, env: both }).databaseUrl).toBe('postgresql://ours@db/c');
    expect(loadConfig({ env: { ...both, AIRCLASS_DATABASE_URL: '' } }).databaseUrl).toBe('');
    expect(loadConfig({ env: both, overrides: { databaseUrl: 'postgres://cli@db/d' } }).databaseUrl).toBe(
      'postgres://cli@db/d',
    );
  });

  it('names both variables for a bad database URL', () => {
    expect(() => loadConfig({ env: { DATABASE_URL: 'mysql://x@y/z' } })).toThrow(
      /databaseUrl.*AIRCLASS_DATABASE_URL or DATABASE_URL/,
    );
  });

  it('selects the in-process bus by default and Redis from REDIS_URL or AIRCLASS_REDIS_URL', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ redisUrl: '', redisPrefix: 'airclass:' });
    expect(loadConfig({ env: { REDIS_URL: 'redis://127.0.0.1:6379' } }).redisUrl).toBe(
      'redis://127.0.0.1:6379',
    );
    expect(loadConfig({ env: { REDIS_URL: '' } }).redisUrl).toBe('');
    const both = {
      REDIS_URL: 'redis://a:6379',
      AIRCLASS_REDIS_URL: 'rediss://b:6380',
      AIRCLASS_REDIS_PREFIX: 'run1:',
    };
    expect(loadConfig({ env: both })).toMatchObject({ redisUrl: 'rediss://b:6380', redisPrefix: 'run1:' });
    expect(() => loadConfig({ env: { REDIS_URL: 'http://x' } })).toThrow(
      /redisUrl.*AIRCLASS_REDIS_URL or REDIS_URL/,
    );
    expect(() => loadConfig({ env: { AIRCLASS_REDIS_PREFIX: 'a b' } })).toThrow(/redisPrefix/);
  });

  it('reads ICE servers from JSON in the environment', () => {
    const c = loadConfig({
      env: { AIRCLASS_ICE_SERVERS: '[{"urls":"turn:turn.example:3478","username":"u","credential":"p"}]' },
    });
    expect(c.iceServers[0]).toEqual({ urls: 'turn:turn.example:3478', username: 'u', credential: 'p' });
  });
});
