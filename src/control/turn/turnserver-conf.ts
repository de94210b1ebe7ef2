/**
 * `airclass turn-config`: a coturn turnserver.conf that matches this node's configuration
 * (the TURN REST scheme of credentials.ts: `use-auth-secret` + `static-auth-secret`), and the
 * airclass.yaml lines that point the node at it. The whole text is a valid turnserver.conf: the
 * airclass.yaml lines are in its comments.
 *
 * The relay is locked to AirClass: every peer address is denied, then the AirClass node's own
 * addresses are allowed (coturn's allowed-peer-ip is an exception to denied-peer-ip), so a
 * student's credential cannot be used to reach anything else — not the school LAN, not the
 * internet.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Config } from '../../config/schema.ts';
import { newTurnSecret } from './credentials.ts';

/** What the text is made from. */
export interface TurnConfOptions {
  cfg: Pick<
    Config,
    | 'turnUrls'
    | 'turnSecret'
    | 'turnTtl'
    | 'publicHost'
    | 'publicUrl'
    | 'webrtcAnnouncedAddresses'
    | 'webrtcBindAddress'
    | 'maxViewers'
  >;
  /** The TURN server's host name or address as students reach it (default: this node's). */
  turnHost: string;
  /** Its listening port (TCP and UDP; default 3478). */
  port?: number;
  /** The AirClass node's addresses the relay may reach (default: {@link nodeAddresses}). */
  peers?: readonly string[];
}

/** The text and whether its secret was made now (then the operator must put it in airclass.yaml). */
export interface TurnConf {
  text: string;
  secret: string;
  generated: boolean;
}

/** Addresses this AirClass node is reached at by a relay: its interfaces, announced and bound ones. */
export function nodeAddresses(
  cfg: Pick<Config, 'publicHost' | 'webrtcAnnouncedAddresses' | 'webrtcBindAddress'>,
): string[] {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && !a.address.startsWith('fe80:')) out.add(a.address);
  }
  for (const a of [cfg.publicHost, cfg.webrtcBindAddress, ...cfg.webrtcAnnouncedAddresses]) {
    if (a && isIP(a) && a !== '0.0.0.0' && a !== '::') out.add(a);
  }
  return [...out];
}

/** Where students reach TURN by default: publicUrl's host, publicHost, else the first LAN IPv4. */
export function defaultTurnHost(cfg: Pick<Config, 'publicHost' | 'publicUrl'>): string {
  if (cfg.publicUrl) return new URL(cfg.publicUrl).hostname.replace(/^\[|\]$/g, '');
  if (cfg.publicHost) return cfg.publicHost;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** The realm: the host of publicUrl, else publicHost, else "airclass". */
function realmOf(cfg: TurnConfOptions['cfg']): string {
  if (cfg.publicUrl) return new URL(cfg.publicUrl).hostname;
  return cfg.publicHost || 'airclass';
}

/** A URL host: IPv6 in brackets. */
function urlHost(h: string): string {
  return isIP(h) === 6 ? `[${h}]` : h;
}

/** Makes the turnserver.conf text (with the airclass.yaml lines in its header). */
export function turnserverConf(o: TurnConfOptions): TurnConf {
  const { cfg } = o;
  const port = o.port ?? 3478;
  const generated = !cfg.turnSecret;
  const secret = cfg.turnSecret || newTurnSecret();
  const peers = o.peers ?? nodeAddresses(cfg);
  const host = urlHost(o.turnHost);
  const urls =
    cfg.turnUrls.length > 0
      ? cfg.turnUrls
      : [`turn:${host}:${port}?transport=udp`, `turn:${host}:${port}?transport=tcp`];
  const yaml = [
    'turnUrls:',
    ...urls.map((u) => `  - ${u}`),
    `turnSecret: ${secret}`,
    `turnTtl: ${cfg.turnTtl}`,
  ];
  const lines = [
    '# turnserver.conf for AirClass (coturn), made by `airclass turn-config`.',
    '#',
    generated
      ? '# A NEW shared secret was made: put these lines in airclass.yaml (every main and sub node):'
      : '# airclass.yaml already has these (turnSecret is the static-auth-secret below):',
    '#',
    ...yaml.map((l) => `#   ${l}`),
    '#',
    '# Students who cannot reach the AirClass node over UDP relay here (turn:…?transport=udp).',
    '# AirClass (libdatachannel/libjuice) takes no TCP from browsers, so a network with no UDP at',
    '# all needs TURN over TCP/TLS (transport=tcp, turns: with cert/pkey below); see the README',
    '# (TURN) for the Chromium + libjuice defect that stops TURN/TCP today.',
    '',
    `listening-port=${port}`,
    '# TLS (turns:host:5349) needs a certificate students trust:',
    '# tls-listening-port=5349',
    '# cert=/etc/ssl/turn/fullchain.pem',
    '# pkey=/etc/ssl/turn/privkey.pem',
    '# Relay ports (open them, UDP, in the firewall towards the AirClass nodes):',
    'min-port=49152',
    'max-port=65535',
    '',
    `realm=${realmOf(cfg)}`,
    '# Time-limited credentials (TURN REST): username "<expiry>:<viewer>@<class>",',
    '# credential base64(HMAC-SHA1(secret, username)), issued by AirClass per viewer.',
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    'fingerprint',
    'no-cli',
    'no-multicast-peers',
    '# TCP stays on (no no-tcp, no no-tcp-relay): it is what UDP-blocked students use.',
    `total-quota=${Math.max(100, cfg.maxViewers * 2)}`,
    'user-quota=12',
    'stale-nonce=600',
    '',
    '# Relay only to AirClass: deny every peer, then allow the node(s).',
    'denied-peer-ip=0.0.0.0-255.255.255.255',
    'denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ...(peers.length > 0
      ? peers.map((a) => `allowed-peer-ip=${a}`)
      : ['# (no address of this node was found: add allowed-peer-ip=<node address>)']),
    '# Sub nodes on other machines: add one allowed-peer-ip=<address> line each.',
    '',
  ];
  return { text: lines.join('\n'), secret, generated };
}
