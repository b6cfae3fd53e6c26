// Turns the parsed environment into a VaultConfig by reading the certificates it names. Kept
// apart from the pure parser so start-up can parse without touching files, and so the files are
// read only when a task actually uses Vault (docs/vault-and-aws.md). CA precedence is the Go
// client's (go-rootcerts): VAULT_CACERT, else VAULT_CACERT_BYTES, else VAULT_CAPATH. No message
// quotes a file's content: the client key is a secret.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { VaultConfig, VaultEnvConfig } from './vault-config';
import { VaultError } from './vault-error';

const PEM_CERT = '-----BEGIN CERTIFICATE-----';
const PEM_KEY = /-----BEGIN (?:RSA |EC |)PRIVATE KEY-----/;

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

/**
 * The client certificate and key, checked as a pair now (tls.createSecureContext) so that a
 * mismatch is a clear configuration error rather than a handshake failure at the first request.
 */
async function readClientCert(certFile: string, keyFile: string): Promise<{ clientCert: string; clientKey: string }> {
  const clientCert = await readPemFile('VAULT_CLIENT_CERT', certFile);
  let clientKey: string;
  try { clientKey = await readFile(keyFile, 'utf8'); } catch (err) { throw unreadable('VAULT_CLIENT_KEY', keyFile, err); }
  if (!PEM_KEY.test(clientKey)) {
    throw new VaultError('E_VAULT_CONFIG', `VAULT_CLIENT_KEY: ${keyFile} holds no unencrypted PEM private key`);
  }
  try {
    (require('node:tls') as typeof import('node:tls')).createSecureContext({ cert: clientCert, key: clientKey });
  } catch (err) {
    // OpenSSL's reason ("key values mismatch"), never the key.
    const reason = (err as Error).message.replace(/\s+/g, ' ').slice(0, 120);
    throw new VaultError('E_VAULT_CONFIG', `VAULT_CLIENT_CERT and VAULT_CLIENT_KEY (${certFile}, ${keyFile}) cannot be used together: ${reason}`);
  }
  return { clientCert, clientKey };
}

/** Reads the certificates named by the environment; throws E_VAULT_CONFIG naming the variable. */
export async function loadVaultConfig(envConfig: VaultEnvConfig): Promise<VaultConfig> {
  const { caCertFile, caCertBytes, caPathDir, clientCertFile, clientKeyFile, ...rest } = envConfig;
  let caCert: string | undefined;
  let caPath: string[] | undefined;
  if (caCertFile !== undefined) caCert = await readPemFile('VAULT_CACERT', caCertFile);
  else if (caCertBytes !== undefined) {
    if (!caCertBytes.includes(PEM_CERT)) throw new VaultError('E_VAULT_CONFIG', 'VAULT_CACERT_BYTES holds no PEM certificate');
    caCert = caCertBytes;
  } else if (caPathDir !== undefined) caPath = await readPemDir(caPathDir);
  const client = clientCertFile !== undefined && clientKeyFile !== undefined ? await readClientCert(clientCertFile, clientKeyFile) : {};
  return Object.freeze({ ...rest, caCert, caPath, ...client });
}
