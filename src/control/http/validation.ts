/**
 * Request validation for the API with TypeBox's compiler instead of Fastify's coercing Ajv:
 * bodies are checked as sent (a number is not a join code, `true` is not a name); query
 * strings and path parameters are converted first ("512" → 512), as they can only be text.
 * Failures are VALIDATION errors that name the field.
 */
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { AirError } from '../../shared/errors.ts';
import { API_BODY_LIMIT } from './schemas.ts';

/** The validator compiler of the API context. */
export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  const convert = httpPart !== 'body';
  return (data: unknown) => {
    const value = convert ? Value.Convert(schema, data) : data;
    if (check.Check(value)) return { value };
    const first = check.Errors(value).First();
    const where = `${httpPart ?? 'request'}${first?.path ?? ''}`;
    return { error: new AirError('VALIDATION', `${where}: ${first?.message ?? 'invalid'}`) };
  };
};

/**
 * Makes an API context strict: TypeBox validation, and a JSON parser with the API body limit
 * that takes an empty body as no body (POST /start with `Content-Type: application/json`) and
 * refuses `__proto__` / `constructor.prototype` keys.
 */
export function strictApi(api: FastifyInstance): void {
  api.setValidatorCompiler(typeboxValidatorCompiler);
  api.addHook('onRoute', (route) => {
    route.bodyLimit ??= API_BODY_LIMIT;
  });
  const json = api.getDefaultJsonParser('error', 'error');
  api.removeContentTypeParser('application/json');
  api.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: API_BODY_LIMIT },
    (req, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') {
        done(null, undefined);
        return;
      }
      json(req, text, done);
    },
  );
}
