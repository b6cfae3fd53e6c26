// resolveVaultEnv (docs/vault-and-aws.md): replacement, laziness, and failures that name the
// variable and the path but never a secret; first with an in-process fake client, then against
// the Vault double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../src/logging/logger';
import { resolveVaultEnv } from '../../src/vault/resolve-vault-env';
import { VaultClient, type VaultClientLike, type VaultSecretData } from '../../src/vault/vault-client';
import { VaultError, type VaultErrorCode } from '../../src/vault/vault-error';
import { VaultDouble } from '../doubles/vault';
import { closedPort, configFor, recordingClock, tempDir } from './vault-test-kit';

/** A fake with named knobs: the secrets it holds, what it throws, and what it was asked. */
class FakeVault implements VaultClientLike {
  readonly reads: string[] = [];
  constructor(readonly secrets: Record<string, VaultSecretData>, readonly failWith?: Error) {}
  async read(path: string): Promise<VaultSecretData> {
    this.reads.push(path);
    if (this.failWith) throw this.failWith;
    const secret = this.secrets[path];
    if (!secret) throw new VaultError('E_VAULT_NOT_FOUND', `reading ${path}: not found (HTTP 404) at fake`, { path, status: 404 });
    return secret;
  }
}

const SECRETS = {
  'secret/db': { value: 'db-default-value', password: 'db-password-value', port: 5432, nested: { a: 1 }, list: ['x'], nothing: null, empty: '' },
  'kv/data/app': { api_key: 'app-api-key-value' },
};

test('values are replaced in place, other entries copied, each path read once', async () => {
  const fake = new FakeVault(SECRETS);
  const env = ['A=1', 'DB=vault://secret/db', 'BARE', 'PW=vault://secret/db?key=password', 'KEY=vault://kv/data/app?key=api_key', 'E=vault://secret/db?key=empty'];
  const out = await resolveVaultEnv(env, fake, memoryLogger());
  assert.deepEqual(out, ['A=1', 'DB=db-default-value', 'BARE', 'PW=db-password-value', 'KEY=app-api-key-value', 'E=']);
  assert.deepEqual(fake.reads, ['secret/db', 'kv/data/app']);
  assert.notEqual(out, env);
  assert.equal(env[1], 'DB=vault://secret/db', 'the input is not modified');
});

test('nothing to resolve: the factory is never called and a copy comes back', async () => {
  let built = 0;
  const env = ['A=1', 'B=http://x'];
  const out = await resolveVaultEnv(env, () => { built++; return new FakeVault({}); }, memoryLogger());
  assert.deepEqual(out, env);
  assert.notEqual(out, env);
  assert.equal(built, 0);
});

test('the factory (sync or async) is called once, only when a value needs Vault', async () => {
  let built = 0;
  const fake = new FakeVault(SECRETS);
  await resolveVaultEnv(['A=vault://secret/db', 'B=vault://kv/data/app?key=api_key'], async () => { built++; return fake; }, memoryLogger());
  assert.equal(built, 1);
});

test('a malformed reference fails before Vault is contacted', async () => {
  let built = 0;
  await assert.rejects(resolveVaultEnv(['OK=vault://secret/db', 'BAD=vault://secret//x'], () => { built++; return new FakeVault(SECRETS); }, memoryLogger()),
    (err: unknown) => err instanceof VaultError && err.code === 'E_VAULT_BAD_REF' && err.variable === 'BAD');
  assert.equal(built, 0);
});

