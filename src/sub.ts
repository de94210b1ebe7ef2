/**
 * The composition root of a sub node (`airclass sub --main <url>`, DESIGN §2): an edge that
 * holds no database. It registers with the main and heartbeats its load, verifies viewers'
 * tokens locally against the main's JWKS, pulls each path from the main over RTSP when its
 * first viewer arrives, and serves WHEP on its own one UDP port. Built without listening;
 * `start()` opens the HTTP listener.
 */
import type { AddressInfo } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { ports, type Config } from './config/schema.ts';
import { RemoteJwks } from './control/auth/remote-jwks.ts';
import { TokenVerifier } from './control/auth/tokens.ts';
import { cpuMeter } from './control/cluster/cluster.ts';
import { ClusterMember } from './control/cluster/member.ts';
import type { NodeLoad } from './control/cluster/node-registry.ts';
import { buildEdgeApp } from './control/http/app.ts';
import { closeHttps, httpsIdentity, listenHttps } from './control/tls/https-listener.ts';
import { sanList } from './control/tls/local-ca.ts';
import { NodeCertificate } from './control/tls/node-cert.ts';
import { createWhepServer, publicHost } from './main.ts';
import { RtspRelay } from './media/servers/rtsp/relay.ts';
import type { WhepServer } from './media/servers/webrtc/whep-server.ts';
import { StreamRegistry } from './media/stream/registry.ts';
import { CleanupStack } from './shared/cleanup.ts';
import { createMetrics } from './control/metrics/metrics.ts';
import { watchMedia } from './control/metrics/media.ts';
import { AirError } from './shared/errors.ts';
import { turnFromConfig } from './control/turn/credentials.ts';
import type { Logger } from './shared/logger.ts';

/** A built sub node. */
export interface SubNode {
  readonly config: Config;
  readonly name: string;
  readonly http: FastifyInstance;
  readonly registry: StreamRegistry;
  readonly whep: WhepServer;
  readonly relay: RtspRelay;
  readonly member: ClusterMember;
  readonly jwks: RemoteJwks;
  /** This node's public HTTP base URL. */
  readonly url: string;
  /** Its HTTPS base URL while it serves HTTPS (certificate from the main's CA, or tlsCert). */
  readonly httpsUrl: string | undefined;
  banner(): string;
  /** Opens the HTTP listener and registers with the main. */
  start(): Promise<void>;
  /** Leaves the cluster and closes everything. Idempotent. */
  close(): Promise<void>;
}

