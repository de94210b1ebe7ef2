/**
 * Finding the main on a LAN without typing its address (`airclass sub --discover mdns`): the
 * main advertises an `_airclass._tcp` service over multicast DNS (bonjour-service) whose TXT
 * record holds its HTTP URL; a sub browses for it. mDNS does not cross routers: a school with
 * several subnets gives `--main` instead.
 */
import { Bonjour } from 'bonjour-service';

const TYPE = 'airclass';

/** Advertises the main node; returns a function that stops advertising. */
export function advertiseMain(opts: { name: string; httpUrl: string; port: number }): () => Promise<void> {
  const bonjour = new Bonjour({}, () => undefined);
  bonjour.publish({
    name: opts.name,
    type: TYPE,
    port: opts.port,
    txt: { url: opts.httpUrl, role: 'main' },
    probe: false,
  });
  return () =>
    new Promise<void>((resolve) => {
      bonjour.unpublishAll(() => bonjour.destroy(() => resolve()));
    });
}

/** Looks for an advertised main for up to `timeoutMs`; its HTTP URL, or undefined. */
export function discoverMain(timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const bonjour = new Bonjour({}, () => undefined);
    let done = false;
    const finish = (url: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      browser.stop();
      bonjour.destroy();
      resolve(url);
    };
    const browser = bonjour.find({ type: TYPE }, (service) => {
      const txt = service.txt as Record<string, unknown> | undefined;
      const url = typeof txt?.url === 'string' ? txt.url : undefined;
      if (url && /^https?:\/\//.test(url) && txt?.role === 'main') finish(url);
    });
    const timer = setTimeout(() => finish(undefined), timeoutMs);
  });
}
