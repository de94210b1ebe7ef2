/**
 * TURN REST credentials against a vector computed outside this code
 * (`printf %s '1735689600:p-123@cls-abc' | openssl dgst -sha1 -hmac airclass-test-secret -binary | base64`),
 * the Link header the WHEP answer carries (and that the browser's parser reads back), the
 * config checks, and the turnserver.conf of `airclass turn-config`.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../config/defaults.ts';
import { iceLinks } from '../http/routes/whep.ts';
import { parseIceServers } from '../../../web/src/lib/whep.ts';
import { TurnCredentials, turnCredential, turnFromConfig, turnId, turnUsername } from './credentials.ts';
import { turnserverConf } from './turnserver-conf.ts';

const SECRET = 'airclass-test-secret';
const VECTOR = { username: '1735689600:p-123@cls-abc', credential: '/EJ3aCcyIBU12N6MDZrIKXLSjv8=' };

describe('TURN REST credentials', () => {
  it('computes base64(HMAC-SHA1(secret, username)) as openssl does', () => {
    expect(turnCredential(SECRET, VECTOR.username)).toBe(VECTOR.credential);
    expect(turnCredential('another secret', VECTOR.username)).not.toBe(VECTOR.credential);
  });

  it('names the expiry and the viewer@class in the username, TTL seconds from now', () => {
    const now = (1735689600 - 12 * 3600) * 1000 + 999; // the expiry is whole seconds
    const turn = new TurnCredentials({
      urls: ['turn:turn.test:3478?transport=tcp'],
      secret: SECRET,
      ttlSeconds: 12 * 3600,
      now: () => now,
    });
    expect(turn.forViewer('p-123', 'cls-abc')).toEqual([
      { urls: ['turn:turn.test:3478?transport=tcp'], ...VECTOR },
    ]);
    expect(turnUsername(1735689600.7, 'x')).toBe('1735689600:x');
  });

  it('keeps the id part to safe characters (no second colon, quote or space)', () => {
    expect(turnId('st:u "x"', 'c,1;\\')).toBe('st_u__x_@c_1__');
    expect(turnId('a'.repeat(500), 'c').length).toBe(200);
  });

  it('puts each URL in a WHEP Link header the browser parses back', () => {
    const servers = new TurnCredentials({
      urls: ['turn:127.0.0.1:3478?transport=tcp', 'turns:turn.test:5349'],
      secret: SECRET,
      ttlSeconds: 60,
      now: () => (1735689600 - 60) * 1000,
    }).forViewer('p-123', 'cls-abc');
    const links = iceLinks(servers);
    expect(links).toEqual([
      `<turn:127.0.0.1:3478?transport=tcp>; rel="ice-server"; username="${VECTOR.username}"; credential="${VECTOR.credential}"; credential-type="password"`,
      `<turns:turn.test:5349>; rel="ice-server"; username="${VECTOR.username}"; credential="${VECTOR.credential}"; credential-type="password"`,
    ]);
    // fetch() joins repeated headers with ", " (together with a static STUN server first).
    const header = ['<stun:stun.test:3478>; rel="ice-server"', ...links].join(', ');
    expect(parseIceServers(header)).toEqual([
      { urls: 'stun:stun.test:3478' },
      { urls: 'turn:127.0.0.1:3478?transport=tcp', ...VECTOR },
      { urls: 'turns:turn.test:5349', ...VECTOR },
    ]);
  });

  it('never shows the secret when serialized', () => {
    const turn = new TurnCredentials({ urls: ['turn:t:3478'], secret: SECRET, ttlSeconds: 60 });
    expect(JSON.stringify(turn)).not.toContain(SECRET);
    expect(JSON.stringify({ turn })).toBe('{"turn":{"urls":["turn:t:3478"],"ttlSeconds":60}}');
  });
});

describe('TURN configuration', () => {
  const cfg = { turnUrls: [] as string[], turnSecret: '', turnTtl: DEFAULTS.turnTtl };

  it('is off without turnUrls, 12 h credentials by default', () => {
    expect(turnFromConfig(cfg)).toBeUndefined();
    expect(turnFromConfig({ ...cfg, turnUrls: ['turn:t:3478'], turnSecret: 's' })?.ttlSeconds).toBe(43200);
  });

  it('refuses turnUrls without a secret, and a URL that is not TURN (CONFIG_INVALID, no secret in it)', () => {
    expect(() => turnFromConfig({ ...cfg, turnUrls: ['turn:t:3478'] })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('turnSecret') }),
    );
    let err: unknown;
    try {
      turnFromConfig({ ...cfg, turnUrls: ['stun:t:3478'], turnSecret: SECRET });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('stun:t:3478') });
    expect(String((err as Error).message)).not.toContain(SECRET);
  });
});

describe('airclass turn-config', () => {
  const base = {
    ...DEFAULTS,
    publicHost: 'class.school.kr',
    webrtcAnnouncedAddresses: ['203.0.113.7'],
  };

  it('writes a coturn config with the configured secret, TCP on and the relay locked to the node', () => {
    const conf = turnserverConf({
      cfg: { ...base, turnSecret: SECRET },
      turnHost: 'turn.school.kr',
      port: 3478,
      peers: ['203.0.113.7'],
    });
    expect(conf.generated).toBe(false);
    const lines = conf.text.split('\n');
    for (const l of [
      'listening-port=3478',
      'realm=class.school.kr',
      'use-auth-secret',
      `static-auth-secret=${SECRET}`,
      'fingerprint',
      'no-cli',
      'no-multicast-peers',
      'denied-peer-ip=0.0.0.0-255.255.255.255',
      'allowed-peer-ip=203.0.113.7',
    ])
      expect(lines).toContain(l);
    expect(lines.some((l) => l.startsWith('total-quota='))).toBe(true);
    expect(lines.some((l) => /^no-tcp/.test(l))).toBe(false);
    // The airclass.yaml lines, as comments (the file stays a valid turnserver.conf).
    expect(lines).toContain('#     - turn:turn.school.kr:3478?transport=tcp');
    expect(lines).toContain(`#   turnSecret: ${SECRET}`);
    expect(lines.filter((l) => l && !l.startsWith('#')).every((l) => /^[a-z-]+(=.*)?$/.test(l))).toBe(true);
  });

  it('makes a new secret when none is configured, and says so', () => {
    const a = turnserverConf({ cfg: base, turnHost: '2001:db8::1', peers: [] });
    const b = turnserverConf({ cfg: base, turnHost: '2001:db8::1', peers: [] });
    expect(a.generated).toBe(true);
    expect(a.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(a.secret).not.toBe(b.secret);
    expect(a.text).toContain(`static-auth-secret=${a.secret}`);
    expect(a.text).toContain('A NEW shared secret');
    expect(a.text).toContain('turn:[2001:db8::1]:3478?transport=tcp');
  });
});
