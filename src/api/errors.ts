import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger.ts';
import { isConveyorError, type ErrorCode } from '../errors/conveyor-error.ts';
import { BadRequest } from './route.ts';

/** The API's one error body: `{ error: { code, message, details? } }` (schemas.ts `errorSchema`, OpenAPI `Error`). */
export const errorBody = (code: string, message: string, details?: Record<string, unknown>) => ({ error: { code, message, ...(details ? { details } : {}) } });

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  VALIDATION: 422,
  CYCLE: 422,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TIMEOUT: 504,
  REDIS_UNAVAILABLE: 503,
  OUTPUT_TOO_LARGE: 422,
};

/** Codes of errors fastify raises itself, in the envelope's words. */
const FRAMEWORK_CODES: Record<number, string> = { 413: 'PAYLOAD_TOO_LARGE', 414: 'URI_TOO_LONG', 415: 'UNSUPPORTED_MEDIA_TYPE' };

/** Echoing a request path or header back is capped: the request may be megabytes of junk. */
export const shown = (text: string, max = 200) => (text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text);

/**
 * Makes every error the server answers use the envelope: errors thrown by handlers, fastify's own
 * (body limit, bad JSON, a path parameter over the length limit, a malformed URL) and unmatched paths.
 */
export function installErrorEnvelope(app: FastifyInstance, logger: Logger, redact: <T>(value: T) => T): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof BadRequest) return reply.code(400).send(errorBody('BAD_REQUEST', error.message, { issues: error.issues }));
    if (isConveyorError(error)) {
      const status = STATUS_OF[error.code] ?? 500;
      if (status === 500) logger.error('api request failed', { url: shown(request.url), code: error.code, error: error.message });
      return reply.code(status).send(redact(errorBody(error.code, error.message, error.details)));
    }
    const statusCode = (error as FastifyError).statusCode;
    if (statusCode === 413) return reply.code(413).send(errorBody('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`));
    if (statusCode && statusCode >= 400 && statusCode < 500) {
      return reply.code(statusCode).send(errorBody(FRAMEWORK_CODES[statusCode] ?? 'BAD_REQUEST', `invalid request: ${shown(error.message)}`));
    }
    logger.error('api request failed', { url: shown(request.url), error: error instanceof Error ? error.stack : String(error) });
    return reply.code(500).send(errorBody('INTERNAL', 'internal error (see the server log)'));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('NOT_FOUND', `no route for ${request.method} ${shown(request.url.split('?')[0])}`));
  });
}

/** fastify's `frameworkErrors` option: errors raised before routing (over-long path parameter, malformed URL). */
export function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    reply.code(414).send(errorBody('URI_TOO_LONG', `a path parameter is longer than the limit of ${MAX_PARAM_LENGTH} characters`));
    return;
  }
  reply.code(error.statusCode && error.statusCode >= 400 ? error.statusCode : 400).send(errorBody('BAD_REQUEST', `invalid request: ${shown(error.message)}`));
}

/**
 * fastify's `clientErrorHandler`: requests Node's HTTP parser refuses before fastify sees them (a
 * request line or headers over the size limit, a malformed request). They get the same error envelope
 * as everything else, written to the socket directly, which is then closed.
 */
export function clientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, text, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'Request Header Fields Too Large', 'the request line and headers are larger than the server accepts (shorten the URL or the headers)']
      : [400, 'BAD_REQUEST', 'Bad Request', `malformed HTTP request (${error.code ?? 'parse error'})`];
  const body = JSON.stringify(errorBody(code, message));
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Longest path parameter (run id, model name) the router accepts; ids are far shorter. */
export const MAX_PARAM_LENGTH = 512;
