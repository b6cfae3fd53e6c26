// AWS credentials for the executor's AwsRole (docs/vault-and-aws.md) from Vault's AWS secrets
// engine, as the latest Go original gets them: a userpass login for a token of the task's own
// (never the VAULT_TOKEN_FILE one: revoking it at the end must not touch other tasks),
// `aws/creds/<role>`, and with AwsRoleTtl a lease renewal to AwsRoleTtl + 6 min. Vault revokes a
// lease when it ends, and when the token that got it ends: the task must be stopped 6 min before
// the earlier of the two. At the end the lease and the token are revoked. Keys and the token are
// registered for redaction the moment they arrive; no message here carries them, nor the lease id.
import type { Clock } from '../clock';
import type { AwsCredentialsGrant } from '../executor/task-services';
import type { Logger } from '../logging/logger';
import { userpassLogin } from './vault-auth';
import type { VaultConfig } from './vault-config';
import { VaultError } from './vault-error';
import { isObject, VaultHttp } from './vault-http';

/** How long before the lease ends the task is stopped; also what a renewal asks beyond AwsRoleTtl. */
export const AWS_LEASE_MARGIN_SEC = 360;
/** The service token's TTL when AwsRoleTtl is not set. */
export const AWS_DEFAULT_TOKEN_TTL_SEC = 3600;

export interface AwsCredentialsRequest {
  readonly role: string;
  /** AwsRoleTtl in seconds; 0 when not set: the lease is not renewed. */
  readonly ttlSec: number;
  readonly config: VaultConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Backoff jitter, for tests. */
  readonly random?: () => number;
}

interface Lease { id: string; durationSec: number; renewable: boolean }

/** Gets the role's credentials; throws a VaultError after revoking whatever it got. */
export async function grantAwsCredentials(request: AwsCredentialsRequest): Promise<AwsCredentialsGrant> {
  const { role, ttlSec, config, logger, clock } = request;
  const http = new VaultHttp(config, { logger, clock, random: request.random });
  if (config.username === undefined || config.password === undefined) {
    throw new VaultError('E_VAULT_AUTH', 'the token for AWS credentials is a userpass login of its own: VAULT_USERNAME and VAULT_PASSWORD are not both set');
  }
  const loginAt = clock.now();
  const login = await userpassLogin(http, config.username, config.password, ttlSec > 0 ? ttlSec : AWS_DEFAULT_TOKEN_TTL_SEC, `AwsRole ${role}`);
  let lease: Lease | undefined;
  try {
    const readAt = clock.now();
    const creds = await readCreds(http, login.token, role);
    lease = creds.lease;
    let leaseEnd = readAt + lease.durationSec * 1000;
    if (ttlSec > 0) leaseEnd = await renewLease(http, login.token, role, lease, ttlSec + AWS_LEASE_MARGIN_SEC) ?? leaseEnd;
    const tokenEnd = login.ttlSec === undefined ? Infinity : loginAt + login.ttlSec * 1000;
    if (tokenEnd < leaseEnd) logger.warn('The AwsRole token ends before the lease, and Vault revokes the lease with it', { role, token_ttl: `${login.ttlSec}s` });
    const expiresAt = Math.min(leaseEnd, tokenEnd) - AWS_LEASE_MARGIN_SEC * 1000;
    if (expiresAt <= clock.now()) {
      throw new VaultError('E_VAULT_STATUS', `the credentials of aws/creds/${role} last ${Math.round((Math.min(leaseEnd, tokenEnd) - clock.now()) / 1000)}s, not more than the ${AWS_LEASE_MARGIN_SEC}s before their end at which the task is stopped`);
    }
    logger.info('Got AWS credentials from Vault', { role, renewable: lease.renewable, stop_at: new Date(expiresAt).toISOString() });
    return { env: creds.env, expiresAt, release: once(() => revoke(http, login.token, role, lease)) };
  } catch (err) {
    await revoke(http, login.token, role, lease);
    throw err;
  }
}

