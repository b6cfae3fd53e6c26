// Turns the parsed environment into a VaultConfig by reading the CA certificates it names. Kept
// apart from the pure parser so start-up can parse without touching files, and so the files are
// read only when a task actually references Vault (CONTRACT §8). Precedence is the Go client's
// (go-rootcerts): VAULT_CACERT, else VAULT_CACERT_BYTES, else VAULT_CAPATH.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { VaultConfig, VaultEnvConfig } from './vault-config';
import { VaultError } from './vault-error';

const PEM_CERT = '-----BEGIN CERTIFICATE-----';

function unreadable(variable: string, file: string, cause: unknown): VaultError {
  const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
  return new VaultError('E_VAULT_CONFIG', `${variable}: cannot read ${file}: ${code}`, {}, { cause });
}

async function readPemFile(variable: string, file: string): Promise<string> {
  let text: string;
  try { text = await readFile(file, 'utf8'); } catch (err) { throw unreadable(variable, file, err); }
  if (!text.includes(PEM_CERT)) throw new VaultError('E_VAULT_CONFIG', `${variable}: ${file} holds no PEM certificate`);
  return text;
}

/**
 * Every regular file of the directory that holds a PEM certificate. Unlike go-rootcerts, other
 * files are skipped rather than fatal and subdirectories are not walked, so a distribution's
 * /etc/ssl/certs (with its java/ keystore) works as a VAULT_CAPATH.
 */
async function readPemDir(dir: string): Promise<string[]> {
  let names: string[];
  try { names = (await readdir(dir)).sort(); } catch (err) { throw unreadable('VAULT_CAPATH', dir, err); }
  const pems: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      if (!(await stat(file)).isFile()) continue;
      const text = await readFile(file, 'utf8');
      if (text.includes(PEM_CERT)) pems.push(text);
    } catch (err) {
      throw unreadable('VAULT_CAPATH', file, err);
    }
  }
  if (pems.length === 0) throw new VaultError('E_VAULT_CONFIG', `VAULT_CAPATH: no PEM certificate in ${dir}`);
  return pems;
}

/** Reads the CA certificates named by the environment; throws E_VAULT_CONFIG naming the variable. */
export async function loadVaultConfig(envConfig: VaultEnvConfig): Promise<VaultConfig> {
  const { caCertFile, caCertBytes, caPathDir, ...rest } = envConfig;
  let caCert: string | undefined;
  let caPath: string[] | undefined;
  if (caCertFile !== undefined) caCert = await readPemFile('VAULT_CACERT', caCertFile);
  else if (caCertBytes !== undefined) {
    if (!caCertBytes.includes(PEM_CERT)) throw new VaultError('E_VAULT_CONFIG', 'VAULT_CACERT_BYTES holds no PEM certificate');
    caCert = caCertBytes;
  } else if (caPathDir !== undefined) caPath = await readPemDir(caPathDir);
  return Object.freeze({ ...rest, caCert, caPath });
}
