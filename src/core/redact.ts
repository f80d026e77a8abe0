/** What a masked secret is replaced with. */
export const REDACTED = '***';

/**
 * Secret values shorter than this are not replaced inside text: masking every "abc" in every log line
 * would mangle output and hide nothing (a 3-character secret is no secret). Keys are still masked.
 */
export const MIN_SECRET_LENGTH = 4;

/** Key words that make a key's value secret; two-word ones (`api_key`, `privateKey`) are matched joined. */
const SECRET_KEY_WORDS = new Set(['password', 'passwd', 'token', 'secret', 'apikey', 'authorization', 'accesskey', 'privatekey']);

/**
 * True for keys like `password`, `DB_PASSWORD`, `api-key`, `apiKey`, `X-Auth-Token`, `private_key`,
 * `client_secret`, `githubtoken` — case-insensitive, with `-`/`_`/camelCase separators. Words, not
 * substrings: `max_tokens` and `tokenizer` are ordinary ML parameters and stay visible.
 */
export function isSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    if (SECRET_KEY_WORDS.has(words[i])) return true;
    if (i + 1 < words.length && SECRET_KEY_WORDS.has(words[i] + words[i + 1])) return true;
  }
  // Run-together keys such as `dbpassword` or `githubtoken`.
  const folded = words.join('');
  for (const word of SECRET_KEY_WORDS) if (folded.endsWith(word)) return true;
  return false;
}

export type Redactor = (value: unknown) => unknown;

/**
 * Builds a masker for a set of secret values. The result of `redact(value)`:
 * - strings: every occurrence of a secret value (also in its JSON-escaped form, so a step output
 *   serialised to JSON is masked too) replaced by `***`;
 * - arrays and plain objects: a deep copy, with the values of secret-looking keys masked entirely;
 * - Errors: `{ name, message }` masked (a raw Error logs as `{}` anyway);
 * - anything else: unchanged. Cycles become "[Circular]". The input is never mutated.
 */
export function createRedactor(secretValues: Iterable<string>): Redactor {
  const needles = new Set<string>();
  for (const value of secretValues) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
    needles.add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) needles.add(escaped);
  }
  // Longest first, so a secret that contains another is masked whole.
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  const maskText = (text: string): string => {
    let out = text;
    for (const needle of ordered) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  };
  const walk = (value: unknown, seen: Set<object>): unknown => {
    if (typeof value === 'string') return maskText(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((item) => walk(item, seen));
      if (value instanceof Error) return { name: value.name, message: maskText(value.message) };
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return value; // Date, Map, class instances: left as they are
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) {
        // defineProperty: a "__proto__" key copied by assignment would change the copy's prototype.
        Object.defineProperty(out, key, {
          value: isSecretKey(key) && child !== null && child !== undefined && child !== '' ? REDACTED : walk(child, seen),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    } finally {
      seen.delete(value);
    }
  };
  return (value) => walk(value, new Set());
}
