// doctor's Vault check, when VAULT_ADDR is set: the credentials a task's vault:// values would
// use, tried in the executor's order (VAULT_TOKEN; else the VAULT_TOKEN_FILE cache; else a
// userpass login), one bounded attempt each. It leaves nothing behind: the cache file is never
// written, and a token a login made for the check is revoked again (auth/token/revoke-self).
// Messages come from VaultHttp, which scrubs the token, the password and the username from them.
import { access, constants } from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatGoDuration } from '../config/durations';
import { loadVaultConfig } from '../vault/load-vault-config';
import { TOKEN_GRACE_SEC } from '../vault/vault-auth';
import { VAULT_DEFAULTS, vaultConfigFromEnv, type VaultConfig } from '../vault/vault-config';
import { VaultError } from '../vault/vault-error';
import { isObject, VaultHttp } from '../vault/vault-http';
import { readCachedToken } from '../vault/vault-token-file';
import { fail, ok, quietLogger, warn, type Finding } from './findings';

/** Each request's bound; VAULT_MAX_RETRIES is ignored: one attempt tells whether Vault answers. */
export const VAULT_TIMEOUT_MS = 4000;

const CONSEQUENCE = 'vault:// values would fail their task';

type Lookup = { accepted: true; ttlSec?: number } | { accepted: false; error: VaultError };

async function lookupSelf(http: VaultHttp, token: string, what: string): Promise<Lookup> {
  const res = await http.send({ what, method: 'GET', apiPath: 'auth/token/lookup-self', token });
  if (res.status !== 200) return { accepted: false, error: http.statusError('E_VAULT_AUTH', what, res) };
  const data = http.json(what, res).data;
  return { accepted: true, ttlSec: isObject(data) && typeof data.ttl === 'number' ? data.ttl : undefined };
}

const ttlText = (ttlSec: number | undefined): string =>
  ttlSec === undefined ? '' : ttlSec === 0 ? ' (no expiry)' : ` (ttl ${formatGoDuration(ttlSec * 1000)})`;

/** A userpass login, as the executor's (without its renewal), its token revoked at once. */
async function userpassLogin(http: VaultHttp, username: string, password: string): Promise<{ revoked: boolean }> {
  const what = 'userpass login';
  const res = await http.send({ what, method: 'POST', apiPath: `auth/userpass/login/${encodeURIComponent(username)}`, hideCause: true, body: { password } });
  if (res.status !== 200) throw http.statusError('E_VAULT_AUTH', what, res);
  const auth = http.json(what, res).auth;
  const token = isObject(auth) ? auth.client_token : undefined;
  if (typeof token !== 'string' || token === '') throw new VaultError('E_VAULT_BAD_RESPONSE', `${what}: Vault's answer has no auth.client_token (at ${http.label})`);
  http.remember(token);
  try {
    const revoked = await http.send({ what: 'revoking the token of the check', method: 'POST', apiPath: 'auth/token/revoke-self', token });
    return { revoked: revoked.status === 204 || revoked.status === 200 };
  } catch {
    return { revoked: false };
  }
}

const NOT_REVOKED = '; the token made for the check could not be revoked (revoke-self refused): it lasts until its TTL';

/** The credentials vault:// values would use; `loginWorked` when the check logged in with userpass. */
async function checkCredentials(http: VaultHttp, config: VaultConfig): Promise<{ finding: Finding; loginWorked: boolean }> {
  const at = `at ${http.label}`;
  if (config.token !== undefined) {
    const found = await lookupSelf(http, config.token, 'looking up VAULT_TOKEN');
    const finding = found.accepted ? ok('vault', `VAULT_TOKEN accepted ${at}${ttlText(found.ttlSec)}`) : fail('vault', `${found.error.message}: ${CONSEQUENCE}`);
    return { finding, loginWorked: false };
  }
  let cache = 'VAULT_TOKEN_FILE is not set';
  const file = config.tokenFile;
  if (file !== undefined) {
    const cached = await readCachedToken(file, (config.ttlSec - TOKEN_GRACE_SEC) * 1000, Date.now());
    if (cached.token !== undefined) {
      http.remember(cached.token);
      const found = await lookupSelf(http, cached.token, 'looking up the token of VAULT_TOKEN_FILE');
      if (found.accepted) return { finding: ok('vault', `the token in VAULT_TOKEN_FILE ${file} is accepted ${at}${ttlText(found.ttlSec)}`), loginWorked: false };
      cache = `the token in VAULT_TOKEN_FILE ${file} was refused`;
    } else {
      cache = `VAULT_TOKEN_FILE ${file}: ${cached.why}`;
    }
  }
  if (config.username === undefined || config.password === undefined) {
    return { finding: fail('vault', `no credentials: VAULT_TOKEN is not set, ${cache}, and VAULT_USERNAME and VAULT_PASSWORD are not both set: ${CONSEQUENCE}`), loginWorked: false };
  }
  const { revoked } = await userpassLogin(http, config.username, config.password);
  const unwritable = file === undefined ? undefined : await access(dirname(file), constants.W_OK).then(() => undefined, (err: NodeJS.ErrnoException) => err.code ?? 'error');
  const caching = file === undefined ? '' : unwritable === undefined ? '; the executor would cache its token there' : `; its directory is not writable (${unwritable}): every launch would log in again`;
  const text = `userpass login works ${at} (${cache}${caching})${revoked ? '' : NOT_REVOKED}`;
  return { finding: revoked && unwritable === undefined ? ok('vault', text) : warn('vault', text), loginWorked: true };
}

/** AwsRole's token is a userpass login of its own; aws/creds/<role> is not read: that would make AWS keys. */
async function checkAwsRoleLogin(http: VaultHttp, config: VaultConfig, role: string): Promise<Finding> {
  if (config.username === undefined || config.password === undefined) {
    return fail('vault', `AwsRole ${role}: its token is a userpass login of its own, and VAULT_USERNAME and VAULT_PASSWORD are not both set`);
  }
  const { revoked } = await userpassLogin(http, config.username, config.password);
  const text = `AwsRole ${role}: userpass login works (aws/creds/${role} is not read: that would make AWS keys)${revoked ? '' : NOT_REVOKED}`;
  return revoked ? ok('vault', text) : warn('vault', text);
}

export async function checkVault(env: NodeJS.ProcessEnv, awsRole: string, secrets: Set<string>): Promise<Finding[]> {
  if (!env.VAULT_ADDR && !env.VAULT_AGENT_ADDR) {
    return [awsRole ? warn('vault', `VAULT_ADDR is not set, but AwsRole is: its credentials would be asked of ${VAULT_DEFAULTS.addr}`) : ok('vault', 'not checked: VAULT_ADDR is not set')];
  }
  try {
    const config = await loadVaultConfig(vaultConfigFromEnv(env));
    const http = new VaultHttp({ ...config, maxRetries: 0, timeoutMs: Math.min(config.timeoutMs, VAULT_TIMEOUT_MS) }, { logger: quietLogger(secrets) });
    const { finding, loginWorked } = await checkCredentials(http, config);
    if (!awsRole || loginWorked) return [finding];
    try {
      return [finding, await checkAwsRoleLogin(http, config, awsRole)];
    } catch (err) {
      if (err instanceof VaultError) return [finding, fail('vault', `AwsRole ${awsRole}: ${err.message}`)];
      throw err;
    }
  } catch (err) {
    // Configuration (a CA file), unreachable, TLS, a refused login: one line, the client's words.
    if (err instanceof VaultError) return [fail('vault', err.message)];
    throw err;
  }
}
