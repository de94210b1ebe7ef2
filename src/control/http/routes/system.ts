/**
 * `GET /api/system` (admin only): what an operator asks first about a node — its LAN
 * addresses, public host and URL, versions (AirClass, Node.js, ffmpeg, the database server),
 * whether Redis is in use, uptime, role and name, and its ports. Facts only: no configuration
 * values that could be secrets (no database URL, no tokens, no keys).
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { sql } from 'drizzle-orm';
import { requireRole } from '../../auth/policy.ts';
import type { DrizzleStore } from '../../store/db.ts';
import type { Authenticator } from '../session.ts';
import { SECURED, errors } from '../schemas.ts';

const Address = Type.Object({
  interface: Type.String({ description: 'network interface, e.g. eth0' }),
  family: Type.Union([Type.Literal('IPv4'), Type.Literal('IPv6')]),
  address: Type.String(),
});

const SystemView = Type.Object(
  {
    role: Type.Literal('main', { description: 'the node that serves the API (airclass start / main)' }),
    name: Type.String(),
    publicHost: Type.String({ description: 'host put in links (publicHost, else the first LAN IPv4)' }),
    publicUrl: Type.String({ description: 'base URL of links and QR codes' }),
    addresses: Type.Array(Address, { description: "this machine's non-internal addresses" }),
    versions: Type.Object({
      airclass: Type.String(),
      node: Type.String(),
      ffmpeg: Type.Union([Type.String(), Type.Null()], { description: 'null: no usable ffmpeg found' }),
    }),
    database: Type.Object({
      kind: Type.Union([Type.Literal('pglite'), Type.Literal('postgres')]),
      version: Type.Union([Type.String(), Type.Null()], {
        description: 'server_version; null when the database did not answer',
      }),
    }),
    redis: Type.Boolean({ description: 'true: the bus, presence and registry use Redis (redisUrl)' }),
    uptimeSeconds: Type.Integer({ description: "the process's uptime" }),
    ports: Type.Object({
      http: Type.Integer(),
      https: Type.Union([Type.Integer(), Type.Null()], {
        description: 'null: HTTPS is off; 0: any free port',
      }),
      rtmp: Type.Integer(),
      rtsp: Type.Integer(),
      webrtcUdp: Type.Integer({ description: 'the shared WebRTC UDP port (0: any free port)' }),
      webrtcUdpMux: Type.Boolean(),
      webrtcPortMin: Type.Integer(),
      webrtcPortMax: Type.Integer(),
    }),
  },
  { additionalProperties: false },
);
/** The body of `GET /api/system`. */
export type SystemView = Static<typeof SystemView>;

/** What the route reports, from the composition root. */
export interface SystemFacts {
  name: string;
  publicHost: string;
  publicUrl: string;
  ports: SystemView['ports'];
  redis: boolean;
  /** ffmpeg's version when one was found. */
  ffmpegVersion: () => string | undefined;
  store: Pick<DrizzleStore, 'dialect' | 'db'>;
}

/** What the route needs. */
export interface SystemRouteDeps extends SystemFacts {
  authenticator: Authenticator;
}

/** AirClass's version from package.json (read once). */
let packageVersion: string | undefined;
function airclassVersion(): string {
  if (packageVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
        version?: unknown;
      };
      packageVersion = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      packageVersion = 'unknown';
    }
  }
  return packageVersion;
}

/** The non-internal addresses of this machine's interfaces. */
export function lanAddresses(): SystemView['addresses'] {
  const out: SystemView['addresses'] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (a.family !== 'IPv4' && a.family !== 'IPv6')) continue;
      out.push({ interface: name, family: a.family, address: a.address });
    }
  }
  return out;
}

/** The database server's version (`server_version`), or null when it does not answer. */
export async function databaseVersion(store: Pick<DrizzleStore, 'db'>): Promise<string | null> {
  try {
    const r = (await store.db.execute(sql`select current_setting('server_version') as v`)) as unknown as {
      rows: { v?: unknown }[];
    };
    const v = r.rows[0]?.v;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Registers `GET /system` on the `/api` context. */
export function systemRoutes(api: FastifyInstance, deps: SystemRouteDeps): void {
  let dbVersion: Promise<string | null> | undefined;
  api.get(
    '/system',
    {
      schema: {
        tags: ['system'],
        summary: "The node's addresses, versions, database, uptime and ports (admin)",
        security: SECURED,
        response: { 200: SystemView, ...errors(401, 403) },
      },
    },
    async (req): Promise<SystemView> => {
      requireRole(await deps.authenticator.require(req), 'admin');
      // The version is asked once it has answered (it changes only with a server upgrade).
      const p = (dbVersion ??= databaseVersion(deps.store));
      const version = await p;
      if (version === null) dbVersion = undefined;
      return {
        role: 'main',
        name: deps.name,
        publicHost: deps.publicHost,
        publicUrl: deps.publicUrl,
        addresses: lanAddresses(),
        versions: {
          airclass: airclassVersion(),
          node: process.versions.node,
          ffmpeg: deps.ffmpegVersion() ?? null,
        },
        database: { kind: deps.store.dialect, version },
        redis: deps.redis,
        uptimeSeconds: Math.floor(process.uptime()),
        ports: deps.ports,
      };
    },
  );
}
