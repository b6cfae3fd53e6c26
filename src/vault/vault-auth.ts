// The userpass login, as the latest Go original does it (vault/vault_auth.go;
// docs/vault-and-aws.md): Vault's userpass login ignores a ttl in its body (the user's token_ttl
// applies), so the new token is renewed with `auth/token/renew` to the lifetime wanted plus 10
// minutes, then looked up, with a warning when Vault granted less (the user's or the mount's max
// TTL caps it). Only the login itself can fail the call: a token whose renewal or lookup fails
// still works, for the TTL its login gave it, and the warning says so.
import type { VaultHttp } from './vault-http';
import { isObject } from './vault-http';
import { VaultError } from './vault-error';

/** The Go executor's TokenGracePeriod: a cached token is used until 1 h before it expires. */
export const TOKEN_GRACE_SEC = 3600;
/** The Go executor's StartupGracePeriod: a new token is renewed to the TTL wanted plus this. */
export const RENEW_MARGIN_SEC = 600;
/** Go's tolerance for the time the renewal and lookup take before "granted less" is warned. */
const GRANT_SLACK_SEC = 10;

export interface UserpassToken {
  readonly token: string;
  /** The TTL the lookup after the renewal reported; undefined when it could not be had. */
  readonly ttlSec?: number;
}

/**
 * Logs in with userpass and renews the token to `ttlSec` + RENEW_MARGIN_SEC. `purpose` names the
 * token in the log ("vault:// values", "AwsRole web"). Throws E_VAULT_AUTH when the login is
 * refused; the token is registered for redaction before anything else happens to it.
 */
export async function userpassLogin(http: VaultHttp, username: string, password: string, ttlSec: number, purpose: string): Promise<UserpassToken> {
  const what = 'userpass login';
  const res = await http.send({
    what, method: 'POST', apiPath: `auth/userpass/login/${encodeURIComponent(username)}`, hideCause: true, body: { password },
  });
  if (res.status !== 200) throw http.statusError('E_VAULT_AUTH', what, res);
  const parsed = http.json(what, res);
  const token = isObject(parsed.auth) ? parsed.auth.client_token : undefined;
  if (typeof token !== 'string' || token === '') {
    throw new VaultError('E_VAULT_BAD_RESPONSE', `${what}: Vault's answer has no auth.client_token (at ${http.label})`);
  }
  http.remember(token);
  http.logger.info('Logged in to Vault with userpass', { purpose });
  return { token, ttlSec: await renewNewToken(http, token, ttlSec + RENEW_MARGIN_SEC, purpose) };
}

/** auth/token/renew (the Go original's call), then lookup-self for the TTL Vault really granted. */
async function renewNewToken(http: VaultHttp, token: string, incrementSec: number, purpose: string): Promise<number | undefined> {
  const { logger } = http;
  try {
    const what = 'renewing the new Vault token';
    const renewed = await http.send({ what, method: 'POST', apiPath: 'auth/token/renew', token, body: { token, increment: incrementSec } });
    const wasRenewed = renewed.status === 200;
    if (!wasRenewed) {
      logger.warn('Vault did not renew the new token; it keeps the TTL of its login', { purpose, error: http.statusError('E_VAULT_STATUS', what, renewed).message });
    }
    const lookedUp = await http.send({ what: 'looking up the new Vault token', method: 'GET', apiPath: 'auth/token/lookup-self', token });
    const data = lookedUp.status === 200 ? http.json('looking up the new Vault token', lookedUp).data : undefined;
    const ttl = isObject(data) && typeof data.ttl === 'number' ? data.ttl : undefined;
    if (ttl === undefined) {
      logger.warn('Could not look up the TTL Vault granted the new token', { purpose, status: lookedUp.status });
    } else if (ttl + GRANT_SLACK_SEC < incrementSec) {
      logger.warn('Vault granted the new token a shorter TTL than asked', { purpose, asked: `${incrementSec}s`, granted: `${ttl}s` });
    } else if (wasRenewed) {
      logger.info('Renewed the new Vault token', { purpose, ttl: `${ttl}s` });
    }
    return ttl;
  } catch (err) {
    // Vault unreachable right after the login: the token still works for its login TTL.
    logger.warn('Could not renew the new Vault token', { purpose, error: (err as Error).message });
    return undefined;
  }
}
