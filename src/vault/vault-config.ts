// The Vault client's settings from the standard Vault client variables plus the Go executor's
// own (docs/vault-and-aws.md; the Go executor's README, "Vault Configuration"). Pure: the caller
// passes the environment, and CA files are only named here; load-vault-config.ts reads them.
// Defaults are the Go client's (hashicorp/vault api.DefaultConfig): https://127.0.0.1:8200, 2
// retries with 1-1.5 s linear jittered backoff, 60 s timeout. As with the Go client, an empty
// variable counts as unset.
import { parseGoDuration } from '../config/durations';
import { parseBool } from '../config/parse-bool';
import { VaultError } from './vault-error';

/** What VaultClient needs, with CA certificates already read (their PEM text). */
export interface VaultConfig {
  /** http(s)://host:port[/prefix], or unix:///path/to/socket (a Vault Agent listener). */
  readonly addr: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly username?: string;
  readonly password?: string;
  /** VAULT_TTL: a new token is renewed to this plus 10 min; a cached one is used for this less 1 h. */
  readonly ttlSec: number;
  /** VAULT_MAX_RETRIES: retries after the first attempt (0 disables retrying). */
  readonly maxRetries: number;
  /** PEM text of VAULT_CACERT or VAULT_CACERT_BYTES: trusted instead of the system roots. */
  readonly caCert?: string;
  /** PEM text of each certificate file in VAULT_CAPATH, when no caCert is set. */
  readonly caPath?: readonly string[];
  /** PEM text of VAULT_CLIENT_CERT and VAULT_CLIENT_KEY: presented to a Vault that requires one. */
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly skipVerify: boolean;
  readonly tlsServerName?: string;
  /** Sent as X-Vault-Namespace (Vault Enterprise). */
  readonly namespace?: string;
  /** Bound on each request attempt (VAULT_CLIENT_TIMEOUT). */
  readonly timeoutMs: number;
  readonly retryWaitMinMs: number;
  readonly retryWaitMaxMs: number;
}

/** The parsed environment: VaultConfig with CA sources named, not yet read. */
export interface VaultEnvConfig extends Omit<VaultConfig, 'caCert' | 'caPath' | 'clientCert' | 'clientKey'> {
  /** VAULT_CACERT: a PEM file; wins over the two below, as in the Go client. */
  readonly caCertFile?: string;
  /** VAULT_CACERT_BYTES: PEM text in the variable itself. */
  readonly caCertBytes?: string;
  /** VAULT_CAPATH: a directory of PEM files. */
  readonly caPathDir?: string;
  /** VAULT_CLIENT_CERT and VAULT_CLIENT_KEY: PEM files, both or neither (as in the Go client). */
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
}

export const VAULT_DEFAULTS = {
  addr: 'https://127.0.0.1:8200',
  ttlSec: 86_400,
  maxRetries: 2,
  timeoutMs: 60_000,
  retryWaitMinMs: 1000,
  retryWaitMaxMs: 1500,
} as const;

type Env = Readonly<Record<string, string | undefined>>;

function invalid(variable: string, value: string, expected: string): VaultError {
  return new VaultError('E_VAULT_CONFIG', `${variable}=${JSON.stringify(value)} is not valid: expected ${expected}`);
}

