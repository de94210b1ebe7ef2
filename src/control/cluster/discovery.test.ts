import { describe, expect, it } from 'vitest';
import { advertiseMain, discoverMain } from './discovery.ts';

describe('mDNS discovery of the main (bonjour-service, real multicast on this machine)', () => {
  it('a sub finds the URL a main advertises', async () => {
    const url = `http://127.0.0.1:${9000 + Math.floor(Math.random() * 500)}`;
    const stop = advertiseMain({
      name: `airclass-test-${process.pid}-${Date.now()}`,
      httpUrl: url,
      port: 9000,
    });
    try {
      // Another test's main may be advertised too: look until ours shows up.
      let found: string | undefined;
      for (let i = 0; i < 5 && found !== url; i++) found = await discoverMain(3000);
      expect(found).toBe(url);
    } finally {
      await stop();
    }
  }, 30_000);
});
