// AwsRole credentials from the Vault double's AWS secrets engine (docs/vault-and-aws.md): a
// userpass token of their own, aws/creds/<role>, the lease renewed with AwsRoleTtl, the stop time
// 360 s before the earlier of the lease's and the token's end, and lease and token revoked at the
// end. No key, secret or token appears in any log line or message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AwsCredentialsGrant } from '../../src/executor/task-services';
import { memoryLogger } from '../../src/logging/logger';
import { AWS_LEASE_MARGIN_SEC, grantAwsCredentials } from '../../src/vault/aws-credentials';
import { VaultError } from '../../src/vault/vault-error';
import { VaultDouble, type VaultDoubleOptions } from '../doubles/vault';
import type { AwsRoleOptions } from '../doubles/vault-aws';
import { configFor, recordingClock, tempDir } from './vault-test-kit';

const PASSWORD = 'aws-userpass-password';

async function startVault(t: { after(fn: () => unknown): void }, role: AwsRoleOptions = {}, options: VaultDoubleOptions = {}): Promise<VaultDouble> {
  const vault = await VaultDouble.start(options);
  t.after(() => vault.close());
  vault.addUser('executor', PASSWORD);
  vault.addAwsRole('web', role);
  return vault;
}

function request(vault: VaultDouble, ttlSec = 0, role = 'web', extra: { tokenFile?: string } = {}) {
  const logger = memoryLogger();
  const config = configFor(vault.addr, { username: 'executor', password: PASSWORD, maxRetries: 0, ...extra });
  return { logger, grant: grantAwsCredentials({ role, ttlSec, config, logger, clock: recordingClock() }) };
}

/** Every secret the double handed out or minted is absent from the log. */
function assertNoSecretLogged(vault: VaultDouble, lines: string[]): void {
  const text = lines.join('');
  for (const secret of [...vault.awsSecrets, ...vault.issuedTokens, PASSWORD]) assert.ok(!text.includes(secret), `${secret.slice(0, 6)}... logged`);
  for (const lease of vault.awsLeases) assert.ok(!text.includes(lease.id), 'the lease id is not logged');
}

const paths = (vault: VaultDouble): string[] => vault.calls.map((c) => `${c.method} ${c.path} ${c.status}`);
const inSec = (at: number): number => Math.round((at - Date.now()) / 1000);

test('without AwsRoleTtl: own token renewed to 3600 + 600 s, aws/creds read, no lease renewal; stop 360 s before the lease ends', async (t) => {
  const vault = await startVault(t, { leaseSec: 900 });
  const tokenFile = join(await tempDir(t), 'token');
  const { logger, grant: pending } = request(vault, 0, 'web', { tokenFile });
  const grant = await pending;
  const [lease] = vault.awsLeases;
  assert.deepEqual(paths(vault), ['POST auth/userpass/login/executor 200', 'POST auth/token/renew 200', 'GET auth/token/lookup-self 200', 'GET aws/creds/web 200']);
  assert.deepEqual(vault.calls[0].body, { password: PASSWORD });
  assert.equal(vault.calls[1].body?.increment, 4200);
  assert.equal(vault.callsTo('aws/creds/web')[0].token, lease.token);
  assert.deepEqual(grant.env, [`AWS_ACCESS_KEY_ID=${lease.accessKey}`, `AWS_SECRET_ACCESS_KEY=${lease.secretKey}`]);
  assert.equal(AWS_LEASE_MARGIN_SEC, 360);
  assert.ok(Math.abs(inSec(grant.expiresAt) - (900 - 360)) <= 1, String(inSec(grant.expiresAt)));
  assert.equal(existsSync(tokenFile), false, 'the service token is never cached in VAULT_TOKEN_FILE');
  logger.info(`${lease.accessKey} ${lease.secretKey} ${lease.token}`);
  assert.match(logger.lines.at(-1) ?? '', /msg="\[REDACTED\] \[REDACTED\] \[REDACTED\]"/, 'keys and token registered for redaction');
  assertNoSecretLogged(vault, logger.lines.slice(0, -1));
  await grant.release();
});