/** Builds a sub node from the config (mainUrl and nodeToken are required). */
export async function buildSubNode(cfg: Config, logger: Logger): Promise<SubNode> {
  if (!cfg.mainUrl)
    throw new AirError('CONFIG_INVALID', 'A sub needs the main node’s URL (--main http://MAIN:8000).');
  if (!cfg.nodeToken) {
    throw new AirError(
      'CONFIG_INVALID',
      'A sub needs a node token (--token or AIRCLASS_NODE_TOKEN; print one on the main with `airclass node-token`).',
    );
  }
  const p = ports(cfg);
  const name = cfg.nodeName || `sub-${cfg.portOffset}`;
  const mainUrl = cfg.mainUrl.replace(/\/+$/, '');
  const url = cfg.publicUrl ? cfg.publicUrl.replace(/\/+$/, '') : `http://${publicHost(cfg)}:${p.http}`;
  const log = logger.child({ node: name });
  // HTTPS: tlsCert/tlsKey when set, else a certificate from the main's local CA (one CA for
  // the school); the key pair is made here and never leaves this node.
  const realTls = cfg.https && (cfg.tlsCert || cfg.tlsKey) ? await httpsIdentity(cfg, name) : undefined;
  let httpsServer: HttpsServer | undefined;
  let started = false;
  const httpsUrl = (): string | undefined => {
    if (/^https:/i.test(url)) return url;
    if (!httpsServer?.listening) return undefined;
    const port = (httpsServer.address() as AddressInfo).port;
    return `https://${publicHost(cfg)}${port === 443 ? '' : `:${port}`}`;
  };
  // TURN (turnUrls + turnSecret, the same secret as the main's): credentials for this node's viewers.
  const turn = turnFromConfig(cfg);
  const stack = new CleanupStack(log);
  let ready = false;
  try {
    const jwks = new RemoteJwks({ url: `${mainUrl}/.well-known/jwks.json` });
    const verifier = new TokenVerifier(jwks.getKey);
    const registry = new StreamRegistry({ reconnectGraceMs: cfg.reconnectGraceMs });
    stack.push('registry', registry, () => registry.close());
    const whep = createWhepServer(cfg, registry, log);
    stack.push('whep', whep, () => whep.close());
    await whep.start();
    // Prometheus metrics: this node's own registry, at /metrics.
    const metrics = createMetrics();
    stack.push('metrics', metrics, () => metrics.close());
    watchMedia(metrics, { node: name, registry, whep });
    const cpu = cpuMeter();
    const member: ClusterMember = new ClusterMember({
      mainUrl,
      token: cfg.nodeToken,
      id: name,
      name,
      httpUrl: url,
      httpsUrl,
      capacity: cfg.nodeCapacity,
      logger: log,
      load: (): NodeLoad => ({
        viewers: whep.viewers(),
        cpu: cpu(),
        paths: relay.paths(),
        pathViewers: Object.fromEntries(relay.paths().map((p) => [p, whep.viewers(p)])),
      }),
    });
    stack.push('member', member, () => member.close());
    // HTTPS with `m`; a renewed certificate replaces the old one for new handshakes.
    const serveHttps = async (m: { cert: string; key: string }): Promise<void> => {
      if (httpsServer?.listening) {
        httpsServer.setSecureContext({ cert: m.cert, key: m.key });
        return;
      }
      if (!started) return;
      httpsServer = await listenHttps(http, { port: p.https, host: cfg.host, cert: m.cert, key: m.key });
      log.info({ https: httpsUrl() }, 'serving HTTPS');
      await member.announce();
    };
    const nodeCert =
      cfg.https && !realTls
        ? new NodeCertificate({
            dataDir: cfg.dataDir,
            mainUrl,
            token: cfg.nodeToken,
            id: name,
            sans: sanList(undefined, cfg.publicHost),
            logger: log,
            onChange: (m) =>
              void serveHttps(m).catch((e: unknown) =>
                log.warn({ err: (e as Error).message }, 'cannot serve HTTPS'),
              ),
          })
        : undefined;
    stack.push('https', null, () => closeHttps(httpsServer));
    if (nodeCert) stack.push('node certificate', nodeCert, () => nodeCert.close());
    const relay: RtspRelay = new RtspRelay({
      registry,
      logger: log,
      mainRtspUrl: (): string => member.rtspUrl ?? '',
      token: () => cfg.nodeToken,
      viewers: (path) => whep.viewers(path),
      idleMs: cfg.relayIdleMs,
      onCloseViewers: (path, owner) => {
        const n = whep.closePath(path, owner, 'closed by the teacher');
        log.info({ path, closed: n }, 'viewers closed at the main’s request');
      },
    });
    stack.push('relay', relay, () => relay.close());
    registry.on('offline', (s) => log.info({ path: s.path }, 'stream offline'));

    const http = await buildEdgeApp({
      logger: log,
      bodyLimit: cfg.httpBodyLimit,
      requestTimeoutMs: cfg.httpRequestTimeoutMs,
      registry,
      whep,
      tokens: verifier,
      authorizeMedia: (token, path, action) => {
        if (action !== 'read') throw new AirError('FORBIDDEN', 'A sub node serves viewers only.');
        return verifier.authorize(token, path, action);
      },
      prepareMedia: async (path) => {
        if (!member.rtspUrl) {
          throw new AirError('STREAM_NOT_LIVE', 'This node has not reached the main yet.', {
            'Retry-After': '2',
          });
        }
        await relay.want(path);
        // The main's publisher is away (its grace period): as on the main, a new viewer hears
        // "waiting for the teacher" (409) rather than getting a session with no picture.
        if (registry.get(path)?.stalled) {
          throw new AirError('STREAM_NOT_LIVE', `Nothing is published on ${path} now.`, {
            'Retry-After': '2',
          });
        }
      },
      iceServers: cfg.iceServers,
      ...(turn ? { turnFor: (viewer: string, classId: string) => turn.forViewer(viewer, classId) } : {}),
      rateLimit: cfg.whepRateLimit,
      metrics: { metrics, access: { allow: cfg.metricsAllow, token: cfg.metricsToken } },
      // A sub runs no ffmpeg: it relays the main's Opus.
      audio: () => ({ available: false, reason: 'a sub node relays the main’s Opus; it runs no ffmpeg' }),
      ready: () => ready,
      startedAt: Date.now(),
      extraHealth: () => ({
        role: 'sub',
        name,
        main: mainUrl,
        registered: member.registered,
        https: httpsUrl() ?? null,
        keys: jwks.loaded,
        relay: {
          paths: relay.paths(),
          reconnects: relay.stats.reconnects,
          hopMs: Object.fromEntries(relay.paths().map((path) => [path, relay.pullOf(path)?.hopMs() ?? null])),
        },
      }),
    });
    stack.push('http', http, () => http.close());
    stack.push('ready', null, () => (ready = false));
    let closing: Promise<void> | undefined;
    return {
      config: cfg,
      name,
      http,
      registry,
      whep,
      relay,
      member,
      jwks,
      url,
      get httpsUrl() {
        return httpsUrl();
      },
      banner: () =>
        [
          `AirClass sub node "${name}" is running.`,
          `  HTTP        ${url}   (health: ${url}/health)`,
          ...(httpsUrl()
            ? [
                `  HTTPS       ${httpsUrl()}   (certificate: ${realTls ? cfg.tlsCert : 'the main’s local CA'})`,
              ]
            : []),
          `  WHEP        ${url}/live/<name>/whep   (students are sent here by the main)`,
          `  WebRTC UDP  ${whep.udpPort}`,
          `  Main        ${mainUrl}`,
        ].join('\n'),
      start: async () => {
        await http.listen({ port: p.http, host: cfg.host });
        started = true;
        if (realTls) await serveHttps(realTls);
        else if (nodeCert) {
          await nodeCert.start();
          if (nodeCert.current) await serveHttps(nodeCert.current);
        }
        void jwks.refresh();
        await member.start();
        ready = true;
        log.info({ http: url, main: mainUrl, capacity: cfg.nodeCapacity }, 'AirClass sub started');
      },
      close: () => (closing ??= stack.run()),
    };
  } catch (e) {
    await stack.run();
    throw e;
  }
}