async function assertFails(env: string[], client: VaultClientLike | (() => VaultClientLike), code: VaultErrorCode, message: RegExp, secrets: string[] = []): Promise<void> {
  await assert.rejects(resolveVaultEnv(env, client, memoryLogger()), (err: unknown) => {
    assert.ok(err instanceof VaultError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    for (const secret of secrets) assert.ok(!err.message.includes(secret), `message leaks ${secret}: ${err.message}`);
    return true;
  });
}

test('missing key and non-string values fail naming variable, path and key, never the value', async () => {
  const fake = new FakeVault(SECRETS);
  const all = ['db-default-value', 'db-password-value', '5432'];
  await assertFails(['X=vault://secret/db?key=user'], fake, 'E_VAULT_MISSING_KEY', /^X: Vault secret secret\/db has no key "user"$/, all);
  await assertFails(['X=vault://secret/db?key=port'], fake, 'E_VAULT_NOT_STRING', /^X: key "port" of Vault secret secret\/db is a number, not a string$/, all);
  await assertFails(['X=vault://secret/db?key=nested'], fake, 'E_VAULT_NOT_STRING', /is an object, not a string$/, all);
  await assertFails(['X=vault://secret/db?key=list'], fake, 'E_VAULT_NOT_STRING', /is a list, not a string$/, all);
  await assertFails(['X=vault://secret/db?key=nothing'], fake, 'E_VAULT_NOT_STRING', /is null, not a string$/, all);
});

test('client errors get the variable in front, and the path when they lack it', async () => {
  await assertFails(['DB=vault://secret/nope'], new FakeVault({}), 'E_VAULT_NOT_FOUND', /^DB: reading secret\/nope: not found \(HTTP 404\) at fake$/);
  const auth = new VaultError('E_VAULT_AUTH', 'userpass login: Vault refused (HTTP 400: invalid username or password) at fake');
  await assertFails(['DB=vault://secret/db'], new FakeVault({}, auth), 'E_VAULT_AUTH', /^DB: reading secret\/db: userpass login: Vault refused/);
  await assertFails(['DB=vault://secret/db'], new FakeVault({}, new Error('boom')), 'E_VAULT_UNEXPECTED', /^DB: reading secret\/db: boom$/);
  const config = new VaultError('E_VAULT_CONFIG', 'VAULT_TTL="x" is not valid: expected a whole number of at least 1');
  await assertFails(['DB=vault://secret/db'], () => { throw config; }, 'E_VAULT_CONFIG', /^DB: reading secret\/db: VAULT_TTL="x" is not valid/);
});

test('unknown query parameters are resolved anyway, with a warning', async () => {
  const logger = memoryLogger();
  assert.deepEqual(await resolveVaultEnv(['X=vault://secret/db?version=2'], new FakeVault(SECRETS), logger), ['X=db-default-value']);
  assert.ok(logger.lines.some((l) => l.includes('level=warning') && l.includes('ignored=version')));
});

test('each value is registered for redaction as soon as it is read', async () => {
  const logger = memoryLogger();
  await resolveVaultEnv(['PW=vault://secret/db?key=password'], new FakeVault(SECRETS), logger);
  logger.info('oops, something printed db-password-value');
  assert.ok(logger.lines.at(-1)?.includes('oops, something printed [REDACTED]'));
});

// End to end against the double: every failure case names the variable and the path, never a secret.
const TOKEN = 'hvs.e2e-token-value';
const PASSWORD = 'e2e-userpass-password';

test('end to end: each failure names the variable and the path and carries no secret', async (t) => {
  const vault = await VaultDouble.start();
  t.after(() => vault.close());
  vault.addToken(TOKEN);
  vault.putKv1('secret/db', { value: 'e2e-db-value', port: 5432 });
  vault.forbid('secret/locked');
  const secrets = [TOKEN, PASSWORD, 'e2e-db-value'];
  const client = (): VaultClient => new VaultClient(configFor(vault.addr, { token: TOKEN }), { logger: memoryLogger(), clock: recordingClock() });

  await assertFails(['DB=vault://secret/missing'], client(), 'E_VAULT_NOT_FOUND', /^DB: reading secret\/missing: not found \(HTTP 404\)/, secrets);
  await assertFails(['DB=vault://secret/locked'], client(), 'E_VAULT_FORBIDDEN', /^DB: reading secret\/locked: permission denied \(HTTP 403\)/, secrets);
  await assertFails(['DB=vault://secret/db?key=password'], client(), 'E_VAULT_MISSING_KEY', /^DB: Vault secret secret\/db has no key "password"$/, secrets);
  await assertFails(['DB=vault://secret/db?key=port'], client(), 'E_VAULT_NOT_STRING', /^DB: key "port" of Vault secret secret\/db is a number/, secrets);
  await assertFails(['DB=vault:///secret/db'], client(), 'E_VAULT_BAD_REF', /^DB: malformed Vault reference "vault:\/\/\/secret\/db"/, secrets);
  const badToken = new VaultClient(configFor(vault.addr, { token: 'hvs.bad-token-value' }), { logger: memoryLogger() });
  await assertFails(['DB=vault://secret/db'], badToken, 'E_VAULT_FORBIDDEN', /^DB: reading secret\/db: permission denied/, ['hvs.bad-token-value']);
  const badLogin = new VaultClient(configFor(vault.addr, { username: 'e2e-user', password: PASSWORD }), { logger: memoryLogger() });
  await assertFails(['DB=vault://secret/db'], badLogin, 'E_VAULT_AUTH', /^DB: reading secret\/db: userpass login: Vault refused \(HTTP 400/, [...secrets, 'e2e-user']);

  const port = await closedPort();
  const down = new VaultClient(configFor(`http://127.0.0.1:${port}`, { token: TOKEN }), { logger: memoryLogger(), clock: recordingClock() });
  await assertFails(['DB=vault://secret/db'], down, 'E_VAULT_UNREACHABLE', /^DB: reading secret\/db: Vault at http:\/\/127\.0\.0\.1:\d+ unreachable after 3 attempt\(s\): ECONNREFUSED$/, secrets);
});

test('end to end: no Vault request at all when no value references Vault', async (t) => {
  const vault = await VaultDouble.start();
  t.after(() => vault.close());
  vault.addUser('executor', PASSWORD);
  const env = ['A=1', 'B=vault:', 'C=secret/db'];
  const out = await resolveVaultEnv(env, () => new VaultClient(configFor(vault.addr, { username: 'executor', password: PASSWORD }), { logger: memoryLogger() }), memoryLogger());
  assert.deepEqual(out, env);
  assert.equal(vault.calls.length, 0);
  assert.equal(vault.loginCount, 0);
});

test('end to end: nothing logged at debug level contains a token, the password or a decrypted value', async (t) => {
  const vault = await VaultDouble.start();
  t.after(() => vault.close());
  vault.addUser('leak-check-user', PASSWORD);
  vault.addToken(TOKEN);
  vault.putKv1('secret/db', { value: 'leak-db-value', password: 'leak-db-password' });
  vault.putKv2('kv', 'app', { api_key: 'leak-kv2-api-key' });
  const logger = memoryLogger(true);
  const file = join(await tempDir(t), 'token');
  const env = ['DB=vault://secret/db', 'PW=vault://secret/db?key=password', 'KEY=vault://kv/data/app?key=api_key'];
  const build = (): VaultClient => new VaultClient(configFor(vault.addr, { tokenFile: file, username: 'leak-check-user', password: PASSWORD }), { logger, clock: recordingClock(), random: () => 0 });

  vault.failNext(2); // retries get logged too
  assert.deepEqual(await resolveVaultEnv(env, build, logger), ['DB=leak-db-value', 'PW=leak-db-password', 'KEY=leak-kv2-api-key']);
  assert.deepEqual(await resolveVaultEnv(env, build, logger), ['DB=leak-db-value', 'PW=leak-db-password', 'KEY=leak-kv2-api-key'], 'second launch, cached token');
  await writeFile(file, TOKEN); // a cached token Vault knows
  await resolveVaultEnv(env, build, logger);
  await writeFile(file, 'hvs.stale-cached-token'); // one it rejects
  await resolveVaultEnv(env, build, logger);
  await resolveVaultEnv(['X=vault://secret/db?key=nope'], build, logger).catch(() => undefined);
  await resolveVaultEnv(['X=vault://secret/missing'], build, logger).catch(() => undefined);

  const issued = vault.tokens.filter((tk) => tk !== TOKEN);
  assert.equal(vault.loginCount, 2, 'one first login, one after the rejected cached token');
  const secrets = [TOKEN, 'hvs.stale-cached-token', PASSWORD, 'leak-db-value', 'leak-db-password', 'leak-kv2-api-key', ...issued];
  const logged = logger.lines.join('');
  assert.ok(logger.lines.length > 10, 'debug, info and warnings were logged');
  assert.ok(logged.includes('level=debug'));
  for (const secret of secrets) assert.ok(!logged.includes(secret), `a log line contains ${secret}`);
  assert.ok(!logged.includes('leak-check-user'), 'the username is not logged either');
});
