/** What a masked secret is replaced with. */
export const REDACTED = '***';

/**
 * Secret values shorter than this are not replaced inside text: masking every "abc" in every log line
 * would mangle output and hide nothing (a 3-character secret is no secret). Keys are still masked.
 */
export const MIN_SECRET_LENGTH = 4;

/** Key words that make a key's value secret; two-word ones (`api_key`, `privateKey`) are matched joined. */
const SECRET_KEY_WORDS = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'token', 'secret', 'apikey', 'authorization', 'accesskey', 'privatekey',
  'secretkey', 'credential', 'credentials', 'cookie', 'sessionid',
]);

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

export interface RedactorOptions {
  /**
   * Also mask inside free text: `password=hunter2` / `"token": "abc"` pairs and URL passwords
   * (`scheme://user:***@host`). For values shown to people (API, logs) — not for JSON text that must
   * stay parseable, which is why the worker, redacting serialised outputs, leaves it off.
   */
  inlinePairs?: boolean;
}

// `password=hunter2`, `token: abc`, `"api_key": "x"` inside free text (log lines, error messages).
const INLINE_PAIR = /\b([A-Za-z][A-Za-z0-9_.-]*)(["']?\s*[:=]\s*["']?)([^\s"'&,;}]+)/g;
// Credentials in URLs: scheme://user:password@host
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)@/gi;

/** Shortest encoded fragment masked: shorter ones (a base64 core of a 4-byte secret) would hit ordinary text. */
const MIN_ENCODED_LENGTH = 6;

/**
 * The secret and the forms a step is likely to print it in: URL-encoded (component, whole-URI, form
 * `+` spaces, lower-case escapes), base64 / base64url, hex. Base64 also in the three alignments it
 * can take inside a longer encoded text (`Basic base64(user:secret)`): only the characters that
 * depend on the secret's bytes alone are kept, so they match wherever the secret sits.
 */
export function encodedForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const component = encodeURIComponent(secret);
  forms.add(component);
  forms.add(component.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()));
  forms.add(component.replace(/%20/g, '+'));
  forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
  forms.add(encodeURI(secret));
  const bytes = Buffer.from(secret, 'utf8');
  forms.add(bytes.toString('hex'));
  forms.add(bytes.toString('hex').toUpperCase());
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64').replace(/=+$/, '');
    // Leading characters mixing in the unknown bytes before; a trailing one mixing in those after.
    const head = shift === 0 ? 0 : shift + 1;
    const tail = (shift + bytes.length) % 3 === 0 ? 0 : 1;
    const core = encoded.slice(head, encoded.length - tail);
    for (const form of [core, core.replace(/\+/g, '-').replace(/\//g, '_')]) if (form.length >= MIN_ENCODED_LENGTH) forms.add(form);
  }
  forms.add(bytes.toString('base64'));
  forms.add(bytes.toString('base64url'));
  return [...forms].filter((form) => form === secret || form.length >= MIN_ENCODED_LENGTH);
}

/**
 * Builds a masker for a set of secret values. The result of `redact(value)`:
 * - strings: every occurrence of a secret value, or of an encoded form of it (encodedForms), also
 *   JSON-escaped (so a step output serialised to JSON is masked too), replaced by `***`; with `inlinePairs`, also secret `key=value`
 *   pairs and URL passwords in the text;
 * - arrays and plain objects: a deep copy; under a secret-looking key every leaf is masked (the
 *   shape stays, `credentials: { user: '***', pass: '***' }`);
 * - Errors: `{ name, message }` masked (a raw Error logs as `{}` anyway);
 * - anything else: unchanged. Cycles become "[Circular]". The input is never mutated.
 */
export function createRedactor(secretValues: Iterable<string>, options: RedactorOptions = {}): Redactor {
  const needles = new Set<string>();
  for (const value of secretValues) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
    for (const form of encodedForms(value)) {
      needles.add(form);
      const escaped = JSON.stringify(form).slice(1, -1);
      if (escaped !== form) needles.add(escaped);
    }
  }
  // Longest first, so a secret that contains another is masked whole.
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  const maskText = (text: string): string => {
    let out = text;
    if (options.inlinePairs) {
      out = out.replace(URL_USERINFO, `$1${REDACTED}@`);
      out = out.replace(INLINE_PAIR, (all, key: string, sep: string, value: string) => (isSecretKey(key) && value !== REDACTED ? `${key}${sep}${REDACTED}` : all));
    }
    for (const needle of ordered) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  };
  const walk = (value: unknown, seen: Set<object>, secret: boolean): unknown => {
    if (secret && (value === null || value === undefined || value === '')) return value;
    if (typeof value === 'string') return secret ? REDACTED : maskText(value);
    if (value === null || typeof value !== 'object') return secret ? REDACTED : value;
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((item) => walk(item, seen, secret));
      if (value instanceof Error) return { name: value.name, message: secret ? REDACTED : maskText(value.message) };
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return secret ? REDACTED : value; // Date, Map, class instances
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) {
        // defineProperty: a "__proto__" key copied by assignment would change the copy's prototype.
        Object.defineProperty(out, key, { value: walk(child, seen, secret || isSecretKey(key)), enumerable: true, writable: true, configurable: true });
      }
      return out;
    } finally {
      seen.delete(value);
    }
  };
  return (value) => walk(value, new Set(), false);
}