test('with AwsRoleTtl: the token renewed to TTL + 600 s, the lease to TTL + 360 s; stop 360 s before its new end', async (t) => {
  const vault = await startVault(t, { leaseSec: 900 });
  const { logger, grant: pending } = request(vault, 1800);
  const grant = await pending;
  const [lease] = vault.awsLeases;
  assert.equal(vault.callsTo('auth/token/renew')[0].body?.increment, 2400);
  const renew = vault.callsTo('sys/leases/renew');
  assert.deepEqual(renew.map((c) => [c.method, c.status, c.body, c.token === lease.token]), [['PUT', 200, { lease_id: lease.id, increment: 2160 }, true]]);
  assert.equal(lease.ttlSec, 2160);
  assert.ok(Math.abs(inSec(grant.expiresAt) - 1800) <= 1, String(inSec(grant.expiresAt)));
  assert.ok(logger.lines.some((l) => /msg="Renewed the AWS credentials lease" role=web lease_duration=2160s/.test(l)));
  assertNoSecretLogged(vault, logger.lines);
  await grant.release();
});

test('a lease renewal capped by the role max is a warning; the stop follows what Vault granted', async (t) => {
  const vault = await startVault(t, { leaseSec: 900, maxLeaseSec: 1000 });
  const { logger, grant: pending } = request(vault, 3600);
  const grant = await pending;
  assert.ok(logger.lines.some((l) => /level=warning msg="Vault granted the AWS credentials lease a shorter TTL than asked" role=web asked=3960s granted=(1000|999)s/.test(l)));
  assert.ok(Math.abs(inSec(grant.expiresAt) - (1000 - 360)) <= 1);
  await grant.release();
});

test('STS credentials: AWS_SESSION_TOKEN too; the lease is not renewable, so AwsRoleTtl only warns', async (t) => {
  const vault = await startVault(t, { credentialType: 'assumed_role', leaseSec: 3600 });
  const { logger, grant: pending } = request(vault, 7200);
  const grant = await pending;
  const [lease] = vault.awsLeases;
  assert.deepEqual(grant.env, [`AWS_ACCESS_KEY_ID=${lease.accessKey}`, `AWS_SECRET_ACCESS_KEY=${lease.secretKey}`, `AWS_SESSION_TOKEN=${lease.securityToken}`]);
  assert.deepEqual(vault.callsTo('sys/leases/renew'), []);
  assert.ok(logger.lines.some((l) => l.includes('The AWS credentials lease is not renewable: AwsRoleTtl cannot extend it')));
  assertNoSecretLogged(vault, logger.lines);
  await grant.release();
});

test('a token that ends before the lease (its max TTL) brings the stop forward: Vault revokes the lease with it', async (t) => {
  const vault = await startVault(t, { leaseSec: 7200 }, { tokenMaxTtlSec: 1200 });
  const { logger, grant: pending } = request(vault);
  const grant = await pending;
  assert.ok(logger.lines.some((l) => /msg="The AwsRole token ends before the lease, and Vault revokes the lease with it" role=web token_ttl=1[12]\d\ds/.test(l)));
  assert.ok(Math.abs(inSec(grant.expiresAt) - (1200 - 360)) <= 2, String(inSec(grant.expiresAt)));
  await grant.release();
});

test('release: the lease revoked, then the token (revoke-self), each 204; once only; logged without secrets', async (t) => {
  const vault = await startVault(t, { leaseSec: 900 });
  const { logger, grant: pending } = request(vault);
  const grant: AwsCredentialsGrant = await pending;
  const [lease] = vault.awsLeases;
  vault.calls.length = 0;
  await Promise.all([grant.release(), grant.release()]);
  await grant.release();
  assert.deepEqual(vault.calls.map((c) => [c.method, c.path, c.status, c.token === lease.token]), [
    ['PUT', 'sys/leases/revoke', 204, true], ['POST', 'auth/token/revoke-self', 204, true],
  ]);
  assert.deepEqual(vault.calls[0].body, { lease_id: lease.id });
  assert.equal(lease.ended, 'revoked');
  assert.deepEqual(vault.revokedTokens, [lease.token]);
  assert.ok(logger.lines.some((l) => /msg="Revoked the AWS credentials lease" role=web/.test(l)));
  assert.ok(logger.lines.some((l) => /msg="Revoked the AwsRole token" role=web/.test(l)));
  assertNoSecretLogged(vault, logger.lines);
});

