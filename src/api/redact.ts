/** What replaces a secret value in API responses. */
export const MASK = '***';

/** Words that make a key secret when they appear as a word of it (`db_password`, `apiKey`, `X-Auth-Token`). */
const SECRET_WORDS = new Set(['password', 'passwd', 'pwd', 'secret', 'token', 'apikey', 'credential', 'credentials', 'authorization', 'cookie', 'passphrase']);
/** Two-word secrets (`api_key`, `access-key`, `privateKey`, `client_secret` is already covered by "secret"). */
const SECRET_PAIRS = new Set(['api key', 'access key', 'private key', 'secret key', 'session id']);

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * True when a key names a secret. Words, not substrings: `max_tokens` or `tokenizer` are not secrets,
 * `access_token` and `dbPassword` are.
 */
export function isSecretKey(key: string): boolean {
  const w = words(key);
  for (let i = 0; i < w.length; i++) {
    if (SECRET_WORDS.has(w[i])) return true;
    if (i + 1 < w.length && SECRET_PAIRS.has(`${w[i]} ${w[i + 1]}`)) return true;
  }
  return false;
}

// `password=hunter2`, `token: abc`, `"api_key": "x"` inside free text (log lines, error messages).
const INLINE = /\b([A-Za-z][A-Za-z0-9_.-]*)(["']?\s*[:=]\s*["']?)([^\s"'&,;}]+)/g;
// Credentials in URLs: scheme://user:password@host
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)@/gi;

function redactString(text: string, known: readonly string[]): string {
  let out = text.replace(URL_USERINFO, `$1${MASK}@`);
  out = out.replace(INLINE, (all, key: string, sep: string, value: string) => (isSecretKey(key) && value !== MASK ? `${key}${sep}${MASK}` : all));
  for (const secret of known) if (secret.length >= 4) out = out.split(secret).join(MASK);
  return out;
}

/**
 * A deep copy of `value` with secrets masked: values under secret-looking keys, `key=value` pairs and
 * URL passwords inside strings, and any literal occurrence of a known secret value. Used on every
 * params/output/error/log payload the API returns, so a step that echoes its config cannot leak it.
 */
export function redactSecrets<T>(value: T, knownSecrets: readonly string[] = []): T {
  return walk(value, knownSecrets, 0) as T;
}

function walk(value: unknown, known: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return redactString(value, known);
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((item) => walk(item, known, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = isSecretKey(key) ? maskAll(inner) : walk(inner, known, depth + 1);
  }
  return out;
}

/** Under a secret key, every leaf is secret (`credentials: { user, pass }`). */
function maskAll(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskAll);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).map((k) => [k, maskAll((value as Record<string, unknown>)[k])]));
  return value === null || value === undefined ? value : MASK;
}
