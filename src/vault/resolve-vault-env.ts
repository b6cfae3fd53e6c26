// Replaces every `vault://` env value with the secret it names, before the container is created
// (docs/vault-and-aws.md). All or nothing: the first failure throws a VaultError naming the
// variable and the path, and the lifecycle fails the task with it (docs/status-updates.md). Vault
// is not contacted, and the client not even built, unless some value needs it: most tasks never
// reference Vault, and building the client may read CA files and log in.
import type { Logger } from '../logging/logger';
import type { VaultClientLike, VaultSecretData } from './vault-client';
import { VaultError } from './vault-error';
import { findVaultRefs } from './vault-refs';

/** A client, or a factory called only when some value references Vault. */
export type VaultClientSource = VaultClientLike | (() => VaultClientLike | Promise<VaultClientLike>);

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Prefixes a failure with the variable (and the path when the message does not name it). */
function forVariable(err: unknown, variable: string, path: string): VaultError {
  if (err instanceof VaultError) {
    const detail = err.path === undefined ? `reading ${path}: ${err.message}` : err.message;
    return new VaultError(err.code, `${variable}: ${detail}`, { variable, path, status: err.status }, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new VaultError('E_VAULT_UNEXPECTED', `${variable}: reading ${path}: ${message}`, { variable, path }, { cause: err });
}

/**
 * A new env array where each `NAME=vault://path?key=k` is `NAME=<field k of the secret>`; other
 * entries are copied as they are. Each secret path is read once even when several variables use
 * it. Each value is registered with `logger.redact` the moment it is read.
 */
export async function resolveVaultEnv(env: readonly string[], source: VaultClientSource, logger: Logger): Promise<string[]> {
  const refs = findVaultRefs(env);
  const out = [...env];
  if (refs.length === 0) return out;

  let client: VaultClientLike | undefined;
  const secrets = new Map<string, Promise<VaultSecretData>>();
  for (const ref of refs) {
    const { variable, path, key } = ref;
    if (ref.ignoredParams.length > 0) {
      logger.warn('Ignoring unknown parameters of a Vault reference', { variable, path, ignored: ref.ignoredParams.join(',') });
    }
    let fields: VaultSecretData;
    try {
      client ??= typeof source === 'function' ? await source() : source;
      let pending = secrets.get(path);
      if (pending === undefined) {
        logger.debug('Fetching Vault secret', { variable, path });
        pending = client.read(path);
        secrets.set(path, pending);
      }
      fields = await pending;
    } catch (err) {
      throw forVariable(err, variable, path);
    }
    const value = fields[key];
    if (typeof value === 'string') logger.redact(value);
    if (value === undefined) {
      throw new VaultError('E_VAULT_MISSING_KEY', `${variable}: Vault secret ${path} has no key ${JSON.stringify(key)}`, { variable, path });
    }
    if (typeof value !== 'string') {
      throw new VaultError('E_VAULT_NOT_STRING', `${variable}: key ${JSON.stringify(key)} of Vault secret ${path} is ${typeName(value)}, not a string`, { variable, path });
    }
    out[ref.index] = `${variable}=${value}`;
    logger.info('Decrypted Vault secret', { variable, path, key });
  }
  return out;
}
