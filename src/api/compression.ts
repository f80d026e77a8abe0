import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';

/** Smaller bodies are not worth the CPU (and often grow). */
const MIN_BYTES = 1024;

/**
 * gzip for whole-body responses (API JSON, UI files) when the client accepts it. Streams (the run
 * events' SSE) pass through untouched: they flush event by event. A run page of a 300-item map was
 * ~100 KB of JSON; it compresses about tenfold.
 */
export function registerCompression(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    const size = Buffer.byteLength(payload);
    if (size < MIN_BYTES || reply.hasHeader('content-encoding')) return payload;
    reply.header('vary', appendVary(reply.getHeader('vary')));
    if (!/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return payload;
    reply.header('content-encoding', 'gzip');
    reply.removeHeader('content-length');
    return gzipSync(payload);
  });
}

function appendVary(current: unknown): string {
  const values = String(current ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  return [...new Set([...values, 'accept-encoding'])].join(', ');
}
