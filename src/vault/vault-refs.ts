// Finding and parsing `vault://<path>[?key=<k>]` env values (docs/vault-and-aws.md). Pure: no I/O,
// no logging. Parsing follows what the Go original accepted through url.Parse, so task definitions
// that worked there work here: the path is host + path (`vault://secret/db` reads `secret/db`),
// percent-escapes are decoded, a `#fragment` is dropped, the first `key` wins and other query
// parameters are ignored (reported back so the caller can warn). It is stricter only where Go
// would have sent a request that could never name a secret: an empty path, empty or relative
// segments, control characters, an empty key. Those fail before Vault is contacted.
import { VaultError } from './vault-error';

export const VAULT_SCHEME = 'vault://';
export const DEFAULT_VAULT_KEY = 'value';

export interface VaultRef {
  /** The secret's path, decoded, without leading or trailing `/` (`secret/hello-service/db`). */
  readonly path: string;
  /** The field of the secret to use; `value` unless `?key=` says otherwise. */
  readonly key: string;
  /** Query parameter names other than `key`, which the Go original ignored too. */
  readonly ignoredParams: readonly string[];
}

export interface VaultRefEntry extends VaultRef {
  /** Position of the entry in the env array. */
  readonly index: number;
  /** The env variable's name (the part before the first `=`). */
  readonly variable: string;
  /** The whole `vault://...` value, as written in the task (not a secret). */
  readonly reference: string;
}

/** True for a value the executor must resolve: it starts with `vault://`, exactly as in Go. */
export function isVaultReference(value: string): boolean {
  return value.startsWith(VAULT_SCHEME);
}

function malformed(variable: string, reference: string, why: string): VaultError {
  return new VaultError('E_VAULT_BAD_REF', `${variable}: malformed Vault reference ${JSON.stringify(reference)}: ${why}`, { variable });
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Parses one `vault://` value; throws E_VAULT_BAD_REF naming `variable`. */
export function parseVaultRef(variable: string, reference: string): VaultRef {
  if (!isVaultReference(reference)) throw malformed(variable, reference, `expected ${VAULT_SCHEME}<path>[?key=<key>]`);
  let rest = reference.slice(VAULT_SCHEME.length);
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const question = rest.indexOf('?');
  const rawPath = question >= 0 ? rest.slice(0, question) : rest;
  const query = question >= 0 ? rest.slice(question + 1) : '';

  if (rawPath === '') throw malformed(variable, reference, 'no path');
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw malformed(variable, reference, 'invalid percent-escape in the path');
  }
  if (CONTROL.test(path)) throw malformed(variable, reference, 'control character in the path');
  const segments = path.split('/');
  if (segments.some((s) => s === '')) throw malformed(variable, reference, 'empty path segment (leading, trailing or double "/")');
  if (segments.some((s) => s === '.' || s === '..')) throw malformed(variable, reference, '"." or ".." in the path');

  const params = new URLSearchParams(query);
  const keys = params.getAll('key');
  const key = keys.length > 0 ? keys[0] : DEFAULT_VAULT_KEY;
  if (key === '') throw malformed(variable, reference, 'empty key');
  if (CONTROL.test(key)) throw malformed(variable, reference, 'control character in the key');
  const ignoredParams = [...new Set([...params.keys()].filter((name) => name !== 'key'))];
  return { path, key, ignoredParams };
}

/**
 * The entries of a `NAME=value` env array whose value is a Vault reference, in order. Entries
 * without `=` are not references (a bare `NAME` is Docker's "take it from the daemon's env").
 * Throws E_VAULT_BAD_REF for the first malformed reference.
 */
export function findVaultRefs(env: readonly string[]): VaultRefEntry[] {
  const found: VaultRefEntry[] = [];
  env.forEach((entry, index) => {
    const eq = entry.indexOf('=');
    if (eq < 0) return;
    const reference = entry.slice(eq + 1);
    if (!isVaultReference(reference)) return;
    const variable = entry.slice(0, eq);
    found.push({ index, variable, reference, ...parseVaultRef(variable, reference) });
  });
  return found;
}
