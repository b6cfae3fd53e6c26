// Vault's HTTP API as the executor uses it (CONTRACT §8): authenticate (VAULT_TOKEN, else the
// VAULT_TOKEN_FILE cache checked with lookup-self, else userpass login), then read KV v1 or v2
// secrets. All traffic goes through http-request.ts; retries follow the Go client's defaults
// (hashicorp/vault api.DefaultRetryPolicy: connection failures, 412, 429 and 5xx but 501; linear
// jittered backoff), bounded by VAULT_MAX_RETRIES. Every token and the password are registered
// with the logger's redaction as soon as they are known, and no message built here carries one.
import { systemClock, type Clock } from '../clock';
import { bodySnippet, HttpError, request, type HttpResponse } from '../http/http-request';
import type { Logger } from '../log/logger';
import type { VaultConfig } from './vault-config';
import { VaultError, type VaultErrorCode } from './vault-error';
import { readCachedToken, writeCachedToken } from './vault-token-file';

export type VaultSecretData = Readonly<Record<string, unknown>>;

/** What resolving env values needs from Vault: one method, so tests can fake it in a line. */
export interface VaultClientLike {
  /** The fields of the secret at `path`: KV v1 `data`, KV v2 `data.data`. Throws VaultError. */
  read(path: string): Promise<VaultSecretData>;
}

export interface VaultClientDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Jitter in [0, 1) for the backoff; injectable so tests can pin the waits. */
  readonly random?: () => number;
}

/** The Go executor's TokenGracePeriod: a cached token is used until 1 h before it expires. */
export const TOKEN_GRACE_SEC = 3600;

interface Call {
  readonly what: string;
  readonly method: 'GET' | 'POST';
  /** After /v1/, already escaped. */
  readonly apiPath: string;
  readonly token?: string;
  readonly body?: string;
  /** The secret path, for errors about a read. */
  readonly path?: string;
  /** Login URLs carry the username: their HttpError must not ride along as the cause. */
  readonly hideCause?: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** 412 (Enterprise eventual consistency), 429 and 5xx but 501 (not initialised) are worth another try. */
const retryableStatus = (status: number): boolean => status === 412 || status === 429 || (status >= 500 && status !== 501);

const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO/;
const CERT_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/** The transport failure in one word (ECONNREFUSED, a TLS code), never the URL it was for. */
function transportDetail(err: HttpError): string {
  if (err.code === 'E_HTTP_TIMEOUT') return 'timed out';
  return (err.cause as NodeJS.ErrnoException | undefined)?.code ?? (err.code === 'E_HTTP_BODY' ? 'answer cut off' : 'connection failed');
}

/** A KV v2 read path is `<mount>/data/<name>`; a `data` segment elsewhere is just a name. */
function isKv2Path(path: string): boolean {
  return path.split('/').slice(1, -1).includes('data');
}

export class VaultClient implements VaultClientLike {
  readonly #config: VaultConfig;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #urlBase: string;
  readonly #socketPath?: string;
  /** Where Vault is, for messages: scheme, host and prefix only (no credentials in the URL). */
  readonly label: string;
  /** Secrets to scrub from text Vault sends back before it goes into an error message. */
  readonly #secrets: string[] = [];
  #token?: Promise<string>;

  constructor(config: VaultConfig, deps: VaultClientDeps) {
    this.#config = config;
    this.#logger = deps.logger;
    this.#clock = deps.clock ?? systemClock;
    this.#random = deps.random ?? Math.random;
    const url = new URL(config.addr);
    if (url.protocol === 'unix:') {
      this.#urlBase = 'http://localhost';
      this.#socketPath = decodeURIComponent(url.pathname);
      this.label = `unix://${this.#socketPath}`;
    } else {
      this.#urlBase = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
      this.label = this.#urlBase;
    }
    this.#remember(config.token);
    this.#remember(config.password);
    // The username is kept out of messages but not registered for redaction: a common word
    // (`executor`, `mesos`) would blank it out of every log line (CONTRACT §2 only forbids
    // logging the variable, which nothing here does).
    if (config.username !== undefined && config.username.length >= 4) this.#secrets.push(config.username);
  }

