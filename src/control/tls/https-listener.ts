/**
 * The HTTPS listener: a `node:https` server whose requests and WebSocket upgrades go to the
 * same Fastify app as plain HTTP (Fastify has one server per instance), so every route, /ws
 * (as WSS) and the cookies' `Secure` flag (the socket is encrypted) work on both.
 */
import { createServer, type Server } from 'node:https';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { AirError } from '../../shared/errors.ts';
import { ensureLocalTls, sanList } from './local-ca.ts';

/** Starts HTTPS on `port`/`host` with `cert`/`key` (PEM), feeding `app`; resolves once listening. */
export async function listenHttps(
  app: FastifyInstance,
  opts: { port: number; host: string; cert: string; key: string },
): Promise<Server> {
  const server = createServer({ cert: opts.cert, key: opts.key });
  server.on('request', (req, res) => app.server.emit('request', req, res));
  server.on('upgrade', (req, socket, head) => app.server.emit('upgrade', req, socket, head));
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(opts.port, opts.host, () => {
      server.off('error', fail);
      done();
    });
  });
  return server;
}

/** Closes the listener and every connection on it (open WSS sockets too). */
export function closeHttps(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}

/** The certificate HTTPS serves and the CA devices trust (absent with a real certificate). */
export interface HttpsIdentity {
  cert: string;
  key: string;
  ca?: { pem: string; der: Buffer; fingerprint: string };
}

/**
 * The HTTPS identity from the config: `tlsCert`/`tlsKey` files when set, else the local CA's
 * server certificate (made or renewed in `<dataDir>/tls/`).
 */
export async function httpsIdentity(
  cfg: Pick<Config, 'dataDir' | 'tlsCert' | 'tlsKey' | 'publicHost'>,
  label: string,
): Promise<HttpsIdentity> {
  if (cfg.tlsCert || cfg.tlsKey) {
    if (!cfg.tlsCert || !cfg.tlsKey) {
      throw new AirError(
        'CONFIG_INVALID',
        'Invalid "tlsCert"/"tlsKey": set both, or neither for the local CA.',
      );
    }
    return { cert: readFileSync(cfg.tlsCert, 'utf8'), key: readFileSync(cfg.tlsKey, 'utf8') };
  }
  const t = await ensureLocalTls({ dataDir: cfg.dataDir, sans: sanList(undefined, cfg.publicHost), label });
  return { cert: t.certPem, key: t.keyPem, ca: { pem: t.caPem, der: t.caDer, fingerprint: t.caFingerprint } };
}
