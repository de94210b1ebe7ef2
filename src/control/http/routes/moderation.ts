/**
 * The chat hold's queue for the console (issue 10): `GET /api/classes/:id/chat/held` lists a
 * class's students' messages still waiting for the teacher, oldest first, so a reloaded console
 * shows them; the live `chat.held` / `chat.decided` events keep it current after that, and
 * `chat.approve` / `chat.reject` on the class channel decide them. The class's teacher and admins.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { canManageClass, check } from '../../auth/policy.ts';
import type { ClassService } from '../../classroom/class-service.ts';
import type { HeldRepo } from '../../store/types.ts';
import { heldEntry } from '../../ws/chat.ts';
import type { Authenticator } from '../session.ts';
import { IdParams, SECURED, errors } from '../schemas.ts';

/** What the moderation routes need. */
export interface ModerationRouteDeps {
  held: Pick<HeldRepo, 'listHeld'>;
  classes: Pick<ClassService, 'get'>;
  authenticator: Authenticator;
}

const Reason = Type.Union(
  ['phone', 'email', 'rrn', 'address', 'insult'].map((r) => Type.Literal(r)),
  { description: 'phone number, e-mail, resident registration number, street address, insult' },
);

const HeldView = Type.Object({
  id: Type.String({ description: 'Held id (approve or reject it with this on /ws)' }),
  from: Type.Object({ id: Type.String(), name: Type.String() }),
  text: Type.String(),
  reasons: Type.Array(Reason),
  at: Type.String({ format: 'date-time' }),
});

/** Registers the routes (call inside the /api context). */
export function moderationRoutes(api: FastifyInstance, deps: ModerationRouteDeps): void {
  const { held, classes, authenticator } = deps;
  api.get<{ Params: IdParams }>(
    '/classes/:id/chat/held',
    {
      schema: {
        tags: ['ai'],
        summary: "Students' chat messages waiting for the teacher's approval, oldest first (at most 200)",
        security: SECURED,
        params: IdParams,
        response: { 200: Type.Object({ held: Type.Array(HeldView) }), ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const p = await authenticator.require(req);
      const c = await classes.get(req.params.id);
      check(canManageClass(p, c));
      void reply.header('Cache-Control', 'no-store');
      return { held: (await held.listHeld(c.id)).map(heldEntry) };
    },
  );
}
