// Reading `vault://` secrets (docs/vault-and-aws.md): authenticate (VAULT_TOKEN, else the
// VAULT_TOKEN_FILE cache checked with lookup-self, else a userpass login renewed to VAULT_TTL + 10
// min and cached), then read KV v1 or v2 secrets. The transport, retries and secret scrubbing are
// vault-http.ts's; the login is vault-auth.ts's, shared with the AwsRole credentials.
import type { HttpResponse } from '../http/http-request';
import type { VaultConfig } from './vault-config';
import { TOKEN_GRACE_SEC, userpassLogin } from './vault-auth';
import { VaultError, type VaultErrorCode } from './vault-error';
import { isObject, retryableStatus, VaultHttp, type VaultHttpDeps } from './vault-http';
import { readCachedToken, writeCachedToken } from './vault-token-file';

export type VaultSecretData = Readonly<Record<string, unknown>>;

/** What resolving env values needs from Vault: one method, so tests can fake it in a line. */
export interface VaultClientLike {
  /** The fields of the secret at `path`: KV v1 `data`, KV v2 `data.data`. Throws VaultError. */
  read(path: string): Promise<VaultSecretData>;
}

export type VaultClientDeps = VaultHttpDeps;

/** A KV v2 read path is `<mount>/data/<name>`; a `data` segment elsewhere is just a name. */
function isKv2Path(path: string): boolean {
  return path.split('/').slice(1, -1).includes('data');
}

export class VaultClient implements VaultClientLike {
  readonly #config: VaultConfig;
  readonly #http: VaultHttp;
  #token?: Promise<string>;

  constructor(config: VaultConfig, deps: VaultClientDeps) {
    this.#config = config;
    this.#http = new VaultHttp(config, deps);
  }

  /** Where Vault is, for messages: scheme, host and prefix only. */
  get label(): string { return this.#http.label; }

  async read(path: string): Promise<VaultSecretData> {
    const token = await this.#authenticate();
    const what = `reading ${path}`;
    const apiPath = path.split('/').map(encodeURIComponent).join('/');
    const res = await this.#http.send({ what, method: 'GET', apiPath, token, path });
    if (res.status === 200) return this.#secretFields(what, path, res);
    const code: VaultErrorCode = res.status === 404 || res.status === 204 ? 'E_VAULT_NOT_FOUND' : res.status === 403 ? 'E_VAULT_FORBIDDEN' : 'E_VAULT_STATUS';
    throw this.#http.statusError(code, what, res, path);
  }

  /** One authentication per client: concurrent reads share it, and a failure lets the next read try again. */
  #authenticate(): Promise<string> {
    this.#token ??= this.#obtainToken().catch((err: unknown) => { this.#token = undefined; throw err; });
    return this.#token;
  }

  async #obtainToken(): Promise<string> {
    const { token, tokenFile, username, password, ttlSec } = this.#config;
    const { logger, clock } = this.#http;
    if (token !== undefined) return token;
    let why = 'VAULT_TOKEN_FILE is not set';
    if (tokenFile !== undefined) {
      const cached = await readCachedToken(tokenFile, (ttlSec - TOKEN_GRACE_SEC) * 1000, clock.now());
      if (cached.token !== undefined) {
        this.#http.remember(cached.token);
        if (await this.#tokenAccepted(cached.token)) {
          logger.info('Re-using the Vault token from VAULT_TOKEN_FILE', { file: tokenFile });
          return cached.token;
        }
        why = 'the cached token was rejected by Vault';
        logger.warn('The cached Vault token was rejected; logging in again', { file: tokenFile });
      } else {
        why = cached.why;
        logger.debug('No usable cached Vault token', { file: tokenFile, why });
      }
    }
    if (username === undefined || password === undefined) {
      throw new VaultError('E_VAULT_AUTH', `no Vault credentials: VAULT_TOKEN is not set, no usable token in VAULT_TOKEN_FILE (${why}), and VAULT_USERNAME and VAULT_PASSWORD are not both set`);
    }
    const fresh = (await userpassLogin(this.#http, username, password, ttlSec, 'vault:// values')).token;
    if (tokenFile !== undefined) {
      try {
        await writeCachedToken(tokenFile, fresh);
        logger.debug('Cached the Vault token', { file: tokenFile });
      } catch (err) {
        // The task can still run; only the next launch pays a login.
        logger.warn('Could not cache the Vault token in VAULT_TOKEN_FILE', { file: tokenFile, error: (err as NodeJS.ErrnoException).code ?? 'error' });
      }
    }
    return fresh;
  }

  /** lookup-self: true when Vault knows the token; a 4xx means it expired or was revoked. */
  async #tokenAccepted(token: string): Promise<boolean> {
    const what = 'checking the cached token';
    const res = await this.#http.send({ what, method: 'GET', apiPath: 'auth/token/lookup-self', token });
    if (res.status === 200) return true;
    if (res.status >= 400 && res.status < 500 && !retryableStatus(res.status)) return false;
    // Vault down or sealed: logging in would fail too, or mint a token for nothing.
    throw this.#http.statusError('E_VAULT_STATUS', what, res);
  }

  #secretFields(what: string, path: string, res: HttpResponse): VaultSecretData {
    let parsed: unknown;
    try { parsed = JSON.parse(res.body.toString('utf8')); } catch { parsed = undefined; }
    const data = isObject(parsed) ? parsed.data : undefined;
    if (!isObject(data)) throw new VaultError('E_VAULT_BAD_RESPONSE', `${what}: Vault's answer holds no secret data (at ${this.label})`, { path });
    // KV v2 wraps the fields: {data: {data: {...}, metadata: {...}}}.
    if (isKv2Path(path) && isObject(data.data) && isObject(data.metadata)) return data.data;
    return data;
  }
}
