import test from 'ava';
import { isSecretKey, redactSecrets } from '../../src/api/redact.ts';

test('secret keys are recognised by word, not substring', (t) => {
  for (const key of ['password', 'db_password', 'dbPassword', 'api_key', 'apiKey', 'X-Auth-Token', 'access_token', 'client_secret', 'privateKey', 'credentials']) {
    t.true(isSecretKey(key), key);
  }
  for (const key of ['max_tokens', 'tokenizer', 'author', 'passes', 'keyword', 'n']) t.false(isSecretKey(key), key);
});

test('redactSecrets masks nested values, inline pairs, URL passwords and known values; leaves the rest', (t) => {
  const input = {
    n: 3,
    api_key: 'sk-1',
    nested: [{ password: 'p', user: 'u' }],
    credentials: { user: 'bob', pass: 'x' },
    url: 'redis://app:s3cr3t@cache:6379/0',
    msg: 'login with token=abc123 and "password": "pw"',
    note: 'uses the value HUNTER-22 somewhere',
    max_tokens: 128,
  };
  const out = redactSecrets(input, ['HUNTER-22']);
  t.deepEqual(out, {
    n: 3,
    api_key: '***',
    nested: [{ password: '***', user: 'u' }],
    credentials: { user: '***', pass: '***' },
    url: 'redis://app:***@cache:6379/0',
    msg: 'login with token=*** and "password": "***"',
    note: 'uses the value *** somewhere',
    max_tokens: 128,
  });
  t.is(input.api_key, 'sk-1', 'the input is not modified');
});
