// Every Vault failure, with a stable code the lifecycle and tests can match on
// (docs/vault-and-aws.md: any failure fails the task). Messages name the variable, the path and the
// VAULT_* setting at fault; they never carry a token, a password, the username or a secret value,
// because the message ends up in a TASK_FAILED update that no log redaction ever sees.

export type VaultErrorCode =
  /** A `vault://` value that is not a usable reference. */
  | 'E_VAULT_BAD_REF'
  /** A VAULT_* variable that cannot be parsed, or a CA file that cannot be read. */
  | 'E_VAULT_CONFIG'
  /** No usable credentials, or the userpass login was refused. */
  | 'E_VAULT_AUTH'
  /** No answer from Vault (refused, reset, timed out), after the retries. */
  | 'E_VAULT_UNREACHABLE'
  /** Vault's certificate did not verify against the trusted CAs. */
  | 'E_VAULT_TLS'
  /** 403 on a secret read: the token may not read that path. */
  | 'E_VAULT_FORBIDDEN'
  /** 404 (or 204) on a secret read. */
  | 'E_VAULT_NOT_FOUND'
  /** Any other unexpected status, including 5xx after the retries. */
  | 'E_VAULT_STATUS'
  /** A 200 whose body is not a Vault secret. */
  | 'E_VAULT_BAD_RESPONSE'
  /** The secret exists but has no such key. */
  | 'E_VAULT_MISSING_KEY'
  /** The key holds a number, an object ... where an env value needs a string. */
  | 'E_VAULT_NOT_STRING'
  /** Anything else thrown while resolving (a bug): still named after the variable and path. */
  | 'E_VAULT_UNEXPECTED';

export interface VaultErrorDetails {
  /** The env variable whose value referenced Vault. */
  readonly variable?: string;
  /** The Vault path (after /v1/) being read. */
  readonly path?: string;
  readonly status?: number;
}

export class VaultError extends Error {
  override readonly name = 'VaultError';
  readonly variable?: string;
  readonly path?: string;
  readonly status?: number;

  constructor(readonly code: VaultErrorCode, message: string, details: VaultErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.variable = details.variable;
    this.path = details.path;
    this.status = details.status;
  }
}
