import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AirError } from '../../../shared/errors.ts';
import { verifyDummy, verifyPassword } from '../../auth/passwords.ts';
import { ttlSeconds } from '../../auth/tokens.ts';
import type { ApiDeps } from '../api.ts';
import { SECURED, UserView, errors } from '../schemas.ts';
import { clearSessionCookie, setSessionCookie } from '../session.ts';
import { userView } from '../views.ts';

const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

const LoginResponse = Type.Object({
  token: Type.String({ description: 'Bearer token for the API (the web UI uses the cookie)' }),
  expiresIn: Type.Integer({ description: 'Seconds' }),
  user: UserView,
});

const Me = Type.Object({
  sub: Type.String(),
  role: Type.Union([
    Type.Literal('admin'),
    Type.Literal('teacher'),
    Type.Literal('student'),
    Type.Literal('monitor'),
  ]),
  name: Type.Optional(Type.String()),
  classId: Type.Optional(Type.String()),
  user: Type.Optional(UserView),
});

/**
 * Sign-in for teachers and admins: `POST /api/auth/login` (rate limited per address) sets the
 * httpOnly session cookie and returns the same token for Bearer use; `POST /api/auth/logout`
 * clears the cookie; `GET /api/auth/me` says who the caller is (any role).
 */
export function authRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { store, tokens, authenticator, sessionTtl } = deps;

  api.post<{ Body: Static<typeof LoginBody> }>(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with email and password (teacher, admin)',
        body: LoginBody,
        response: { 200: LoginResponse, ...errors(400, 401, 403, 429) },
      },
      config: { rateLimit: { max: deps.loginRateLimit, timeWindow: 60_000 } },
    },
    async (req, reply) => {
      const { email, password } = req.body;
      const user = await store.users.byEmail(email.trim());
      const ok = user ? await verifyPassword(password, user.passwordHash) : await verifyDummy(password);
      if (!user || !ok) {
        req.log.info({ email: email.trim().toLowerCase().slice(0, 320) }, 'sign-in refused');
        throw new AirError('AUTH_FAILED');
      }
      if (user.disabledAt) {
        req.log.info({ userId: user.id }, 'sign-in refused: account disabled');
        throw new AirError('USER_DISABLED');
      }
      const token = await tokens.signAccess({ sub: user.id, role: user.role }, sessionTtl);
      const expiresIn = ttlSeconds(sessionTtl);
      setSessionCookie(req, reply, token, expiresIn);
      void reply.header('Cache-Control', 'no-store');
      return { token, expiresIn, user: userView(user) };
    },
  );

  api.post(
    '/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign out: the token used (cookie or Bearer) is revoked, the cookie cleared',
        response: { 204: Type.Null() },
      },
    },
    async (req, reply) => {
      const token = authenticator.tokenOf(req);
      if (token) {
        // A token that no longer verifies has nothing left to revoke.
        const claims = await tokens.verifyAccess(token).catch(() => undefined);
        if (claims?.jti) {
          const expiresAt = new Date((claims.exp ?? Date.now() / 1000 + 86400) * 1000);
          await store.revokedTokens.revoke(claims.jti, expiresAt);
          req.log.info({ sub: claims.sub, role: claims.role }, 'signed out; token revoked');
        }
      }
      clearSessionCookie(req, reply);
      return reply.code(204).send();
    },
  );

  api.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The caller (any role)',
        security: SECURED,
        response: { 200: Me, ...errors(401) },
      },
    },
    async (req) => {
      const p = await authenticator.require(req);
      const user = p.role === 'admin' || p.role === 'teacher' ? await store.users.byId(p.sub) : undefined;
      return { sub: p.sub, role: p.role, name: p.name, classId: p.classId, user: user && userView(user) };
    },
  );
}
