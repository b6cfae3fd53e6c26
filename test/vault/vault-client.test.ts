// VaultClient against the Vault double (docs/vault-and-aws.md): auth order, token cache, KV v1/v2
// reads, retries bounded by VAULT_MAX_RETRIES, namespace header, status errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../src/logging/logger';
import { VaultClient } from '../../src/vault/vault-client';
import { VaultError, type VaultErrorCode } from '../../src/vault/vault-error';
import { VaultDouble } from '../doubles/vault';
import { closedPort, configFor, recordingClock, tempDir } from './vault-test-kit';

const TOKEN = 'hvs.root-token-for-tests';

async function startVault(t: { after(fn: () => unknown): void }): Promise<VaultDouble> {
  const vault = await VaultDouble.start();
  t.after(() => vault.close());
  vault.addToken(TOKEN);
  vault.putKv1('secret/db', { value: 'kv1-default-secret', password: 'kv1-password-secret', port: 5432 });
  vault.putKv2('kv', 'app/config', { api_key: 'kv2-api-key-secret', value: 'kv2-default-secret' });
  return vault;
}

function assertVaultError(err: unknown, code: VaultErrorCode, message: RegExp): true {
  assert.ok(err instanceof VaultError, String(err));
  assert.equal(err.code, code, err.message);
  assert.match(err.message, message);
  return true;
}

test('VAULT_TOKEN: KV v1 read with X-Vault-Token and X-Vault-Request, no lookup, no login', async (t) => {
  const vault = await startVault(t);
  const client = new VaultClient(configFor(vault.addr, { token: TOKEN }), { logger: memoryLogger() });
  assert.deepEqual(await client.read('secret/db'), { value: 'kv1-default-secret', password: 'kv1-password-secret', port: 5432 });
  assert.equal(vault.calls.length, 1);
  assert.deepEqual({ ...vault.calls[0], body: undefined }, {
    method: 'GET', path: 'secret/db', status: 200, token: TOKEN, namespace: undefined, vaultRequest: 'true', body: undefined,
  });
  assert.equal(vault.loginCount, 0);
});

test('KV v2: fields come from data.data at <mount>/data/<path>', async (t) => {
  const vault = await startVault(t);
  const client = new VaultClient(configFor(vault.addr, { token: TOKEN }), { logger: memoryLogger() });
  assert.deepEqual(await client.read('kv/data/app/config'), { api_key: 'kv2-api-key-secret', value: 'kv2-default-secret' });
  await assert.rejects(client.read('kv/app/config'), (err) => assertVaultError(err, 'E_VAULT_NOT_FOUND',
    /^reading kv\/app\/config: not found \(HTTP 404\) at http:\/\/127\.0\.0\.1:\d+; the mount is KV v2: use vault:\/\/<mount>\/data\/<path>$/));
});

test('a KV v1 secret under a path with a "data" segment but no KV v2 shape is read as v1', async (t) => {
  const vault = await startVault(t);
  vault.putKv1('secret/data/app', { data: { nested: 'x' }, value: 'plain' });
  const client = new VaultClient(configFor(vault.addr, { token: TOKEN }), { logger: memoryLogger() });
  assert.deepEqual(await client.read('secret/data/app'), { data: { nested: 'x' }, value: 'plain' });
});

test('paths are escaped on the wire and decoded by Vault', async (t) => {
  const vault = await startVault(t);
  vault.putKv1('secret/my app/db#1', { value: 'odd-path-secret' });
  const client = new VaultClient(configFor(vault.addr, { token: TOKEN }), { logger: memoryLogger() });
  assert.deepEqual(await client.read('secret/my app/db#1'), { value: 'odd-path-secret' });
});

test('status errors: 404 missing path, 403 bad token, 403 forbidden path; never retried', async (t) => {
  const vault = await startVault(t);
  vault.forbid('secret/db');
  const clock = recordingClock();
  const good = new VaultClient(configFor(vault.addr, { token: TOKEN }), { logger: memoryLogger(), clock });
  await assert.rejects(good.read('secret/nope'), (err) => assertVaultError(err, 'E_VAULT_NOT_FOUND', /^reading secret\/nope: not found \(HTTP 404\) at http:/));
  await assert.rejects(good.read('secret/db'), (err) => assertVaultError(err, 'E_VAULT_FORBIDDEN', /^reading secret\/db: permission denied \(HTTP 403\) at http:/));
  const bad = new VaultClient(configFor(vault.addr, { token: 'hvs.not-a-known-token' }), { logger: memoryLogger(), clock });
  await assert.rejects(bad.read('secret/db'), (err) => {
    assertVaultError(err, 'E_VAULT_FORBIDDEN', /permission denied/);
    assert.equal((err as VaultError).path, 'secret/db');
    assert.equal((err as VaultError).status, 403);
    assert.ok(!(err as VaultError).message.includes('hvs.not-a-known-token'));
    return true;
  });
  assert.deepEqual(clock.sleeps, []);
  assert.equal(vault.calls.length, 3);
});

