/**
 * The app's own list of routes (method + URL), collected as they are added, so a test can
 * check that every endpoint has a row in the authorization matrix and operators can print
 * what the node serves. Fastify's `printRoutes()` is a radix tree drawing that drops prefixes
 * of wildcard routes; this list is exact.
 */
import type { FastifyInstance } from 'fastify';

/** One route as registered. */
export interface RouteSummary {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered so far (HEAD routes Fastify adds for GET included). */
    routeTable(): readonly RouteSummary[];
  }
}

/** Starts collecting routes; call right after creating the app, before any route. */
export function trackRoutes(app: FastifyInstance): void {
  const list: RouteSummary[] = [];
  app.decorate('routeTable', () => list);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) list.push({ method, url: route.url });
  });
}
