// The userpass login as the latest Go original does it (docs/vault-and-aws.md): login with the
// password only, `auth/token/renew` of the new token to TTL + 600 s, a lookup, and a warning when
// Vault granted less. Against the Vault double, which, as real Vault, ignores a ttl in the login
// body and caps renewals at its max TTL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '../../src/logging/logger';
import { RENEW_MARGIN_SEC, userpassLogin } from '../../src/vault/vault-auth';
import { VaultError } from '../../src/vault/vault-error';
import { VaultHttp } from '../../src/vault/vault-http';
import { VaultDouble, type VaultDoubleOptions } from '../doubles/vault';
import { configFor, recordingClock } from './vault-test-kit';

const PASSWORD = 'the-userpass-password';

async function startVault(t: { after(fn: () => unknown): void }, options: VaultDoubleOptions = {}): Promise<VaultDouble> {
  const vault = await VaultDouble.start(options);
  t.after(() => vault.close());
  vault.addUser('executor', PASSWORD);
  return vault;
}

function login(vault: VaultDouble, ttlSec: number) {
  const logger = memoryLogger();
  const http = new VaultHttp(configFor(vault.addr, { maxRetries: 0 }), { logger, clock: recordingClock() });
  return { logger, result: userpassLogin(http, 'executor', PASSWORD, ttlSec, 'test') };
}

const warnings = (lines: string[]): string[] => lines.filter((l) => l.includes('level=warning'));

test('login with the password only, then renew the new token to TTL + 600 s and look it up', async (t) => {
  const vault = await startVault(t);
  const { logger, result } = login(vault, 7200);
  const { token, ttlSec } = await result;
  assert.equal(RENEW_MARGIN_SEC, 600);
  assert.deepEqual(vault.calls.map((c) => [c.method, c.path, c.status]), [
    ['POST', 'auth/userpass/login/executor', 200], ['POST', 'auth/token/renew', 200], ['GET', 'auth/token/lookup-self', 200],
  ]);
  assert.deepEqual(vault.calls[0].body, { password: PASSWORD });
  assert.equal(vault.calls[0].token, undefined);
  assert.deepEqual(vault.calls[1].body, { token, increment: 7800 });
  assert.equal(vault.calls[1].token, token, 'renewed with the new token itself');
  assert.equal(vault.calls[2].token, token);
  assert.equal(vault.tokenTtl(token), 7800);
  assert.ok(ttlSec !== undefined && ttlSec >= 7799 && ttlSec <= 7800, String(ttlSec));
  assert.deepEqual(warnings(logger.lines), []);
  assert.ok(logger.lines.some((l) => /msg="Renewed the new Vault token" purpose=test ttl=(7800|7799)s/.test(l)));
  logger.info(`token ${token}`);
  assert.match(logger.lines.at(-1) ?? '', /token \[REDACTED\]/, 'the token is registered for redaction');
  assert.ok(logger.lines.every((l) => !l.includes(token) && !l.includes(PASSWORD)));
});

test('as real Vault, the double ignores a ttl in the login body (with a warning) and gives the user\'s token_ttl', async (t) => {
  const vault = await startVault(t, { tokenTtlSec: 1800 });
  const res = await fetch(`${vault.addr}/v1/auth/userpass/login/executor`, { method: 'POST', body: JSON.stringify({ password: PASSWORD, ttl: '99s' }) });
  const body = await res.json() as { auth: { lease_duration: number; client_token: string }; warnings: string[] };
  assert.equal(body.auth.lease_duration, 1800);
  assert.equal(vault.tokenTtl(body.auth.client_token), 1800);
  assert.deepEqual(body.warnings, ['Endpoint ignored these unrecognized parameters: [ttl]']);
});

test('Vault granting less than asked (its max TTL) is a warning naming both; the token is still used', async (t) => {
  const vault = await startVault(t, { tokenMaxTtlSec: 3600 });
  const { logger, result } = login(vault, 86_400);
  const { token, ttlSec } = await result;
  assert.ok(vault.tokens.includes(token));
  assert.ok(ttlSec !== undefined && ttlSec <= 3600 && ttlSec >= 3590);
  assert.deepEqual(vault.calls[1].body?.increment, 87_000);
  const [warning, ...others] = warnings(logger.lines);
  assert.deepEqual(others, []);
  assert.match(warning, /msg="Vault granted the new token a shorter TTL than asked" purpose=test asked=87000s granted=3[56]\d\ds/);
});

test('a renewal Vault refuses (no ACL on auth/token/renew) is a warning; the token keeps its login TTL', async (t) => {
  const vault = await startVault(t, { tokenTtlSec: 3600 });
  vault.forbid('auth/token/renew');
  const { logger, result } = login(vault, 7200);
  const { token, ttlSec } = await result;
  assert.ok(vault.tokens.includes(token));
  assert.ok(ttlSec !== undefined && ttlSec <= 3600);
  const lines = warnings(logger.lines);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0], /msg="Vault did not renew the new token; it keeps the TTL of its login" purpose=test error="renewing the new Vault token: Vault refused \(HTTP 403: permission denied\)/);
  assert.match(lines[1], /shorter TTL than asked.*asked=7800s granted=3[56]\d\ds/);
});

test('a lookup Vault refuses is a warning, the TTL unknown', async (t) => {
  const vault = await startVault(t);
  vault.forbid('auth/token/lookup-self');
  const { logger, result } = login(vault, 7200);
  const { ttlSec } = await result;
  assert.equal(ttlSec, undefined);
  assert.deepEqual(warnings(logger.lines).map((l) => /msg="([^"]+)"/.exec(l)?.[1]), ['Could not look up the TTL Vault granted the new token']);
});

test('a refused login is E_VAULT_AUTH, and nothing is renewed', async (t) => {
  const vault = await startVault(t);
  const logger = memoryLogger();
  const http = new VaultHttp(configFor(vault.addr, { maxRetries: 0 }), { logger });
  await assert.rejects(userpassLogin(http, 'executor', 'a-wrong-password', 7200, 'test'), (err: unknown) => {
    assert.ok(err instanceof VaultError);
    assert.equal(err.code, 'E_VAULT_AUTH');
    assert.match(err.message, /^userpass login: Vault refused \(HTTP 400: invalid username or password\)/);
    return true;
  });
  assert.deepEqual(vault.calls.map((c) => c.path), ['auth/userpass/login/executor']);
});
