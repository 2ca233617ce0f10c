import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../core/log.js';
import { BoxError, isBoxError, type ErrorCode } from '../../core/errors.js';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'E_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'E_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'E_BAD_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'E_BAD_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'E_VALIDATION',
  FST_ERR_VALIDATION: 'E_VALIDATION',
};

/** Maps every failure to a JSON body with a stable code; only a real bug becomes a 500. */
export function toErrorReply(err: FastifyError | BoxError | Error, log: Logger): { status: number; body: ErrorBody } {
  if (isBoxError(err)) {
    return { status: err.status, body: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } };
  }
  const fe = err as FastifyError;
  if (fe.statusCode === 429) return { status: 429, body: { code: 'E_RATE_LIMITED', message: 'Too many requests; try again shortly.' } };
  const mapped = fe.code ? fastifyCodes[fe.code] : undefined;
  if (mapped) return { status: fe.statusCode ?? 400, body: { code: mapped, message: fe.message } };
  if (err instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
    return { status: 400, body: { code: 'E_BAD_JSON', message: 'The request body is not valid JSON.' } };
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { code: 'E_VALIDATION', message: fe.message } };
  }
  log.error({ err }, 'unhandled error in request');
  return { status: 500, body: { code: 'E_INTERNAL', message: 'The box hit an internal error; it has been logged.' } };
}

export function sendError(reply: FastifyReply, err: Error, log: Logger): FastifyReply {
  const { status, body } = toErrorReply(err, log);
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

export function notFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ code: 'E_NOT_FOUND', message: `Nothing at ${req.method} ${req.url.split('?')[0]}.` } satisfies ErrorBody);
}

export function boxError(code: ErrorCode, message: string, details?: unknown): BoxError {
  return new BoxError(code, message, details);
}

/** Malformed HTTP that never reaches fastify's router still gets a JSON body with a stable code. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, code, message]: [number, string, ErrorCode, string] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? [408, 'Request Timeout', 'E_VALIDATION', 'The request took too long to arrive.']
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'E_TOO_LARGE', 'The request headers are too large.']
      : [400, 'Bad Request', 'E_VALIDATION', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ code, message } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