async function readCreds(http: VaultHttp, token: string, role: string): Promise<{ env: string[]; lease: Lease }> {
  const path = `aws/creds/${role}`;
  const what = `reading ${path}`;
  const res = await http.send({ what, method: 'GET', apiPath: `aws/creds/${encodeURIComponent(role)}`, token, path });
  if (res.status !== 200) throw http.statusError(res.status === 403 ? 'E_VAULT_FORBIDDEN' : res.status === 404 ? 'E_VAULT_NOT_FOUND' : 'E_VAULT_STATUS', what, res, path);
  const body = http.json(what, res, path);
  const data = isObject(body.data) ? body.data : {};
  const { access_key: accessKey, secret_key: secretKey, security_token: sessionToken } = data;
  for (const secret of [accessKey, secretKey, sessionToken]) if (typeof secret === 'string') http.remember(secret);
  const { lease_id: id, lease_duration: durationSec, renewable } = body;
  if (typeof accessKey !== 'string' || accessKey === '' || typeof secretKey !== 'string' || secretKey === ''
    || typeof id !== 'string' || id === '' || typeof durationSec !== 'number') {
    throw new VaultError('E_VAULT_BAD_RESPONSE', `${what}: Vault's answer lacks data.access_key, data.secret_key, lease_id or lease_duration (at ${http.label})`, { path });
  }
  const env = [`AWS_ACCESS_KEY_ID=${accessKey}`, `AWS_SECRET_ACCESS_KEY=${secretKey}`];
  // STS credentials (assumed_role, federation_token) work only with their session token.
  if (typeof sessionToken === 'string' && sessionToken !== '') env.push(`AWS_SESSION_TOKEN=${sessionToken}`);
  return { env, lease: { id, durationSec, renewable: renewable === true } };
}

/** sys/leases/renew; the new end of the lease, or undefined when it cannot be renewed. */
async function renewLease(http: VaultHttp, token: string, role: string, lease: Lease, incrementSec: number): Promise<number | undefined> {
  if (!lease.renewable) {
    http.logger.warn('The AWS credentials lease is not renewable: AwsRoleTtl cannot extend it', { role, lease_duration: `${lease.durationSec}s` });
    return undefined;
  }
  const what = `renewing the lease of aws/creds/${role}`;
  const renewAt = http.clock.now();
  const res = await http.send({ what, method: 'PUT', apiPath: 'sys/leases/renew', token, body: { lease_id: lease.id, increment: incrementSec } });
  if (res.status !== 200) throw http.statusError(res.status === 403 ? 'E_VAULT_FORBIDDEN' : 'E_VAULT_STATUS', what, res);
  const granted = http.json(what, res).lease_duration;
  if (typeof granted !== 'number') throw new VaultError('E_VAULT_BAD_RESPONSE', `${what}: Vault's answer has no lease_duration (at ${http.label})`);
  if (granted + 10 < incrementSec) {
    http.logger.warn('Vault granted the AWS credentials lease a shorter TTL than asked', { role, asked: `${incrementSec}s`, granted: `${granted}s` });
  } else {
    http.logger.info('Renewed the AWS credentials lease', { role, lease_duration: `${granted}s` });
  }
  lease.durationSec = granted;
  return renewAt + granted * 1000;
}

/** Revokes the lease (when there is one), then the token (which also ends its leases). Never throws. */
async function revoke(http: VaultHttp, token: string, role: string, lease: Lease | undefined): Promise<void> {
  const attempt = async (what: string, call: () => ReturnType<VaultHttp['send']>): Promise<void> => {
    try {
      const res = await call();
      if (res.status === 204 || res.status === 200) http.logger.info(`Revoked ${what}`, { role });
      else http.logger.warn(`Could not revoke ${what}`, { role, error: http.statusError('E_VAULT_STATUS', `revoking ${what}`, res).message });
    } catch (err) {
      http.logger.warn(`Could not revoke ${what}`, { role, error: (err as Error).message });
    }
  };
  if (lease !== undefined) {
    await attempt('the AWS credentials lease', () => http.send({ what: 'revoking the AWS credentials lease', method: 'PUT', apiPath: 'sys/leases/revoke', token, body: { lease_id: lease.id } }));
  }
  await attempt('the AwsRole token', () => http.send({ what: 'revoking the AwsRole token', method: 'POST', apiPath: 'auth/token/revoke-self', token }));
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
