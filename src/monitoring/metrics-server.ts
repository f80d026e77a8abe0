import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsHub } from './metrics-hub.ts';

export interface MetricsServerOptions {
  port: number;
  /** Default 0.0.0.0 (Prometheus scrapes from another container). */
  host?: string;
  /** Extra readiness check for /healthz (e.g. Redis PING); a throw answers 503 with the message. */
  health?: () => Promise<void>;
}

export interface MetricsServer {
  /** The bound port (useful with port 0 in tests). */
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format) and `GET /healthz`. Plain node:http: two read-only
 * routes do not need a framework, and this keeps the metrics port independent of the API server.
 */
export async function startMetricsServer(hub: MetricsHub, options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '0.0.0.0';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      hub.metrics().then(
        (text) => res.writeHead(200, { 'content-type': hub.contentType }).end(req.method === 'HEAD' ? undefined : text),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error.message}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      (options.health?.() ?? Promise.resolve()).then(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n'),
        (error: Error) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'unhealthy', error: error.message }) + '\n'),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    port,
    url: `http://${shownHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
