import { connect } from 'node:net';

/**
 * Sends bytes to an HTTP server as they are and returns everything it wrote before closing — for
 * requests a client library would rewrite first (fetch resolves `../`, refuses bad framing).
 * `Connection: close` makes the server end the exchange.
 */
export function rawHttp(baseUrl: string, request: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let out = '';
    socket.on('data', (chunk) => (out += chunk.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

/** Status code of a raw HTTP response. */
export const rawStatus = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
