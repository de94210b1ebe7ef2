import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AirError } from '../../../shared/errors.ts';
import { hashPassword } from '../../auth/passwords.ts';
import { requireRole } from '../../auth/policy.ts';
import type { ApiDeps } from '../api.ts';
import { Email, NewPassword, SECURED, UserView, errors } from '../schemas.ts';
import { userView } from '../views.ts';

const CreateUser = Type.Object(
  {
    email: Email,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    password: NewPassword,
    role: Type.Optional(Type.Union([Type.Literal('teacher'), Type.Literal('admin')], { default: 'teacher' })),
  },
  { additionalProperties: false },
);

/** True for a unique-constraint violation from PostgreSQL (23505), however the driver wraps it. */
function isUniqueViolation(e: unknown): boolean {
  for (let x = e as { code?: unknown; cause?: unknown } | undefined, i = 0; x && i < 4; i++) {
    if (x.code === '23505') return true;
    x = x.cause as typeof x;
  }
  return false;
}

/** Accounts (admin only): `POST /api/users` creates a teacher (or admin), `GET /api/users` lists. */
export function userRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { store, authenticator } = deps;

  api.post<{ Body: Static<typeof CreateUser> }>(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a teacher account (admin)',
        security: SECURED,
        body: CreateUser,
        response: { 201: UserView, ...errors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      requireRole(await authenticator.require(req), 'admin');
      const { email, name, password, role } = req.body;
      if (await store.users.byEmail(email.trim())) throw new AirError('EMAIL_TAKEN');
      let user;
      try {
        user = await store.users.create({
          email: email.trim(),
          name: name.trim(),
          role: role ?? 'teacher',
          passwordHash: await hashPassword(password, deps.passwordParams),
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw new AirError('EMAIL_TAKEN');
        throw e;
      }
      req.log.info({ userId: user.id, role: user.role }, 'account created');
      return reply.code(201).send(userView(user));
    },
  );

  api.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List accounts (admin)',
        security: SECURED,
        response: { 200: Type.Object({ users: Type.Array(UserView) }), ...errors(401, 403) },
      },
    },
    async (req) => {
      requireRole(await authenticator.require(req), 'admin');
      return { users: (await store.users.list()).map(userView) };
    },
  );
}
