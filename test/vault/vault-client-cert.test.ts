// Client certificates (VAULT_CLIENT_CERT, VAULT_CLIENT_KEY; docs/vault-and-aws.md) against a TLS
// Vault double that requires one signed by its test CA, as a listener with
// tls_require_and_verify_client_cert does. Certificates are made with openssl (vault-tls.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../src/logging/logger';
import { loadVaultConfig } from '../../src/vault/load-vault-config';
import { VaultClient } from '../../src/vault/vault-client';
import { vaultConfigFromEnv, type VaultConfig } from '../../src/vault/vault-config';
import { VaultError } from '../../src/vault/vault-error';
import { VaultDouble } from '../doubles/vault';
import { tempDir } from './vault-test-kit';

const TOKEN = 'hvs.client-cert-test-token';
let vault: VaultDouble;

before(async () => {
  vault = await VaultDouble.start({ tls: true, requireClientCert: true });
  vault.addToken(TOKEN);
  vault.putKv1('secret/db', { value: 'served-to-certified-clients' });
  vault.addUser('cert-user', 'cert-user-password');
});
after(() => vault.close());

async function configFrom(env: Record<string, string>): Promise<VaultConfig> {
  return loadVaultConfig(vaultConfigFromEnv({ VAULT_ADDR: vault.addr, VAULT_TOKEN: TOKEN, VAULT_CACERT: vault.caFile, VAULT_CLIENT_TIMEOUT: '5', VAULT_MAX_RETRIES: '0', ...env }));
}

test('with VAULT_CLIENT_CERT and VAULT_CLIENT_KEY from the CA: secrets are read', async () => {
  const config = await configFrom({ VAULT_CLIENT_CERT: vault.certs.clientCertFile, VAULT_CLIENT_KEY: vault.certs.clientKeyFile });
  assert.match(config.clientCert ?? '', /BEGIN CERTIFICATE/);
  assert.match(config.clientKey ?? '', /PRIVATE KEY/);
  const client = new VaultClient(config, { logger: memoryLogger() });
  assert.deepEqual(await client.read('secret/db'), { value: 'served-to-certified-clients' });
});

test('the userpass login, renewal and lookup present the client certificate too', async () => {
  const before = vault.calls.length;
  const config = await configFrom({
    VAULT_TOKEN: '', VAULT_USERNAME: 'cert-user', VAULT_PASSWORD: 'cert-user-password',
    VAULT_CLIENT_CERT: vault.certs.clientCertFile, VAULT_CLIENT_KEY: vault.certs.clientKeyFile,
  });
  const client = new VaultClient(config, { logger: memoryLogger() });
  assert.deepEqual(await client.read('secret/db'), { value: 'served-to-certified-clients' });
  assert.deepEqual(vault.calls.slice(before).map((c) => `${c.path} ${c.status}`), [
    'auth/userpass/login/cert-user 200', 'auth/token/renew 200', 'auth/token/lookup-self 200', 'secret/db 200',
  ]);
});

test('without a client certificate: E_VAULT_TLS saying Vault may require one, no request reaches Vault', async () => {
  const before = vault.calls.length;
  const client = new VaultClient(await configFrom({}), { logger: memoryLogger() });
  await assert.rejects(client.read('secret/db'), (err: unknown) => {
    assert.ok(err instanceof VaultError);
    assert.equal(err.code, 'E_VAULT_TLS');
    assert.match(err.message, /^reading secret\/db: TLS with Vault at https:\/\/127\.0\.0\.1:\d+ failed: \S+ \(Vault may require a client certificate: set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY\)$/);
    return true;
  });
  assert.equal(vault.calls.length, before);
});

test('a client certificate the CA did not sign is refused before any request', async () => {
  const before = vault.calls.length;
  const client = new VaultClient(await configFrom({ VAULT_CLIENT_CERT: vault.certs.strangerCertFile, VAULT_CLIENT_KEY: vault.certs.strangerKeyFile }), { logger: memoryLogger() });
  // A node server closes the connection (ECONNRESET); Vault's Go listener sends a TLS alert.
  await assert.rejects(client.read('secret/db'), (err: unknown) => err instanceof VaultError && /^E_VAULT_(TLS|UNREACHABLE)$/.test(err.code));
  assert.equal(vault.calls.length, before);
});

test('unusable certificate files are E_VAULT_CONFIG naming the variable, never quoting the key', async (t) => {
  const dir = await tempDir(t);
  const notKey = join(dir, 'not-a-key.pem');
  await writeFile(notKey, 'secret-looking-junk-that-must-not-be-quoted');
  const { clientCertFile, clientKeyFile, strangerKeyFile } = vault.certs;
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ VAULT_CLIENT_CERT: join(dir, 'missing.pem'), VAULT_CLIENT_KEY: clientKeyFile }, /^VAULT_CLIENT_CERT: cannot read .*missing\.pem: ENOENT$/],
    [{ VAULT_CLIENT_CERT: clientKeyFile, VAULT_CLIENT_KEY: clientKeyFile }, /^VAULT_CLIENT_CERT: .*client\.key holds no PEM certificate$/],
    [{ VAULT_CLIENT_CERT: clientCertFile, VAULT_CLIENT_KEY: join(dir, 'missing.key') }, /^VAULT_CLIENT_KEY: cannot read .*missing\.key: ENOENT$/],
    [{ VAULT_CLIENT_CERT: clientCertFile, VAULT_CLIENT_KEY: notKey }, /^VAULT_CLIENT_KEY: .*not-a-key\.pem holds no unencrypted PEM private key$/],
    [{ VAULT_CLIENT_CERT: clientCertFile, VAULT_CLIENT_KEY: strangerKeyFile }, /^VAULT_CLIENT_CERT and VAULT_CLIENT_KEY \(.*\) cannot be used together: .*key values mismatch/],
  ];
  for (const [env, message] of cases) {
    await assert.rejects(configFrom(env), (err: unknown) => {
      assert.ok(err instanceof VaultError);
      assert.equal(err.code, 'E_VAULT_CONFIG');
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /secret-looking-junk|BEGIN/);
      return true;
    });
  }
});
