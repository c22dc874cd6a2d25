import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS } from '../errors.ts';

/** Every error leaves the API as application/problem+json (RFC 9457) with a stable code. */
export function problemHandler(err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply): void {
  let status = 500;
  let code = 'INTERNAL';
  let detail = 'internal error';
  if (err instanceof AppError) {
    status = err.spec.http; code = err.code; detail = err.message;
  } else if ((err as FastifyError).validation) {
    status = 400; code = ERRORS.VALIDATION_FAILED.code; detail = err.message;
  } else if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! < 500) {
    status = (err as FastifyError).statusCode!; code = (err as FastifyError).code ?? 'BAD_REQUEST'; detail = err.message;
  }
  if (status >= 500) req.log.error({ err }, 'request failed');
  else req.log.info({ code, detail }, 'request refused');
  void reply.status(status).type('application/problem+json').send({
    type: `about:blank#${code}`, title: code, status, code, detail, instance: req.url,
  });
}
