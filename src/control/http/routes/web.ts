import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Serves the browser pages: `/web/…` static files and `/watch/<app>/<name>`. */
export async function webRoutes(app: FastifyInstance, webDir: string): Promise<void> {
  await app.register(fastifyStatic, { root: webDir, prefix: '/web/', index: false, cacheControl: false });
  app.get('/watch/:app/:name', async (_req, reply) => {
    const html = await readFile(join(webDir, 'watch', 'index.html'), 'utf8');
    void reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer');
    return reply.type('text/html; charset=utf-8').send(html);
  });
  app.get('/', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('AirClass\n'));
}