  async read(path: string): Promise<VaultSecretData> {
    const token = await this.#authenticate();
    const what = `reading ${path}`;
    const apiPath = path.split('/').map(encodeURIComponent).join('/');
    const res = await this.#send({ what, method: 'GET', apiPath, token, path });
    if (res.status === 200) return this.#secretFields(what, path, res.body);
    const code: VaultErrorCode = res.status === 404 || res.status === 204 ? 'E_VAULT_NOT_FOUND' : res.status === 403 ? 'E_VAULT_FORBIDDEN' : 'E_VAULT_STATUS';
    throw this.#statusError(code, what, res, path);
  }

  /** One authentication per client: concurrent reads share it, and a failure lets the next read try again. */
  #authenticate(): Promise<string> {
    this.#token ??= this.#obtainToken().catch((err: unknown) => { this.#token = undefined; throw err; });
    return this.#token;
  }

  async #obtainToken(): Promise<string> {
    const { token, tokenFile, username, password, ttlSec } = this.#config;
    if (token !== undefined) return token;
    let why = 'VAULT_TOKEN_FILE is not set';
    if (tokenFile !== undefined) {
      const cached = await readCachedToken(tokenFile, (ttlSec - TOKEN_GRACE_SEC) * 1000, this.#clock.now());
      if (cached.token !== undefined) {
        this.#remember(cached.token);
        if (await this.#tokenAccepted(cached.token)) {
          this.#logger.info('Re-using the Vault token from VAULT_TOKEN_FILE', { file: tokenFile });
          return cached.token;
        }
        why = 'the cached token was rejected by Vault';
        this.#logger.warn('The cached Vault token was rejected; logging in again', { file: tokenFile });
      } else {
        why = cached.why;
        this.#logger.debug('No usable cached Vault token', { file: tokenFile, why });
      }
    }
    if (username === undefined || password === undefined) {
      throw new VaultError('E_VAULT_AUTH', `no Vault credentials: VAULT_TOKEN is not set, no usable token in VAULT_TOKEN_FILE (${why}), and VAULT_USERNAME and VAULT_PASSWORD are not both set`);
    }
    const fresh = await this.#login(username, password, ttlSec);
    if (tokenFile !== undefined) {
      try {
        await writeCachedToken(tokenFile, fresh);
        this.#logger.debug('Cached the Vault token', { file: tokenFile });
      } catch (err) {
        // The task can still run; only the next launch pays a login.
        this.#logger.warn('Could not cache the Vault token in VAULT_TOKEN_FILE', { file: tokenFile, error: (err as NodeJS.ErrnoException).code ?? 'error' });
      }
    }
    return fresh;
  }

