import type { FastifyError, FastifyInstance } from 'fastify';
import { AirError, ERRORS } from '../../shared/errors.ts';

const JSON_ERRORS = new Set(['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * The one error handler: AirError → its status, code, message and headers; Fastify's own
 * errors (body too large, bad content type, validation) → catalogue codes; anything else →
 * 500 INTERNAL with the text hidden (and logged).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AirError | Error, req, reply) => {
    let e: AirError;
    if (err instanceof AirError) e = err;
    else if ('code' in err && err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      e = new AirError('PAYLOAD_TOO_LARGE');
    else if ('code' in err && err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      e = new AirError('UNSUPPORTED_MEDIA_TYPE');
    else if ('code' in err && JSON_ERRORS.has(String(err.code))) e = new AirError('INVALID_JSON');
    else if (err instanceof SyntaxError && 'statusCode' in err && err.statusCode === 400)
      e = new AirError('INVALID_JSON');
    else if ('validation' in err && err.validation) e = new AirError('VALIDATION', err.message);
    else if ('statusCode' in err && err.statusCode === 429) e = new AirError('RATE_LIMITED');
    else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode < 500) {
      e = new AirError('BAD_REQUEST', err.message);
    } else {
      req.log.error({ err }, 'unhandled error');
      e = new AirError('INTERNAL');
    }
    if (e.status >= 500 && e.code === 'INTERNAL') e = new AirError('INTERNAL', ERRORS.INTERNAL.message);
    const body: ErrorBody = { error: { code: e.code, message: e.message } };
    void reply.code(e.status).headers(e.headers).type('application/json').send(body);
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send({ error: { code: 'NOT_FOUND', message: ERRORS.NOT_FOUND.message } });
  });
}
