// TLS to Vault with the standard client variables (docs/vault-and-aws.md): a test CA made with
// openssl, trusted through VAULT_CACERT or VAULT_CAPATH, or bypassed with VAULT_SKIP_VERIFY.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../src/logging/logger';
import { loadVaultConfig } from '../../src/vault/load-vault-config';
import { VaultClient } from '../../src/vault/vault-client';
import { vaultConfigFromEnv, type VaultConfig } from '../../src/vault/vault-config';
import { VaultError } from '../../src/vault/vault-error';
import { VaultDouble } from '../doubles/vault';
import { recordingClock, tempDir } from './vault-test-kit';

const TOKEN = 'hvs.tls-test-token';
let vault: VaultDouble;

before(async () => {
  vault = await VaultDouble.start({ tls: true });
  vault.addToken(TOKEN);
  vault.putKv1('secret/db', { value: 'tls-served-secret' });
});
after(() => vault.close());

async function configFrom(env: Record<string, string>): Promise<VaultConfig> {
  return loadVaultConfig(vaultConfigFromEnv({ VAULT_ADDR: vault.addr, VAULT_TOKEN: TOKEN, VAULT_CLIENT_TIMEOUT: '5', ...env }));
}

test('the double serves https', () => {
  assert.match(vault.addr, /^https:\/\/127\.0\.0\.1:\d+$/);
});

test('VAULT_CACERT with the test CA: the certificate verifies', async () => {
  const client = new VaultClient(await configFrom({ VAULT_CACERT: vault.caFile }), { logger: memoryLogger() });
  assert.deepEqual(await client.read('secret/db'), { value: 'tls-served-secret' });
});

test('VAULT_CAPATH with a directory holding the test CA: the certificate verifies', async (t) => {
  const dir = await tempDir(t);
  await copyFile(vault.caFile, join(dir, 'vault-ca.pem'));
  const client = new VaultClient(await configFrom({ VAULT_CAPATH: dir }), { logger: memoryLogger() });
  assert.deepEqual(await client.read('secret/db'), { value: 'tls-served-secret' });
});

test('without the CA: E_VAULT_TLS with a hint, not retried, no request reaches Vault', async () => {
  const before = vault.calls.length;
  const clock = recordingClock();
  const client = new VaultClient(await configFrom({}), { logger: memoryLogger(), clock });
  await assert.rejects(client.read('secret/db'), (err: unknown) => {
    assert.ok(err instanceof VaultError);
    assert.equal(err.code, 'E_VAULT_TLS');
    assert.match(err.message, /^reading secret\/db: TLS with Vault at https:\/\/127\.0\.0\.1:\d+ failed: [A-Z_]+ \(trust its CA with VAULT_CACERT or VAULT_CAPATH\)$/);
    assert.equal(err.path, 'secret/db');
    return true;
  });
  assert.deepEqual(clock.sleeps, []);
  assert.equal(vault.calls.length, before);
});

test('VAULT_SKIP_VERIFY=true: works without the CA', async () => {
  const client = new VaultClient(await configFrom({ VAULT_SKIP_VERIFY: 'true' }), { logger: memoryLogger() });
  assert.deepEqual(await client.read('secret/db'), { value: 'tls-served-secret' });
});

test('VAULT_TLS_SERVER_NAME is checked against the certificate', async () => {
  const ok = new VaultClient(await configFrom({ VAULT_CACERT: vault.caFile, VAULT_TLS_SERVER_NAME: 'localhost' }), { logger: memoryLogger() });
  assert.deepEqual(await ok.read('secret/db'), { value: 'tls-served-secret' });
  const wrong = new VaultClient(await configFrom({ VAULT_CACERT: vault.caFile, VAULT_TLS_SERVER_NAME: 'vault.elsewhere' }), { logger: memoryLogger() });
  await assert.rejects(wrong.read('secret/db'), (err: unknown) => err instanceof VaultError && err.code === 'E_VAULT_TLS' && /ERR_TLS_CERT_ALTNAME_INVALID/.test(err.message));
});

test('userpass login and token lookup go over the same verified TLS', async (t) => {
  vault.addUser('tls-user', 'tls-user-password');
  const file = join(await tempDir(t), 'token');
  const config = await configFrom({ VAULT_CACERT: vault.caFile, VAULT_TOKEN: '', VAULT_USERNAME: 'tls-user', VAULT_PASSWORD: 'tls-user-password', VAULT_TOKEN_FILE: file });
  const first = new VaultClient(config, { logger: memoryLogger() });
  assert.deepEqual(await first.read('secret/db'), { value: 'tls-served-secret' });
  const logins = vault.loginCount;
  const second = new VaultClient(config, { logger: memoryLogger() });
  assert.deepEqual(await second.read('secret/db'), { value: 'tls-served-secret' });
  assert.equal(vault.loginCount, logins, 'the second client re-used the cached token');
});
