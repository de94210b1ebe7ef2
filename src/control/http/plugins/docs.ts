/**
 * The OpenAPI document, generated from the route schemas that also validate requests:
 * swagger-ui at `/docs`, the JSON at `/docs/json`. Pages and static files are left out.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { SESSION_COOKIE } from '../session.ts';

const HIDDEN = [/^\/web\//, /^\/watch\//, /^\/docs/, /^\/$/];

/** Registers @fastify/swagger (must come before the routes) and swagger-ui at /docs. */
export async function registerDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'AirClass API',
        version,
        description:
          'Live classroom control plane. Sign in (POST /api/auth/login) for a session cookie and ' +
          'Bearer token; students get a token from POST /api/join. Errors are ' +
          '`{ "error": { "code", "message" } }` with stable codes.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          cookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      tags: [
        { name: 'auth', description: 'Sign-in sessions' },
        { name: 'users', description: 'Accounts (admin)' },
        { name: 'classes', description: 'Classes, stream keys, join QR codes' },
        { name: 'join', description: 'Students joining; legacy media tokens' },
      ],
    },
    transform: ({ schema, url, route }) => {
      const hide = HIDDEN.some((r) => r.test(url)) || [route.method].flat().includes('OPTIONS');
      return { schema: hide ? { ...schema, hide: true } : schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: false });
}
