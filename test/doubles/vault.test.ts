// The Vault double refuses what real Vault refuses and answers in Vault's shapes (HTTP API docs:
// auth/token, sys/leases, secret/aws), so the executor is never tested against a laxer server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { VaultDouble } from './vault';

let vault: VaultDouble;
const ROOT = 'hvs.double-test-root';

before(async () => {
  vault = await VaultDouble.start({ tokenMaxTtlSec: 7200 });
  vault.addToken(ROOT);
  vault.addUser('svc', 'svc-password');
  vault.addAwsRole('web', { leaseSec: 900, maxLeaseSec: 1800 });
  vault.addAwsRole('sts', { credentialType: 'assumed_role', leaseSec: 900 });
});
after(() => vault.close());

async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: any; text: string }> {
  const headers: Record<string, string> = {};
  if (options.token) headers['X-Vault-Token'] = options.token;
  const res = await fetch(`${vault.addr}/v1/${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  return { status: res.status, text, body: text === '' ? undefined : JSON.parse(text) };
}

async function login(): Promise<string> {
  const res = await call('POST', 'auth/userpass/login/svc', { body: { password: 'svc-password' } });
  assert.equal(res.status, 200);
  return res.body.auth.client_token as string;
}

test('no token or an unknown one: 403 permission denied on every endpoint but the login', async () => {
  for (const [method, path] of [['GET', 'aws/creds/web'], ['PUT', 'sys/leases/renew'], ['PUT', 'sys/leases/revoke'], ['POST', 'auth/token/renew'],
    ['POST', 'auth/token/renew-self'], ['POST', 'auth/token/revoke-self'], ['GET', 'auth/token/lookup-self'], ['POST', 'auth/token/lookup']]) {
    for (const token of [undefined, 'hvs.unknown-token']) {
      const res = await call(method, path, { token, body: method === 'GET' ? undefined : {} });
      assert.deepEqual([res.status, res.body], [403, { errors: ['permission denied'] }], `${method} ${path} ${token}`);
    }
  }
});

test('wrong methods: 405 unsupported operation', async () => {
  for (const [method, path] of [['GET', 'sys/leases/renew'], ['GET', 'sys/leases/revoke'], ['GET', 'auth/token/renew'], ['GET', 'auth/token/revoke-self'],
    ['POST', 'auth/token/lookup-self'], ['DELETE', 'aws/creds/web'], ['GET', 'auth/userpass/login/svc']]) {
    const res = await call(method, path, { token: ROOT });
    assert.deepEqual([res.status, res.body], [405, { errors: ['unsupported operation'] }], `${method} ${path}`);
  }
});

test('aws/creds: a renewable lease and IAM keys; STS keys with a security token and no renewal; unknown role 400', async () => {
  const iam = await call('GET', 'aws/creds/web', { token: ROOT });
  assert.equal(iam.status, 200);
  assert.match(iam.body.lease_id, /^aws\/creds\/web\/\S+$/);
  assert.equal(iam.body.lease_duration, 900);
  assert.equal(iam.body.renewable, true);
  assert.match(iam.body.data.access_key, /^AKIA[A-Z2-7]{16}$/);
  assert.equal(typeof iam.body.data.secret_key, 'string');
  assert.equal(iam.body.data.security_token, null);
  for (const key of ['request_id', 'wrap_info', 'warnings', 'auth']) assert.ok(key in iam.body, key);
  const sts = await call('POST', 'aws/creds/sts', { token: ROOT });
  assert.equal(sts.body.renewable, false);
  assert.match(sts.body.data.access_key, /^ASIA/);
  assert.equal(typeof sts.body.data.security_token, 'string');
  assert.deepEqual((await call('PUT', 'sys/leases/renew', { token: ROOT, body: { lease_id: sts.body.lease_id } })).body, { errors: ['lease is not renewable'] });
  const unknown = await call('GET', 'aws/creds/nope', { token: ROOT });
  assert.deepEqual([unknown.status, unknown.body], [400, { errors: ['Role "nope" not found'] }]);
});

test('sys/leases/renew: increment honoured up to the role max, with Vault\'s cap warning; unknown or missing lease 400', async () => {
  const { body: creds } = await call('GET', 'aws/creds/web', { token: ROOT });
  const renewed = await call('PUT', 'sys/leases/renew', { token: ROOT, body: { lease_id: creds.lease_id, increment: 1200 } });
  assert.equal(renewed.status, 200);
  assert.deepEqual([renewed.body.lease_id, renewed.body.renewable, renewed.body.lease_duration, renewed.body.warnings], [creds.lease_id, true, 1200, null]);
  const capped = await call('POST', 'sys/leases/renew', { token: ROOT, body: { lease_id: creds.lease_id, increment: '1h' } });
  assert.ok(capped.body.lease_duration <= 1800 && capped.body.lease_duration >= 1798, String(capped.body.lease_duration));
  assert.match(capped.body.warnings[0], /^TTL of "1h0m0s" exceeded the effective max_ttl of "29m5\ds"; TTL value is capped accordingly$/);
  assert.deepEqual((await call('PUT', 'sys/leases/renew', { token: ROOT, body: { lease_id: 'aws/creds/web/nope' } })).body, { errors: ['lease not found'] });
  const missing = await call('PUT', 'sys/leases/renew', { token: ROOT, body: {} });
  assert.deepEqual([missing.status, missing.body], [400, { errors: ['lease_id must be specified'] }]);
});

test('sys/leases/revoke: 204 with no body (also for a lease Vault does not know); the lease is gone; missing lease_id 400', async () => {
  const { body: creds } = await call('GET', 'aws/creds/web', { token: ROOT });
  const revoked = await call('PUT', 'sys/leases/revoke', { token: ROOT, body: { lease_id: creds.lease_id } });
  assert.deepEqual([revoked.status, revoked.text], [204, '']);
  assert.equal(vault.awsLeases.find((l) => l.id === creds.lease_id)?.ended, 'revoked');
  assert.deepEqual((await call('PUT', 'sys/leases/renew', { token: ROOT, body: { lease_id: creds.lease_id } })).body, { errors: ['lease not found'] });
  assert.equal((await call('PUT', 'sys/leases/revoke', { token: ROOT, body: { lease_id: 'aws/creds/web/nope' } })).status, 204);
  assert.equal((await call('PUT', 'sys/leases/revoke', { token: ROOT, body: {} })).status, 400);
});

test('auth/token/renew: increment from now, capped at the max TTL with the warning; missing or unknown token 400', async () => {
  const token = await login();
  const renewed = await call('POST', 'auth/token/renew', { token, body: { token, increment: 3600 } });
  assert.equal(renewed.status, 200);
  assert.deepEqual([renewed.body.auth.client_token, renewed.body.auth.lease_duration, renewed.body.auth.renewable, renewed.body.warnings], [token, 3600, true, null]);
  const capped = await call('PUT', 'auth/token/renew', { token, body: { token, increment: '3h' } });
  assert.ok(capped.body.auth.lease_duration <= 7200 && capped.body.auth.lease_duration >= 7198);
  assert.match(capped.body.warnings[0], /^TTL of "3h0m0s" exceeded the effective max_ttl of "1h59m5\ds"; TTL value is capped accordingly$/);
  const lookup = await call('GET', 'auth/token/lookup-self', { token });
  assert.ok(lookup.body.data.ttl >= 7197 && lookup.body.data.ttl <= 7200);
  assert.equal(lookup.body.data.creation_ttl, 7200, 'the login gave the token_ttl capped at the max');
  assert.deepEqual((await call('POST', 'auth/token/renew', { token, body: {} })).body, { errors: ['missing token ID'] });
  assert.deepEqual((await call('POST', 'auth/token/renew', { token, body: { token: 'hvs.nope' } })).body, { errors: ['token not found'] });
  const other = await call('POST', 'auth/token/lookup', { token: ROOT, body: { token } });
  assert.equal(other.body.data.id, token);
  assert.deepEqual((await call('POST', 'auth/token/lookup', { token: ROOT, body: { token: 'hvs.nope' } })).body, { errors: ['bad token'] });
});

test('auth/token/revoke-self: 204 with no body; the token and the leases it got end with it', async () => {
  const token = await login();
  const { body: creds } = await call('GET', 'aws/creds/web', { token });
  const revoked = await call('POST', 'auth/token/revoke-self', { token });
  assert.deepEqual([revoked.status, revoked.text], [204, '']);
  assert.equal((await call('GET', 'auth/token/lookup-self', { token })).status, 403);
  assert.ok(vault.revokedTokens.includes(token));
  assert.ok(vault.issuedTokens.includes(token));
  assert.equal(vault.awsLeases.find((l) => l.id === creds.lease_id)?.ended, 'token ended');
});
