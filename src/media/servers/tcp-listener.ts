/**
 * What the TCP servers of the media plane (RTMP, RTSP) share: listening with the bind error
 * returned rather than thrown, and turning connections away at a limit with one log line per
 * address per 10 s (a flood from one place cannot fill the log).
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import type { Logger } from '../../shared/logger.ts';

/** Starts listening; resolves with the bound address (port 0 picks a free port). */
export function listenTcp(
  server: Server,
  port: number,
  host: string,
  log: Logger,
  what: string,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      log.info({ host: a.address, port: a.port }, `${what} listening`);
      resolve(a);
    });
  });
}

/** Closes refused connections and logs each address at most once per 10 s. */
export class Refusals {
  /** Connections turned away. */
  count = 0;
  private readonly logged = new Map<string, number>();
  private readonly log: Logger;
  private readonly what: string;

  constructor(log: Logger, what: string) {
    this.log = log;
    this.what = what;
  }

  refuse(socket: Socket, why: string): void {
    this.count++;
    const addr = socket.remoteAddress ?? '?';
    const now = Date.now();
    if (now - (this.logged.get(addr) ?? 0) > 10_000) {
      if (this.logged.size > 1000) this.logged.clear();
      this.logged.set(addr, now);
      this.log.warn({ remote: addr, code: 'CAPACITY' }, `${this.what} connection refused: ${why}`);
    }
    socket.destroy();
  }
}
