import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/**
 * The HTML pages, by URL → file under the web dir. All are public: each page asks the API who
 * the caller is (the console sends a visitor without a session to /login).
 */
const PAGES: Readonly<Record<string, string>> = {
  '/': 'join/index.html', // students type the server's address: the join form, with a sign-in link
  '/join': 'join/index.html', // the class QR points here (?code=123456)
  '/login': 'login/index.html',
  '/console': 'console/index.html',
  '/monitor': 'monitor/index.html', // the teacher's share link (#token=…)
  '/watch/:app/:name': 'watch/index.html',
};

/** Serves the browser pages: `/web/…` static files and the pages in {@link PAGES}. */
export async function webRoutes(app: FastifyInstance, webDir: string): Promise<void> {
  await app.register(fastifyStatic, { root: webDir, prefix: '/web/', index: false, cacheControl: false });
  for (const [url, file] of Object.entries(PAGES)) {
    app.get(url, async (_req, reply) => {
      const html = await readFile(join(webDir, file), 'utf8');
      void reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer');
      return reply.type('text/html; charset=utf-8').send(html);
    });
  }
}
