import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { checkAuthSetup } from '../../src/api/auth.ts';
import { tokenWeakness } from '../../src/api/token-strength.ts';
import { runCli } from '../fixtures/procs.ts';
import { freePort } from '../helpers/redis-server.ts';

const admin = (token: string) => () => checkAuthSetup({ adminTokens: [token], readTokens: [], insecureLocal: false }, '0.0.0.0');

test('serve refuses the shipped k8s placeholder with one line saying how to make a token', async (t) => {
  // Nothing listens on this port: the check must come before any connection attempt.
  const env = { CONVEYOR_API_TOKEN: 'replace-me-with-at-least-16-characters', REDIS_URL: `redis://127.0.0.1:${await freePort()}`, CONVEYOR_PIPELINES: 'test/fixtures-security/pipelines' };
  const result = await runCli(['serve', '--port', '0'], env, 30_000);
  t.not(result.code, 0);
  const lines = result.stderr.trim().split('\n');
  t.is(lines.length, 1, result.stderr);
  t.regex(lines[0], /CONVEYOR_API_TOKEN is a placeholder.*openssl rand -hex 32/);
});

test('placeholders and low-entropy tokens are refused, read tokens too; random ones are accepted', (t) => {
  for (const weak of [
    'replace-me-with-at-least-16-characters',
    'changeme-changeme-changeme',
    'your-api-token-goes-here-please',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    'abababababababababababababababababab',
    '0123456789abcdef0123456789abcdef',
    'admin-token-0123456789abcdef',
    'Summer2024!Summer2024!',
  ]) {
    t.throws(admin(weak), { message: /^CONVEYOR_API_TOKEN (is a placeholder|is too easy to guess).*; make one with: openssl rand -hex 32$/ }, weak);
  }
  t.throws(() => checkAuthSetup({ adminTokens: [randomBytes(32).toString('hex')], readTokens: ['read-only-placeholder-token'], insecureLocal: false }, '0.0.0.0'), {
    message: /^CONVEYOR_API_READ_TOKENS entry 1 is a placeholder/,
  });
  for (let i = 0; i < 200; i++) {
    t.is(tokenWeakness(randomBytes(32).toString('hex')), undefined, 'openssl rand -hex 32');
    t.is(tokenWeakness(randomBytes(16).toString('hex')), undefined, 'openssl rand -hex 16');
    t.is(tokenWeakness(randomBytes(24).toString('base64url')), undefined, '24 random bytes, base64url');
  }
});

test('the k8s manifests ship no token: the Secret is created out of band, as the comment shows', (t) => {
  const text = readFileSync('deploy/k8s/config.yaml', 'utf8');
  const kinds = parseAllDocuments(text).map((d) => d.toJS()?.kind);
  t.false(kinds.includes('Secret'));
  t.regex(text, /kubectl -n conveyor create secret generic conveyor-api --from-literal=CONVEYOR_API_TOKEN="\$\(openssl rand -hex 32\)"/);
});
