import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role, TokenAuth } from './auth.ts';
import { errorBody } from './errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token. Every route without it needs one (deny by default). */
    public?: boolean;
  }
}

/** Header a script may send on a write without a body (the web UI always sends JSON); a browser sends a custom header cross-site only after a CORS preflight, which this server never grants. */
export const CLIENT_HEADER = 'x-conveyor-client';

export interface LocalModeOptions {
  /** Extra `host[:port]` values accepted in the Host header (a reverse proxy in front of local mode). */
  allowedHosts?: readonly string[];
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type RequestWithRole = FastifyRequest & { role?: Role };

/**
 * Installs the access checks. They run in `onRequest`, which fastify calls after routing, so they see
 * the route that will actually answer — whatever spelling of the path reached it (percent-encoding,
 * case, slashes): a route is public only when it says so in its config; an unmatched path goes to the
 * not-found handler, which returns no data.
 */
export function installAccessControl(app: FastifyInstance, auth: TokenAuth, local: LocalModeOptions | undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    if (local) {
      const refusal = localModeRefusal(request, local);
      if (refusal) return reply.code(403).send(errorBody('FORBIDDEN', refusal));
    }
    if (request.is404 || request.routeOptions.config.public === true) return;
    const result = auth.check(request.method, request.headers.authorization);
    if (!result.ok) {
      if (result.status === 401) reply.header('www-authenticate', 'Bearer realm="conveyor"');
      return reply.code(result.status).send(errorBody(result.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', result.message));
    }
    (request as RequestWithRole).role = result.role;
  });
}

/**
 * Token-less local mode trusts whoever reaches the port, so it must not be reachable through a
 * browser on another site: a foreign Host (DNS rebinding), a foreign Origin, or a write a page could
 * send without a CORS preflight (a "simple" request: no JSON content type, no custom header).
 */
export function localModeRefusal(request: FastifyRequest, options: LocalModeOptions): string | undefined {
  const host = request.headers.host ?? '';
  const port = request.socket.localPort ?? 0;
  if (!isAllowedHost(host, port, options.allowedHosts ?? [])) {
    return `local mode serves only Host localhost, 127.0.0.1 or [::1] on port ${port}${options.allowedHosts?.length ? ` or ${options.allowedHosts.join(', ')}` : ''}; found Host "${host.slice(0, 200)}" (a proxy's name goes into CONVEYOR_API_ALLOWED_HOSTS)`;
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !isSameOrigin(origin, host)) {
    return `local mode accepts requests from its own pages only; expected Origin http://${host}, found "${origin.slice(0, 200)}"`;
  }
  if (SAFE_METHODS.has(request.method)) return undefined;
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return undefined;
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  if (!hasBody && request.headers[CLIENT_HEADER] !== undefined) return undefined;
  return `local mode accepts ${request.method} only with "Content-Type: application/json" (or, without a body, the ${CLIENT_HEADER} header); found ${type ? `"${type}"` : 'no content type'}`;
}

function isAllowedHost(host: string, port: number, allowed: readonly string[]): boolean {
  const lower = host.toLowerCase();
  if (allowed.some((entry) => entry.toLowerCase() === lower)) return true;
  const match = /^(\[[^\]]*\]|[^:]+):(\d+)$/.exec(lower);
  return match !== null && LOOPBACK_NAMES.has(match[1]) && Number(match[2]) === port;
}

function isSameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase() && origin === url.origin;
  } catch {
    return false; // "null" (sandboxed frames, file://) and anything unparsable
  }
}

/**
 * Lets a write without a body say `Content-Type: application/json` (what local mode asks of writes):
 * fastify's own JSON parser refuses an empty body. Anything non-empty still goes through fastify's
 * parser, with its __proto__ / constructor poisoning checks.
 */
export function allowEmptyJsonBody(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return parse(request, body as string, done);
  });
}
