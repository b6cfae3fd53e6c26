// One Vault server as the executor speaks to it (docs/vault-and-aws.md): every request goes through
// here, with the address, TLS (CA, client certificate), namespace and retry settings of
// VaultConfig. Retries follow the Go client's defaults (hashicorp/vault api.DefaultRetryPolicy:
// connection failures, 412, 429 and 5xx but 501; linear jittered backoff), bounded by
// VAULT_MAX_RETRIES. Every secret the callers learn is registered here: redacted from the log,
// scrubbed from the text Vault sends back before it goes into an error message.
import { systemClock, type Clock } from '../clock';
import { bodySnippet, HttpError, request, type HttpResponse } from '../http/http-request';
import type { Logger } from '../logging/logger';
import type { VaultConfig } from './vault-config';
import { VaultError, type VaultErrorCode } from './vault-error';

export interface VaultHttpDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Jitter in [0, 1) for the backoff; injectable so tests can pin the waits. */
  readonly random?: () => number;
}

export interface VaultCall {
  /** What the call does, for messages: "reading secret/db", "userpass login". */
  readonly what: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  /** After /v1/, already escaped. */
  readonly apiPath: string;
  readonly token?: string;
  /** A JSON object; never part of any message (it may carry a password or a token). */
  readonly body?: Record<string, unknown>;
  /** The secret path, for errors about a read. */
  readonly path?: string;
  /** Login URLs carry the username: their HttpError must not ride along as the cause. */
  readonly hideCause?: boolean;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** 412 (Enterprise eventual consistency), 429 and 5xx but 501 (not initialised) are worth another try. */
export const retryableStatus = (status: number): boolean => status === 412 || status === 429 || (status >= 500 && status !== 501);

const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO/;
const CERT_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;
/** The server's alerts when it wants a client certificate it did not get (or did not accept). */
const CLIENT_CERT_FAILURE = /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA|ALERT_CERTIFICATE/;

/** The transport failure in one word (ECONNREFUSED, a TLS code), never the URL it was for. */
function transportDetail(err: HttpError): string {
  if (err.code === 'E_HTTP_TIMEOUT') return 'timed out';
  return (err.cause as NodeJS.ErrnoException | undefined)?.code ?? (err.code === 'E_HTTP_BODY' ? 'answer cut off' : 'connection failed');
}

export class VaultHttp {
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

  constructor(config: VaultConfig, deps: VaultHttpDeps) {
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
    this.remember(config.token);
    this.remember(config.password);
    // The username is kept out of messages but not registered for redaction: a common word
    // (`executor`, `mesos`) would blank it out of every log line; it is kept out of
    // the log by name instead (docs/logs.md), and nothing here logs it).
    if (config.username !== undefined && config.username.length >= 4) this.#secrets.push(config.username);
  }

  get logger(): Logger { return this.#logger; }
  get clock(): Clock { return this.#clock; }

  /** Sends one call, retrying what the Go client retries; returns the last answer Vault gave. */
  async send(call: VaultCall): Promise<HttpResponse> {
    const attempts = 1 + this.#config.maxRetries;
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    if (call.token !== undefined) headers['X-Vault-Token'] = call.token;
    if (this.#config.namespace !== undefined) headers['X-Vault-Namespace'] = this.#config.namespace;
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const { caCert, caPath, clientCert, clientKey, skipVerify, tlsServerName } = this.#config;
    const tls = { ca: caCert ?? caPath?.join('\n'), cert: clientCert, key: clientKey, rejectUnauthorized: !skipVerify, servername: tlsServerName };
    for (let attempt = 1; ; attempt++) {
      let outcome: string;
      try {
        const res = await request({
          method: call.method, url: `${this.#urlBase}/v1/${call.apiPath}`, socketPath: this.#socketPath, headers,
          body, timeoutMs: this.#config.timeoutMs, tls,
        });
        if (!retryableStatus(res.status) || attempt >= attempts) return res;
        outcome = `HTTP ${res.status}`;
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        const detail = transportDetail(err);
        const cause = call.hideCause ? undefined : { cause: err };
        if (TLS_FAILURE.test(detail)) {
          throw new VaultError('E_VAULT_TLS', `${call.what}: TLS with Vault at ${this.label} failed: ${detail}${this.#tlsHint(detail)}`, { path: call.path }, cause);
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

  #tlsHint(detail: string): string {
    if (CLIENT_CERT_FAILURE.test(detail)) {
      return this.#config.clientCert === undefined
        ? ' (Vault may require a client certificate: set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)'
        : ' (Vault refused the client certificate of VAULT_CLIENT_CERT)';
    }
    return CERT_FAILURE.test(detail) ? ' (trust its CA with VAULT_CACERT or VAULT_CAPATH)' : '';
  }

  /** The JSON object of a 2xx answer, or E_VAULT_BAD_RESPONSE naming what was asked. */
  json(what: string, res: HttpResponse, path?: string): Record<string, unknown> {
    let parsed: unknown;
    try { parsed = JSON.parse(res.body.toString('utf8')); } catch { parsed = undefined; }
    if (!isObject(parsed)) throw new VaultError('E_VAULT_BAD_RESPONSE', `${what}: Vault's answer is not a JSON object (at ${this.label})`, { path });
    return parsed;
  }

  /** A VaultError for an answer with an unexpected status, with Vault's own errors (scrubbed). */
  statusError(code: VaultErrorCode, what: string, res: HttpResponse, path?: string): VaultError {
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
    const detail = text !== '' && text !== summary ? `: ${this.scrub(text.replace(/\s+/g, ' ').trim().slice(0, 200))}` : '';
    const hint = warnings.some((w) => w.includes('versioned K/V')) ? '; the mount is KV v2: use vault://<mount>/data/<path>' : '';
    return new VaultError(code, `${what}: ${summary} (HTTP ${res.status}${detail}) at ${this.label}${hint}`, { path, status: res.status });
  }

  /** Registers a secret the moment it is known: redacted from every log line, scrubbed from messages. */
  remember(secret: string | undefined): void {
    if (secret === undefined || secret.length < 4) return;
    this.#logger.redact(secret);
    if (!this.#secrets.includes(secret)) this.#secrets.push(secret);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('[REDACTED]');
    return out;
  }
}
