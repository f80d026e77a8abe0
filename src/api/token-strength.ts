/**
 * Refuses API tokens that someone could guess: the placeholders example files ship, and strings with
 * little randomness in them. The rule is deliberately simple and errs towards refusing — making a
 * good token is one command (TOKEN_ADVICE), and a token is set once.
 */

export const TOKEN_ADVICE = 'make one with: openssl rand -hex 32';

/** Words of placeholders in example files and tutorials; a real random token contains none of them. */
const PLACEHOLDER = /replace|change-?me|changeit|example|placeholder|your-?(api-?)?token|dummy|sample|insert|secret|password|default|test-?token|todo|xxxx/i;

/** Bits a brute-force search needs at least (an `openssl rand -hex 32` token has 256). */
export const MIN_TOKEN_BITS = 96;

/**
 * Why `token` is too weak, or undefined when it is acceptable. Strength is estimated as
 * (characters not continuing a run like `0123`/`aaaa`) × log2(alphabet), where the alphabet is what
 * its character classes span (hex, letters, digits, symbols) but never more than the distinct
 * characters it actually uses.
 */
export function tokenWeakness(token: string): string | undefined {
  if (PLACEHOLDER.test(token)) return 'is a placeholder, not a secret';
  const bits = estimatedBits(token);
  if (bits < MIN_TOKEN_BITS) return `is too easy to guess (about ${Math.floor(bits)} bits of randomness; at least ${MIN_TOKEN_BITS} needed)`;
  return undefined;
}

export function estimatedBits(token: string): number {
  const chars = [...token];
  if (chars.length === 0) return 0;
  const isHex = /^[0-9a-f]+$/i.test(token) && !(/[a-f]/.test(token) && /[A-F]/.test(token));
  let alphabet = 0;
  if (isHex) alphabet = 16;
  else {
    if (/[a-z]/.test(token)) alphabet += 26;
    if (/[A-Z]/.test(token)) alphabet += 26;
    if (/[0-9]/.test(token)) alphabet += 10;
    if (/[^a-zA-Z0-9]/.test(token)) alphabet += 32;
  }
  // Characters that continue a run (`aaa`, `abc`, `987`: the same step of -1, 0 or +1 twice) add nothing.
  let predictable = 0;
  for (let i = 2; i < chars.length; i++) {
    const step = chars[i].codePointAt(0)! - chars[i - 1].codePointAt(0)!;
    if (Math.abs(step) <= 1 && step === chars[i - 1].codePointAt(0)! - chars[i - 2].codePointAt(0)!) predictable++;
  }
  // A token drawing on few distinct characters (`abababab…`) is as weak as that small alphabet.
  const distinct = new Set(chars).size;
  return (chars.length - predictable) * Math.log2(Math.max(1, Math.min(alphabet, distinct)));
}