function get(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function nonNegativeInt(env: Env, name: string, fallback: number, min = 0): number {
  const text = get(env, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw invalid(name, text, min > 0 ? `a whole number of at least ${min}` : 'a whole number (0 or more)');
  }
  return Number(text);
}

function address(env: Env): string {
  // VAULT_AGENT_ADDR wins over VAULT_ADDR, as in the Go client's NewClient.
  const name = get(env, 'VAULT_AGENT_ADDR') !== undefined ? 'VAULT_AGENT_ADDR' : 'VAULT_ADDR';
  const text = get(env, name);
  if (text === undefined) return VAULT_DEFAULTS.addr;
  let url: URL;
  try { url = new URL(text); } catch { throw invalid(name, text, 'a URL such as https://vault.example.com:8200'); }
  if (url.protocol === 'unix:') {
    if (url.pathname === '' || url.pathname === '/') throw invalid(name, text, 'unix:///path/to/socket');
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(name, text, 'an http://, https:// or unix:// URL');
  } else if (url.search !== '' || url.hash !== '') {
    throw invalid(name, text, 'a URL without query or fragment');
  }
  return text;
}

function clientTimeout(env: Env): number {
  // Go's parseutil.ParseDurationSecond: a bare number is seconds, else a Go duration; 0 keeps
  // the default, as the Go client ignores a zero timeout.
  const text = get(env, 'VAULT_CLIENT_TIMEOUT');
  if (text === undefined) return VAULT_DEFAULTS.timeoutMs;
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : parseGoDuration(text);
  if (ms === undefined || ms < 0 || !Number.isFinite(ms)) throw invalid('VAULT_CLIENT_TIMEOUT', text, 'seconds or a Go duration such as 30s');
  return ms === 0 ? VAULT_DEFAULTS.timeoutMs : ms;
}

/** The Go client refuses one without the other ("both client cert and client key must be provided"). */
function clientCertFiles(env: Env): { clientCertFile?: string; clientKeyFile?: string } {
  const clientCertFile = get(env, 'VAULT_CLIENT_CERT');
  const clientKeyFile = get(env, 'VAULT_CLIENT_KEY');
  if ((clientCertFile === undefined) !== (clientKeyFile === undefined)) {
    const set = clientCertFile !== undefined ? 'VAULT_CLIENT_CERT' : 'VAULT_CLIENT_KEY';
    throw new VaultError('E_VAULT_CONFIG', `VAULT_CLIENT_CERT and VAULT_CLIENT_KEY must be set together: only ${set} is set`);
  }
  return { clientCertFile, clientKeyFile };
}

function skipVerify(env: Env): boolean {
  const text = get(env, 'VAULT_SKIP_VERIFY');
  if (text === undefined) return false;
  const value = parseBool(text);
  if (value === undefined) throw invalid('VAULT_SKIP_VERIFY', text, 'a boolean (1, t, true, 0, f, false ...)');
  return value;
}

/**
 * Reads VAULT_ADDR (or VAULT_AGENT_ADDR), VAULT_TOKEN, VAULT_TOKEN_FILE, VAULT_USERNAME,
 * VAULT_PASSWORD, VAULT_TTL, VAULT_MAX_RETRIES, VAULT_CACERT, VAULT_CACERT_BYTES, VAULT_CAPATH,
 * VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_SKIP_VERIFY, VAULT_TLS_SERVER_NAME, VAULT_NAMESPACE
 * and VAULT_CLIENT_TIMEOUT. Throws
 * E_VAULT_CONFIG naming the variable and its value for anything unparsable (none of the
 * secret variables is ever parsed, so none is ever quoted).
 */
export function vaultConfigFromEnv(env: Env): VaultEnvConfig {
  return Object.freeze({
    addr: address(env),
    token: get(env, 'VAULT_TOKEN'),
    tokenFile: get(env, 'VAULT_TOKEN_FILE'),
    username: get(env, 'VAULT_USERNAME'),
    password: get(env, 'VAULT_PASSWORD'),
    ttlSec: nonNegativeInt(env, 'VAULT_TTL', VAULT_DEFAULTS.ttlSec, 1),
    maxRetries: nonNegativeInt(env, 'VAULT_MAX_RETRIES', VAULT_DEFAULTS.maxRetries),
    caCertFile: get(env, 'VAULT_CACERT'),
    caCertBytes: get(env, 'VAULT_CACERT_BYTES'),
    caPathDir: get(env, 'VAULT_CAPATH'),
    ...clientCertFiles(env),
    skipVerify: skipVerify(env),
    tlsServerName: get(env, 'VAULT_TLS_SERVER_NAME'),
    namespace: get(env, 'VAULT_NAMESPACE'),
    timeoutMs: clientTimeout(env),
    retryWaitMinMs: VAULT_DEFAULTS.retryWaitMinMs,
    retryWaitMaxMs: VAULT_DEFAULTS.retryWaitMaxMs,
  });
}
