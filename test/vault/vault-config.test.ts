// VAULT_* parsing (pure) and CA loading (files), docs/vault-and-aws.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vaultConfigFromEnv, VAULT_DEFAULTS } from '../../src/vault/vault-config';
import { loadVaultConfig } from '../../src/vault/load-vault-config';
import { VaultError } from '../../src/vault/vault-error';

test('defaults are the Go client and executor defaults', () => {
  assert.deepEqual(vaultConfigFromEnv({}), {
    addr: 'https://127.0.0.1:8200', token: undefined, tokenFile: undefined, username: undefined, password: undefined,
    ttlSec: 86_400, maxRetries: 2, caCertFile: undefined, caCertBytes: undefined, caPathDir: undefined,
    clientCertFile: undefined, clientKeyFile: undefined, skipVerify: false, tlsServerName: undefined, namespace: undefined, timeoutMs: 60_000,
    retryWaitMinMs: VAULT_DEFAULTS.retryWaitMinMs, retryWaitMaxMs: VAULT_DEFAULTS.retryWaitMaxMs,
  });
  assert.ok(Object.isFrozen(vaultConfigFromEnv({})));
});

test('every variable is read', () => {
  const config = vaultConfigFromEnv({
    VAULT_ADDR: 'https://vault.example.com:8200', VAULT_TOKEN: 's.tok', VAULT_TOKEN_FILE: '/var/run/vault-token',
    VAULT_USERNAME: 'exec', VAULT_PASSWORD: 'pw', VAULT_TTL: '7200', VAULT_MAX_RETRIES: '5', VAULT_CACERT: '/etc/ca.pem',
    VAULT_CACERT_BYTES: 'pem', VAULT_CAPATH: '/etc/cas', VAULT_SKIP_VERIFY: 'true', VAULT_TLS_SERVER_NAME: 'vault.internal',
    VAULT_NAMESPACE: 'team-a/', VAULT_CLIENT_TIMEOUT: '30', VAULT_CLIENT_CERT: '/etc/vault/client.pem', VAULT_CLIENT_KEY: '/etc/vault/client.key',
  });
  assert.equal(config.addr, 'https://vault.example.com:8200');
  assert.equal(config.token, 's.tok');
  assert.equal(config.tokenFile, '/var/run/vault-token');
  assert.equal(config.username, 'exec');
  assert.equal(config.password, 'pw');
  assert.equal(config.ttlSec, 7200);
  assert.equal(config.maxRetries, 5);
  assert.equal(config.caCertFile, '/etc/ca.pem');
  assert.equal(config.caCertBytes, 'pem');
  assert.equal(config.caPathDir, '/etc/cas');
  assert.equal(config.skipVerify, true);
  assert.equal(config.tlsServerName, 'vault.internal');
  assert.equal(config.namespace, 'team-a/');
  assert.equal(config.timeoutMs, 30_000);
  assert.equal(config.clientCertFile, '/etc/vault/client.pem');
  assert.equal(config.clientKeyFile, '/etc/vault/client.key');
});

test('VAULT_CLIENT_CERT and VAULT_CLIENT_KEY go together, as in the Go client', () => {
  for (const [env, set] of [[{ VAULT_CLIENT_CERT: '/c.pem' }, 'VAULT_CLIENT_CERT'], [{ VAULT_CLIENT_KEY: '/c.key', VAULT_CLIENT_CERT: '' }, 'VAULT_CLIENT_KEY']] as const) {
    assert.throws(() => vaultConfigFromEnv(env), (err: unknown) => {
      assert.ok(err instanceof VaultError);
      assert.equal(err.code, 'E_VAULT_CONFIG');
      assert.equal(err.message, `VAULT_CLIENT_CERT and VAULT_CLIENT_KEY must be set together: only ${set} is set`);
      return true;
    });
  }
});

test('empty variables count as unset, as in the Go client', () => {
  const config = vaultConfigFromEnv({ VAULT_ADDR: '', VAULT_TOKEN: '', VAULT_TTL: '', VAULT_MAX_RETRIES: '', VAULT_SKIP_VERIFY: '' });
  assert.equal(config.addr, VAULT_DEFAULTS.addr);
  assert.equal(config.token, undefined);
  assert.equal(config.ttlSec, 86_400);
  assert.equal(config.maxRetries, 2);
  assert.equal(config.skipVerify, false);
});

test('VAULT_MAX_RETRIES=0 disables retrying; VAULT_AGENT_ADDR wins over VAULT_ADDR; unix:// is accepted', () => {
  assert.equal(vaultConfigFromEnv({ VAULT_MAX_RETRIES: '0' }).maxRetries, 0);
  assert.equal(vaultConfigFromEnv({ VAULT_ADDR: 'http://a:1', VAULT_AGENT_ADDR: 'http://agent:8100' }).addr, 'http://agent:8100');
  assert.equal(vaultConfigFromEnv({ VAULT_ADDR: 'unix:///run/vault.sock' }).addr, 'unix:///run/vault.sock');
});

