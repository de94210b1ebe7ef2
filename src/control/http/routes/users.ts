import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AirError } from '../../../shared/errors.ts';
import { hashPassword } from '../../auth/passwords.ts';
import { requireRole } from '../../auth/policy.ts';
import type { ApiDeps } from '../api.ts';
import { Email, IdParams, NewPassword, SECURED, UserView, errors } from '../schemas.ts';
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

const UpdateUser = Type.Object(
  {
    disabled: Type.Optional(Type.Boolean({ description: 'true: sign-in and every session refused' })),
    password: Type.Optional(NewPassword),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** True for a unique-constraint violation from PostgreSQL (23505), however the driver wraps it. */
function isUniqueViolation(e: unknown): boolean {
  for (let x = e as { code?: unknown; cause?: unknown } | undefined, i = 0; x && i < 4; i++) {
    if (x.code === '23505') return true;
    x = x.cause as typeof x;
  }
  return false;
}

/**
 * Accounts (admin only): `POST /api/users` creates a teacher (or admin), `GET /api/users`
 * lists, `PATCH /api/users/:id` disables/enables, resets the password or renames (disabling
 * and a new password end the account's sessions at once).
 */
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

  api.patch<{ Params: IdParams; Body: Static<typeof UpdateUser> }>(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Disable/enable an account, reset its password, rename it (admin)',
        security: SECURED,
        params: IdParams,
        body: UpdateUser,
        response: { 200: UserView, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const p = await authenticator.require(req);
      requireRole(p, 'admin');
      const { disabled, password, name } = req.body;
      if (disabled === true && req.params.id === p.sub) {
        throw new AirError('CONFLICT', 'An admin cannot disable their own account.');
      }
      const cleaned = name?.trim();
      if (name !== undefined && !cleaned) throw new AirError('VALIDATION', 'body/name: the name is empty');
      const user = await store.users.update(req.params.id, {
        disabled,
        name: cleaned,
        passwordHash: password === undefined ? undefined : await hashPassword(password, deps.passwordParams),
      });
      if (!user) throw new AirError('USER_NOT_FOUND');
      req.log.info(
        { userId: user.id, disabled, password: password !== undefined, renamed: name !== undefined },
        'account changed',
      );
      return userView(user);
    },
  );
}