test('token file: a young file with a token lookup-self accepts is reused, no login', async (t) => {
  const vault = await startVault(t);
  const file = join(await tempDir(t), 'token');
  await writeFile(file, `${TOKEN}\n`, { mode: 0o600 });
  const logger = memoryLogger();
  const client = new VaultClient(configFor(vault.addr, { tokenFile: file, username: 'executor', password: 'pw-never-used' }), { logger });
  assert.equal((await client.read('secret/db')).value, 'kv1-default-secret');
  assert.equal((await client.read('kv/data/app/config')).api_key, 'kv2-api-key-secret');
  assert.deepEqual(vault.calls.map((c) => [c.method, c.path, c.token === TOKEN]), [
    ['GET', 'auth/token/lookup-self', true], ['GET', 'secret/db', true], ['GET', 'kv/data/app/config', true],
  ]);
  assert.equal(vault.loginCount, 0);
  assert.equal(await readFile(file, 'utf8'), `${TOKEN}\n`, 'file left alone');
  assert.ok(logger.lines.some((l) => l.includes('Re-using the Vault token from VAULT_TOKEN_FILE')));
});

test('token file: too old (mtime before now - (VAULT_TTL - 3600)) means a new login, file rewritten 0600', async (t) => {
  const vault = await startVault(t);
  const file = join(await tempDir(t), 'token');
  await writeFile(file, TOKEN, { mode: 0o644 });
  const oldSec = Date.now() / 1000 - (7200 - 3600) - 5;
  await utimes(file, oldSec, oldSec);
  vault.addUser('executor', 'the-userpass-password');
  const client = new VaultClient(configFor(vault.addr, { tokenFile: file, username: 'executor', password: 'the-userpass-password', ttlSec: 7200 }), { logger: memoryLogger() });
  assert.equal((await client.read('secret/db')).value, 'kv1-default-secret');
  assert.equal(vault.loginCount, 1);
  assert.equal(vault.callsTo('auth/token/lookup-self').filter((c) => c.token === TOKEN).length, 0, 'an old token is not even checked');
  const written = await readFile(file, 'utf8');
  assert.notEqual(written, TOKEN);
  assert.ok(vault.tokens.includes(written), 'the file holds the bare new token');
  const info = await stat(file);
  assert.equal(info.mode & 0o777, 0o600);
  assert.ok(Date.now() - info.mtimeMs < 10_000);
  assert.equal(vault.callsTo('secret/db')[0].token, written);
});

test('token file: just younger than VAULT_TTL - 3600 is still used', async (t) => {
  const vault = await startVault(t);
  const file = join(await tempDir(t), 'token');
  await writeFile(file, TOKEN);
  const youngSec = Date.now() / 1000 - (7200 - 3600) + 30;
  await utimes(file, youngSec, youngSec);
  const client = new VaultClient(configFor(vault.addr, { tokenFile: file, ttlSec: 7200 }), { logger: memoryLogger() });
  assert.equal((await client.read('secret/db')).value, 'kv1-default-secret');
  assert.equal(vault.loginCount, 0);
});

test('token file: a young file whose token Vault rejects (403 on lookup-self) leads to a login', async (t) => {
  const vault = await startVault(t);
  const file = join(await tempDir(t), 'token');
  await writeFile(file, 'hvs.revoked-token-value');
  vault.addUser('executor', 'the-userpass-password');
  const logger = memoryLogger();
  const client = new VaultClient(configFor(vault.addr, { tokenFile: file, username: 'executor', password: 'the-userpass-password' }), { logger });
  assert.equal((await client.read('secret/db')).value, 'kv1-default-secret');
  assert.deepEqual(vault.calls.map((c) => [c.path, c.status]), [
    ['auth/token/lookup-self', 403], ['auth/userpass/login/executor', 200],
    ['auth/token/renew', 200], ['auth/token/lookup-self', 200], ['secret/db', 200],
  ]);
  assert.equal(vault.loginCount, 1);
  assert.ok(vault.tokens.includes(await readFile(file, 'utf8')));
  assert.ok(logger.lines.some((l) => l.includes('The cached Vault token was rejected')));
});