test('VAULT_SKIP_VERIFY takes Go ParseBool spellings; VAULT_CLIENT_TIMEOUT seconds or Go durations, 0 = default', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(vaultConfigFromEnv({ VAULT_SKIP_VERIFY: t }).skipVerify, true, t);
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(vaultConfigFromEnv({ VAULT_SKIP_VERIFY: f }).skipVerify, false, f);
  assert.equal(vaultConfigFromEnv({ VAULT_CLIENT_TIMEOUT: '1m30s' }).timeoutMs, 90_000);
  assert.equal(vaultConfigFromEnv({ VAULT_CLIENT_TIMEOUT: '500ms' }).timeoutMs, 500);
  assert.equal(vaultConfigFromEnv({ VAULT_CLIENT_TIMEOUT: '0' }).timeoutMs, 60_000);
});

function assertInvalid(env: Record<string, string>, variable: string): void {
  assert.throws(() => vaultConfigFromEnv(env), (err: unknown) => {
    assert.ok(err instanceof VaultError);
    assert.equal(err.code, 'E_VAULT_CONFIG');
    assert.ok(err.message.startsWith(`${variable}=${JSON.stringify(env[variable])} is not valid`), err.message);
    return true;
  });
}

test('unparsable values fail naming the variable and the value', () => {
  assertInvalid({ VAULT_TTL: 'abc' }, 'VAULT_TTL');
  assertInvalid({ VAULT_TTL: '0' }, 'VAULT_TTL');
  assertInvalid({ VAULT_TTL: '-5' }, 'VAULT_TTL');
  assertInvalid({ VAULT_TTL: '1.5' }, 'VAULT_TTL');
  assertInvalid({ VAULT_MAX_RETRIES: '-1' }, 'VAULT_MAX_RETRIES');
  assertInvalid({ VAULT_MAX_RETRIES: 'two' }, 'VAULT_MAX_RETRIES');
  assertInvalid({ VAULT_SKIP_VERIFY: 'yes' }, 'VAULT_SKIP_VERIFY');
  assertInvalid({ VAULT_CLIENT_TIMEOUT: 'soon' }, 'VAULT_CLIENT_TIMEOUT');
  assertInvalid({ VAULT_CLIENT_TIMEOUT: '-1s' }, 'VAULT_CLIENT_TIMEOUT');
  assertInvalid({ VAULT_ADDR: 'vault.example.com:8200' }, 'VAULT_ADDR');
  assertInvalid({ VAULT_ADDR: 'ftp://vault' }, 'VAULT_ADDR');
  assertInvalid({ VAULT_ADDR: 'http://vault?x=1' }, 'VAULT_ADDR');
  assertInvalid({ VAULT_ADDR: 'unix://' }, 'VAULT_ADDR');
  assertInvalid({ VAULT_AGENT_ADDR: 'nope' }, 'VAULT_AGENT_ADDR');
});

const PEM_A = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
const PEM_B = '-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n';

test('loadVaultConfig reads VAULT_CACERT, else VAULT_CACERT_BYTES, else every PEM file of VAULT_CAPATH', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vault-ca-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'ca.pem'), PEM_A);
  await mkdir(join(dir, 'cas'));
  await mkdir(join(dir, 'cas', 'java'));
  await writeFile(join(dir, 'cas', 'b.pem'), PEM_B);
  await writeFile(join(dir, 'cas', 'a.crt'), PEM_A);
  await writeFile(join(dir, 'cas', 'README'), 'not a certificate');

  const both = await loadVaultConfig(vaultConfigFromEnv({ VAULT_CACERT: join(dir, 'ca.pem'), VAULT_CACERT_BYTES: PEM_B, VAULT_CAPATH: join(dir, 'cas') }));
  assert.equal(both.caCert, PEM_A);
  assert.equal(both.caPath, undefined);
  assert.equal((await loadVaultConfig(vaultConfigFromEnv({ VAULT_CACERT_BYTES: PEM_B, VAULT_CAPATH: join(dir, 'cas') }))).caCert, PEM_B);
  const fromDir = await loadVaultConfig(vaultConfigFromEnv({ VAULT_CAPATH: join(dir, 'cas') }));
  assert.equal(fromDir.caCert, undefined);
  assert.deepEqual(fromDir.caPath, [PEM_A, PEM_B]);
  const none = await loadVaultConfig(vaultConfigFromEnv({ VAULT_ADDR: 'http://v:1', VAULT_TTL: '7200' }));
  assert.equal(none.caCert, undefined);
  assert.equal(none.caPath, undefined);
  assert.equal(none.ttlSec, 7200);
  assert.equal('caCertFile' in none, false);
});

test('loadVaultConfig failures name the variable and the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vault-ca-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'junk.pem'), 'junk');
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ VAULT_CACERT: join(dir, 'missing.pem') }, /^VAULT_CACERT: cannot read .*missing\.pem: ENOENT$/],
    [{ VAULT_CACERT: join(dir, 'junk.pem') }, /^VAULT_CACERT: .*junk\.pem holds no PEM certificate$/],
    [{ VAULT_CACERT_BYTES: 'junk' }, /^VAULT_CACERT_BYTES holds no PEM certificate$/],
    [{ VAULT_CAPATH: join(dir, 'nope') }, /^VAULT_CAPATH: cannot read .*nope: ENOENT$/],
    [{ VAULT_CAPATH: dir }, /^VAULT_CAPATH: no PEM certificate in /],
  ];
  for (const [env, message] of cases) {
    await assert.rejects(loadVaultConfig(vaultConfigFromEnv(env)), (err: unknown) => {
      assert.ok(err instanceof VaultError);
      assert.equal(err.code, 'E_VAULT_CONFIG');
      assert.match(err.message, message);
      return true;
    });
  }
});
