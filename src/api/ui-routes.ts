import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Everything is same-origin; no inline script, no third-party host (the UI works offline). */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Serves the web UI: static files of `src/api/ui/`, read once into memory. The shell holds no data
 * (every view fetches /api/v1 with the user's token), so it is served without auth.
 */
export function registerUi(app: FastifyInstance): void {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(UI_DIR)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(join(UI_DIR, name)) });
  }
  const send = (name: string) => async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const file = files.get(name);
    if (!file) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no UI file "${name}"` } });
    return reply.type(file.type).header('content-security-policy', CSP).header('cache-control', 'no-cache').send(file.body);
  };
  const config = { public: true };
  app.get('/', { config }, send('index.html'));
  // Browsers ask for /favicon.ico whatever the page links: answer with the same icon.
  app.get('/favicon.ico', { config }, send('favicon.svg'));
  app.get<{ Params: { file: string } }>('/ui/:file', { config }, async (request, reply) => send(request.params.file)(request, reply));
}
