import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/**
 * The HTML pages, by URL → built file under the web dir (dist/web, made by `npm run build:web`
 * from web/). All are public: each page asks the API who the caller is (the console sends a
 * visitor without a session to /login).
 */
const PAGES: Readonly<Record<string, string>> = {
  '/': 'join/index.html', // students type the server's address: the join form, with a sign-in link
  '/join': 'join/index.html', // the class QR points here (?code=123456)
  '/login': 'login/index.html',
  '/console': 'console/index.html',
  '/monitor': 'monitor/index.html', // the teacher's share link (#token=…)
  '/projector': 'projector/index.html', // the classroom projector (#…): code, QR, aggregates
  '/watch/:app/:name': 'watch/index.html',
  '/replay/:id': 'replay/index.html', // a recording (#jwt=<its read token>, or the teacher's session)
};

/** Hashed build output (`/web/assets/name-HASH.js`): its content never changes under that name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function notBuilt(reply: FastifyReply): FastifyReply {
  void reply.code(503).header('Cache-Control', 'no-store').header('Retry-After', '5');
  return reply
    .type('text/plain; charset=utf-8')
    .send('AirClass: the web pages are not built. Run `npm run build:web` (npm start does it) and reload.\n');
}

/**
 * Serves the browser pages: `/web/…` static files of the built web dir and the pages in
 * {@link PAGES}. Without a build, both answer 503 with what to run.
 */
export async function webRoutes(app: FastifyInstance, webDir: string): Promise<void> {
  if (existsSync(webDir)) {
    await app.register(fastifyStatic, {
      root: webDir,
      prefix: '/web/',
      index: false,
      cacheControl: false,
      setHeaders: (reply, path) => {
        if (path.includes('/assets/')) void reply.header('Cache-Control', IMMUTABLE);
      },
    });
  } else {
    app.get('/web/*', async (_req, reply) => notBuilt(reply));
  }
  for (const [url, file] of Object.entries(PAGES)) {
    app.get(url, async (_req, reply) => {
      let html: string;
      try {
        html = await readFile(join(webDir, file), 'utf8');
      } catch {
        return notBuilt(reply);
      }
      void reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer');
      return reply.type('text/html; charset=utf-8').send(html);
    });
  }
}
