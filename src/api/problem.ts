import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

const BY_STATUS: Record<number, ErrorCode> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
};

/**
 * Every error leaves the API as application/problem+json (RFC 9457) with a stable code from the
 * registry. 5xx are logged at error (with the stack), client errors at info.
 */
export function problemHandler(err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply): void {
  let status = 500;
  let code: string = ERRORS.INTERNAL.code;
  let detail: string = ERRORS.INTERNAL.message;
  let errors: unknown[] | undefined;
  const fe = err as FastifyError;
  if (err instanceof AppError) {
    status = err.spec.http;
    code = err.code;
    detail = err.message;
    if (Array.isArray(err.extra?.errors)) errors = err.extra.errors as unknown[];
    if (typeof err.extra?.retryAfter === 'number') void reply.header('retry-after', String(err.extra.retryAfter));
  } else if (fe.validation) {
    status = 400;
    // a card number gets its own code: a client can tell the user exactly what to change
    code = fe.validation.some((v) => v.keyword === 'noCardNumber') ? ERRORS.CARD_NUMBER_REFUSED.code : ERRORS.VALIDATION_FAILED.code;
    detail = err.message;
  } else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    status = fe.statusCode;
    code = BY_STATUS[status] ?? ERRORS.VALIDATION_FAILED.code;
    detail = status === 400 && fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'the body is not valid JSON' : err.message;
  }
  if (status >= 500) req.log.error({ err }, 'request failed');
  else req.log.info({ code, status }, 'request refused');
  void reply
    .status(status)
    .type('application/problem+json')
    .send({
      type: `about:blank#${code}`,
      title: code,
      status,
      code,
      detail,
      instance: req.url.split('?')[0],
      ...(errors ? { errors } : {}),
    });
}

/**
 * Errors Node's HTTP parser meets before there is a request (headers too large, URL too long,
 * malformed HTTP): answered on the socket as problem+json, then the connection is closed.
 */
export function clientProblem(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_URI_TOO_LONG' || (err.code === 'HPE_INVALID_URL' && /long/i.test(err.message)) ? 414 : 400;
  const code = status === 431 ? ERRORS.HEADERS_TOO_LARGE : status === 414 ? ERRORS.URI_TOO_LONG : ERRORS.VALIDATION_FAILED;
  const body = JSON.stringify({
    type: `about:blank#${code.code}`,
    title: code.code,
    status,
    code: code.code,
    detail: status === 400 ? 'the request is not valid HTTP' : code.message,
  });
  socket.end(
    `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 414 ? 'URI Too Long' : 'Bad Request'}\r\nconnection: close\r\n` +
      `content-type: application/problem+json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  problemHandler(new AppError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`), req, reply);
}