  /** lookup-self: true when Vault knows the token; a 4xx means it expired or was revoked. */
  async #tokenAccepted(token: string): Promise<boolean> {
    const what = 'checking the cached token';
    const res = await this.#send({ what, method: 'GET', apiPath: 'auth/token/lookup-self', token });
    if (res.status === 200) return true;
    if (res.status >= 400 && res.status < 500 && !retryableStatus(res.status)) return false;
    // Vault down or sealed: logging in would fail too, or mint a token for nothing.
    throw this.#statusError('E_VAULT_STATUS', what, res);
  }

  async #login(username: string, password: string, ttlSec: number): Promise<string> {
    const what = 'userpass login';
    const res = await this.#send({
      what, method: 'POST', apiPath: `auth/userpass/login/${encodeURIComponent(username)}`, hideCause: true,
      body: JSON.stringify({ password, ttl: `${ttlSec}s`, max_ttl: `${ttlSec}s` }),
    });
    if (res.status !== 200) throw this.#statusError('E_VAULT_AUTH', what, res);
    let token: unknown;
    try {
      const parsed: unknown = JSON.parse(res.body.toString('utf8'));
      token = isObject(parsed) && isObject(parsed.auth) ? parsed.auth.client_token : undefined;
    } catch { /* reported below */ }
    if (typeof token !== 'string' || token === '') {
      throw new VaultError('E_VAULT_BAD_RESPONSE', `${what}: Vault's answer has no auth.client_token (at ${this.label})`);
    }
    this.#remember(token);
    this.#logger.info('Logged in to Vault with userpass', { ttl: `${ttlSec}s` });
    return token;
  }

  #secretFields(what: string, path: string, body: Buffer): VaultSecretData {
    let parsed: unknown;
    try { parsed = JSON.parse(body.toString('utf8')); } catch { parsed = undefined; }
    const data = isObject(parsed) ? parsed.data : undefined;
    if (!isObject(data)) throw new VaultError('E_VAULT_BAD_RESPONSE', `${what}: Vault's answer holds no secret data (at ${this.label})`, { path });
    // KV v2 wraps the fields: {data: {data: {...}, metadata: {...}}}.
    if (isKv2Path(path) && isObject(data.data) && isObject(data.metadata)) return data.data;
    return data;
  }

  /** Sends one call, retrying what the Go client retries; returns the last answer Vault gave. */
  async #send(call: Call): Promise<HttpResponse> {
    const attempts = 1 + this.#config.maxRetries;
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    if (call.token !== undefined) headers['X-Vault-Token'] = call.token;
    if (this.#config.namespace !== undefined) headers['X-Vault-Namespace'] = this.#config.namespace;
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    const ca = this.#config.caCert ?? this.#config.caPath?.join('\n');
    for (let attempt = 1; ; attempt++) {
      let outcome: string;
      try {
        const res = await request({
          method: call.method, url: `${this.#urlBase}/v1/${call.apiPath}`, socketPath: this.#socketPath, headers,
          body: call.body, timeoutMs: this.#config.timeoutMs,
          tls: { ca, rejectUnauthorized: !this.#config.skipVerify, servername: this.#config.tlsServerName },
        });
        if (!retryableStatus(res.status) || attempt >= attempts) return res;
        outcome = `HTTP ${res.status}`;
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        const detail = transportDetail(err);
        const cause = call.hideCause ? undefined : { cause: err };
        if (TLS_FAILURE.test(detail)) {
          const hint = CERT_FAILURE.test(detail) ? ' (trust its CA with VAULT_CACERT or VAULT_CAPATH)' : '';
          throw new VaultError('E_VAULT_TLS', `${call.what}: TLS with Vault at ${this.label} failed: ${detail}${hint}`, { path: call.path }, cause);
        }
        if (attempt >= attempts) {
          throw new VaultError('E_VAULT_UNREACHABLE', `${call.what}: Vault at ${this.label} unreachable after ${attempts} attempt(s): ${detail}`, { path: call.path }, cause);
        }
        outcome = detail;
      }
      // go-retryablehttp's LinearJitterBackoff: a wait between min and max, times the attempt.
      const { retryWaitMinMs: min, retryWaitMaxMs: max } = this.#config;
      const waitMs = Math.round((min + this.#random() * Math.max(0, max - min)) * attempt);
      this.#logger.warn('Vault request failed, retrying', { request: call.what, attempt, attempts, outcome, waitMs });
      await this.#clock.sleep(waitMs);
    }
  }

  #statusError(code: VaultErrorCode, what: string, res: HttpResponse, path?: string): VaultError {
    let errors: string[] = [];
    let warnings: string[] = [];
    let text: string;
    try {
      const parsed: unknown = JSON.parse(res.body.toString('utf8'));
      if (isObject(parsed)) {
        if (Array.isArray(parsed.errors)) errors = parsed.errors.filter((e): e is string => typeof e === 'string');
        if (Array.isArray(parsed.warnings)) warnings = parsed.warnings.filter((w): w is string => typeof w === 'string');
      }
      text = errors.join('; ');
    } catch {
      text = bodySnippet(res.body, 120);
    }
    const summary = code === 'E_VAULT_NOT_FOUND' ? 'not found' : code === 'E_VAULT_FORBIDDEN' ? 'permission denied' : 'Vault refused';
    const detail = text !== '' && text !== summary ? `: ${this.#scrub(text.slice(0, 200))}` : '';
    const hint = warnings.some((w) => w.includes('versioned K/V')) ? '; the mount is KV v2: use vault://<mount>/data/<path>' : '';
    return new VaultError(code, `${what}: ${summary} (HTTP ${res.status}${detail}) at ${this.label}${hint}`, { path, status: res.status });
  }

  #remember(secret: string | undefined): void {
    if (secret === undefined || secret.length < 4) return;
    this.#logger.redact(secret);
    if (!this.#secrets.includes(secret)) this.#secrets.push(secret);
  }

  #scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('[REDACTED]');
    return out;
  }
}
