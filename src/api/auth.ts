import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors/conveyor-error.ts';
import { TOKEN_ADVICE, tokenWeakness } from './token-strength.ts';

export type Role = 'admin' | 'read';

export interface AuthConfig {
  adminTokens: readonly string[];
  readTokens: readonly string[];
  /** No tokens; every caller is admin. Only allowed together with a loopback bind (see checkAuthSetup). */
  insecureLocal: boolean;
}

export type AuthResult = { ok: true; role: Role } | { ok: false; status: 401 | 403; message: string };

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks a bearer token against every configured token without stopping at the first match, comparing
 * fixed-length digests with timingSafeEqual, so neither the content nor the length of a token leaks
 * through response timing.
 */
export class TokenAuth {
  private readonly admin: Buffer[];
  private readonly read: Buffer[];

  constructor(private readonly config: AuthConfig) {
    this.admin = config.adminTokens.map(digest);
    this.read = config.readTokens.map(digest);
  }

  identify(authorization: string | undefined): Role | undefined {
    if (this.config.insecureLocal) return 'admin';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return undefined;
    const given = digest(match[1]);
    let isAdmin = false;
    let isRead = false;
    for (const token of this.admin) isAdmin = timingSafeEqual(given, token) || isAdmin;
    for (const token of this.read) isRead = timingSafeEqual(given, token) || isRead;
    return isAdmin ? 'admin' : isRead ? 'read' : undefined;
  }

  /** 401 without a valid token; 403 when a read-only token attempts anything but GET/HEAD. */
  check(method: string, authorization: string | undefined): AuthResult {
    const role = this.identify(authorization);
    if (!role) {
      return {
        ok: false,
        status: 401,
        message: authorization ? 'expected a valid bearer token, found an unknown token' : 'expected an "Authorization: Bearer <token>" header, found none',
      };
    }
    if (role === 'read' && method !== 'GET' && method !== 'HEAD') {
      return { ok: false, status: 403, message: `a read-only token may only GET; ${method} needs an admin token (CONVEYOR_API_TOKEN)` };
    }
    return { ok: true, role };
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Refuses to serve without tokens unless `--insecure-local`, which must bind to loopback only, and
 * refuses placeholder or guessable tokens (the error is one line saying how to make a good one).
 */
export function checkAuthSetup(config: AuthConfig, host: string): void {
  if (config.insecureLocal) {
    if (!LOOPBACK.has(host)) throw new ConfigError(`--insecure-local binds to 127.0.0.1 only; found host "${host}"`);
    return;
  }
  if (config.adminTokens.length === 0 && config.readTokens.length === 0) {
    throw new ConfigError(
      `the API needs a token: set CONVEYOR_API_TOKEN (admin; ${TOKEN_ADVICE}) and optionally CONVEYOR_API_READ_TOKENS, or pass --insecure-local to serve without auth on 127.0.0.1`,
    );
  }
  const named = [
    ...config.adminTokens.map((token) => ({ token, name: 'CONVEYOR_API_TOKEN' })),
    ...config.readTokens.map((token, i) => ({ token, name: `CONVEYOR_API_READ_TOKENS entry ${i + 1}` })),
  ];
  for (const { token, name } of named) {
    const weakness = tokenWeakness(token);
    if (weakness) throw new ConfigError(`${name} ${weakness}; ${TOKEN_ADVICE}`);
  }
}