test('release never throws: Vault refusing or gone is a warning without secrets', async (t) => {
  const vault = await startVault(t, { leaseSec: 900 });
  const { logger, grant: pending } = request(vault);
  const grant = await pending;
  vault.failNext(2, 503);
  await grant.release();
  const warnings = logger.lines.filter((l) => l.includes('level=warning'));
  assert.equal(warnings.length, 2, warnings.join(''));
  assert.match(warnings[0], /msg="Could not revoke the AWS credentials lease" role=web error="revoking the AWS credentials lease: Vault refused \(HTTP 503: Vault is sealed\)/);
  assert.match(warnings[1], /msg="Could not revoke the AwsRole token" role=web/);
  assertNoSecretLogged(vault, logger.lines);

  const second = request(vault);
  const other = await second.grant;
  await vault.close();
  await other.release();
  assert.ok(second.logger.lines.some((l) => /Could not revoke the AwsRole token.*ECONNREFUSED/.test(l)));
});

// ---- failures: a VaultError saying what failed, and nothing left granted

async function assertFails(pending: Promise<AwsCredentialsGrant>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(pending, (err: unknown) => {
    assert.ok(err instanceof VaultError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('an unknown role: Vault\'s 400 "Role not found", and the token is revoked', async (t) => {
  const vault = await startVault(t);
  const { logger, grant } = request(vault, 0, 'nope');
  await assertFails(grant, 'E_VAULT_STATUS', /^reading aws\/creds\/nope: Vault refused \(HTTP 400: Role "nope" not found\) at http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(vault.callsTo('auth/token/revoke-self').map((c) => c.status), [204]);
  assert.deepEqual(vault.callsTo('sys/leases/revoke'), []);
  assert.equal(vault.tokens.length, 0);
  assertNoSecretLogged(vault, logger.lines);
});

test('a lease no longer than the 360 s margin fails, and the lease and the token are revoked', async (t) => {
  const vault = await startVault(t, { leaseSec: 300 });
  const { grant } = request(vault);
  await assertFails(grant, 'E_VAULT_STATUS', /^the credentials of aws\/creds\/web last (300|299)s, not more than the 360s before their end at which the task is stopped$/);
  assert.equal(vault.awsLeases[0].ended, 'revoked');
  assert.equal(vault.tokens.length, 0);
});

test('a lease renewal Vault refuses fails naming it, and everything granted is revoked', async (t) => {
  const vault = await startVault(t, { leaseSec: 900 });
  vault.forbid('sys/leases/renew');
  const { grant } = request(vault, 1800);
  await assertFails(grant, 'E_VAULT_FORBIDDEN', /^renewing the lease of aws\/creds\/web: permission denied \(HTTP 403\)/);
  assert.equal(vault.awsLeases[0].ended, 'revoked');
  assert.equal(vault.tokens.length, 0);
});

test('no VAULT_USERNAME/VAULT_PASSWORD: E_VAULT_AUTH before any request; a refused login is E_VAULT_AUTH', async (t) => {
  const vault = await startVault(t);
  const logger = memoryLogger();
  await assertFails(grantAwsCredentials({ role: 'web', ttlSec: 0, config: configFor(vault.addr, { token: 'hvs.some-token' }), logger, clock: recordingClock() }),
    'E_VAULT_AUTH', /VAULT_USERNAME and VAULT_PASSWORD are not both set/);
  assert.deepEqual(vault.calls, []);
  const wrong = grantAwsCredentials({ role: 'web', ttlSec: 0, config: configFor(vault.addr, { username: 'executor', password: 'wrong', maxRetries: 0 }), logger, clock: recordingClock() });
  await assertFails(wrong, 'E_VAULT_AUTH', /^userpass login: Vault refused \(HTTP 400: invalid username or password\)/);
});