test('token file: Vault failing lookup-self with 5xx is an error, not a login (no token minted)', async (t) => {
  const vault = await startVault(t);
  const file = join(await tempDir(t), 'token');
  await writeFile(file, TOKEN);
  vault.addUser('executor', 'the-userpass-password');
  vault.failNext(3);
  const client = new VaultClient(configFor(vault.addr, { tokenFile: file, username: 'executor', password: 'the-userpass-password' }), { logger: memoryLogger(), clock: recordingClock() });
  await assert.rejects(client.read('secret/db'), (err) => assertVaultError(err, 'E_VAULT_STATUS', /^checking the cached token: Vault refused \(HTTP 503: Vault is sealed\)/));
  assert.equal(vault.loginCount, 0);
});

test('userpass login: POST with the password only (Vault ignores a ttl there); username escaped; one login per client', async (t) => {
  const vault = await startVault(t);
  vault.addUser('svc executor', 'the-userpass-password');
  const client = new VaultClient(configFor(vault.addr, { username: 'svc executor', password: 'the-userpass-password', ttlSec: 43_200 }), { logger: memoryLogger() });
  await client.read('secret/db');
  await client.read('kv/data/app/config');
  await Promise.all([client.read('secret/db'), client.read('secret/db')]);
  const logins = vault.calls.filter((c) => c.path.startsWith('auth/userpass/login/'));
  assert.equal(logins.length, 1);
  assert.equal(logins[0].method, 'POST');
  assert.equal(logins[0].path, 'auth/userpass/login/svc executor');
  assert.equal(logins[0].token, undefined, 'a login carries no token');
  assert.deepEqual(logins[0].body, { password: 'the-userpass-password' });
  const issued = vault.callsTo('secret/db')[0].token ?? '';
  assert.equal(vault.tokenTtl(issued), 43_200 + 600, 'renewed to VAULT_TTL + 10 min');
});

test('userpass login without VAULT_TOKEN_FILE writes no file; a failed cache write only warns', async (t) => {
  const vault = await startVault(t);
  vault.addUser('executor', 'the-userpass-password');
  const dir = await tempDir(t);
  const logger = memoryLogger();
  const client = new VaultClient(configFor(vault.addr, {
    tokenFile: join(dir, 'missing-dir', 'token'), username: 'executor', password: 'the-userpass-password',
  }), { logger });
  assert.equal((await client.read('secret/db')).value, 'kv1-default-secret');
  assert.ok(logger.lines.some((l) => l.includes('Could not cache the Vault token') && l.includes('error=ENOENT')));
});

test('a refused login is E_VAULT_AUTH without the username or password; a later read tries again', async (t) => {
  const vault = await startVault(t);
  vault.addUser('executor', 'the-right-password');
  const client = new VaultClient(configFor(vault.addr, { username: 'executor', password: 'a-wrong-password' }), { logger: memoryLogger() });
  await assert.rejects(client.read('secret/db'), (err) => {
    assertVaultError(err, 'E_VAULT_AUTH', /^userpass login: Vault refused \(HTTP 400: invalid username or password\) at http:/);
    assert.ok(!(err as Error).message.includes('a-wrong-password'));
    assert.ok(!(err as Error).message.includes('executor'));
    assert.equal((err as Error).cause, undefined, 'no HttpError (its URL names the user) rides along');
    return true;
  });
  await assert.rejects(client.read('secret/db'), VaultError);
  assert.equal(vault.callsTo('auth/userpass/login/executor').length, 2);
});

test('no credentials at all: E_VAULT_AUTH naming the variables to set', async (t) => {
  const vault = await startVault(t);
  const file = join(await tempDir(t), 'token');
  const client = new VaultClient(configFor(vault.addr, { tokenFile: file, username: 'executor' }), { logger: memoryLogger() });
  await assert.rejects(client.read('secret/db'), (err) => assertVaultError(err, 'E_VAULT_AUTH',
    /^no Vault credentials: VAULT_TOKEN is not set, no usable token in VAULT_TOKEN_FILE \(no cached token yet\), and VAULT_USERNAME and VAULT_PASSWORD are not both set$/));
  assert.equal(vault.calls.length, 0);
});

test('retries: 503s are retried with linear jittered backoff, up to VAULT_MAX_RETRIES', async (t) => {
  const vault = await startVault(t);
  const clock = recordingClock();
  const logger = memoryLogger();
  const client = new VaultClient(configFor(vault.addr, { token: TOKEN, maxRetries: 2, retryWaitMinMs: 1000, retryWaitMaxMs: 1500 }), { logger, clock, random: () => 0.5 });
  vault.failNext(2);
  assert.equal((await client.read('secret/db')).value, 'kv1-default-secret');
  assert.deepEqual(vault.calls.map((c) => c.status), [503, 503, 200]);
  assert.deepEqual(clock.sleeps, [1250, 2500]);
  assert.equal(logger.lines.filter((l) => l.includes('Vault request failed, retrying')).length, 2);

  vault.calls.length = 0;
  vault.failNext(3);
  await assert.rejects(client.read('secret/db'), (err) => {
    assertVaultError(err, 'E_VAULT_STATUS', /^reading secret\/db: Vault refused \(HTTP 503: Vault is sealed\) at http:/);
    assert.equal((err as VaultError).status, 503);
    return true;
  });
  assert.equal(vault.calls.length, 3, '1 + VAULT_MAX_RETRIES attempts');
});

test('retries: VAULT_MAX_RETRIES=0 means one attempt; 412/429/500 retried; 501 and 4xx not', async (t) => {
  const vault = await startVault(t);
  const clock = recordingClock();
  const once = new VaultClient(configFor(vault.addr, { token: TOKEN, maxRetries: 0 }), { logger: memoryLogger(), clock });
  vault.failNext(1);
  await assert.rejects(once.read('secret/db'), (err) => assertVaultError(err, 'E_VAULT_STATUS', /HTTP 503/));
  assert.equal(vault.calls.length, 1);
  assert.deepEqual(clock.sleeps, []);

  const client = new VaultClient(configFor(vault.addr, { token: TOKEN, maxRetries: 1 }), { logger: memoryLogger(), clock });
  for (const status of [412, 429, 500, 502]) {
    vault.calls.length = 0;
    vault.failNext(1, status);
    assert.equal((await client.read('secret/db')).value, 'kv1-default-secret', String(status));
    assert.equal(vault.calls.length, 2, String(status));
  }
  for (const status of [501, 400, 405]) {
    vault.calls.length = 0;
    vault.failNext(1, status);
    await assert.rejects(client.read('secret/db'), (err) => assertVaultError(err, 'E_VAULT_STATUS', new RegExp(`HTTP ${status}`)));
    assert.equal(vault.calls.length, 1, String(status));
  }
});

test('unreachable Vault: connection refused retried, then E_VAULT_UNREACHABLE naming the path and address', async () => {
  const port = await closedPort();
  const clock = recordingClock();
  const client = new VaultClient(configFor(`http://127.0.0.1:${port}`, { token: TOKEN, maxRetries: 3 }), { logger: memoryLogger(), clock });
  await assert.rejects(client.read('secret/db'), (err) => assertVaultError(err, 'E_VAULT_UNREACHABLE',
    new RegExp(`^reading secret/db: Vault at http://127\\.0\\.0\\.1:${port} unreachable after 4 attempt\\(s\\): ECONNREFUSED$`)));
  assert.equal(clock.sleeps.length, 3);
});

test('VAULT_NAMESPACE is sent as X-Vault-Namespace on every request, login included', async (t) => {
  const vault = await startVault(t);
  vault.putKv1('team-a/secret/db', { value: 'namespaced-secret' });
  vault.addUser('executor', 'the-userpass-password');
  const client = new VaultClient(configFor(vault.addr, { namespace: 'team-a', username: 'executor', password: 'the-userpass-password' }), { logger: memoryLogger() });
  assert.deepEqual(await client.read('secret/db'), { value: 'namespaced-secret' });
  assert.deepEqual(vault.calls.map((c) => [c.path, c.namespace]), [
    ['auth/userpass/login/executor', 'team-a'], ['auth/token/renew', 'team-a'], ['auth/token/lookup-self', 'team-a'], ['secret/db', 'team-a'],
  ]);
});

test('a trailing / on VAULT_ADDR does not double the / before v1', async (t) => {
  const vault = await startVault(t);
  const client = new VaultClient(configFor(`${vault.addr}/`, { token: TOKEN }), { logger: memoryLogger() });
  assert.equal((await client.read('secret/db')).value, 'kv1-default-secret');
  assert.equal(client.label, vault.addr);
});
