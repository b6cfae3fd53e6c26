// TLS to a tcp:// Docker engine, set up as go-dockerclient's NewClientFromEnv does
// (docs/docker-connection.md): ca.pem, cert.pem and key.pem in one directory. Like its
// NewVersionedTLSClient we skip a file that does not exist: without ca.pem the engine's certificate
// is not verified (InsecureSkipVerify), without both cert.pem and key.pem no client certificate is
// sent. Each gap is a warning here, not silence. A file that exists but cannot be read or parsed is
// an error there and here. Errors and warnings name files, never their content (key.pem is a
// secret). node:tls is loaded only by dockerTlsOptions, called only when TLS is on: it costs
// memory. Named imports, as in docker-host.ts: they keep esbuild from copying the whole module.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsOptions } from '../http/http-request';

export const TLS_FILE_NAMES = ['ca.pem', 'cert.pem', 'key.pem'] as const;

export interface DockerTlsFiles {
  /** The directory they were read from (DOCKER_CERT_PATH, or $HOME/.docker). */
  dir: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/**
 * Reads the three files; one that does not exist is left out (as os.IsNotExist in Go). Throws
 * when one cannot be read, or when none is there: TLS that neither verifies the engine nor
 * presents a certificate is never what DOCKER_TLS_VERIFY asks for (a mistyped DOCKER_CERT_PATH).
 */
export function readDockerTlsFiles(dir: string): DockerTlsFiles {
  const files: DockerTlsFiles = { dir };
  for (const name of TLS_FILE_NAMES) {
    const file = join(dir, name);
    try {
      files[name.slice(0, -4) as 'ca' | 'cert' | 'key'] = readFileSync(file);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw new Error(`cannot read ${file}: ${errorCode(err)}`);
    }
  }
  if (files.ca === undefined && files.cert === undefined && files.key === undefined) {
    const isDir = statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
    throw new Error(isDir ? `none of ${TLS_FILE_NAMES.join(', ')} is in ${dir}` : `${dir} is not a directory`);
  }
  return files;
}

/** What the missing files mean, for the start-up log. */
export function dockerTlsWarnings(files: DockerTlsFiles): string[] {
  const warnings: string[] = [];
  const where = (name: string): string => join(files.dir, name);
  if (files.ca === undefined) {
    warnings.push(`${where('ca.pem')} does not exist: the Docker engine's certificate is not verified (as go-dockerclient does without it)`);
  }
  if (files.cert === undefined || files.key === undefined) {
    const missing = [files.cert === undefined ? 'cert.pem' : '', files.key === undefined ? 'key.pem' : ''].filter(Boolean).join(' and ');
    warnings.push(`${missing} not in ${files.dir}: no client certificate is sent to the Docker engine`);
  }
  return warnings;
}

/** The PEM certificates in ca.pem, each checked: Go's AppendCertsFromPEM fails when none parses. */
function caCertificates(files: DockerTlsFiles): string[] {
  const { X509Certificate } = require('node:crypto') as typeof import('node:crypto');
  const blocks = files.ca!.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const parsed = blocks.filter((block) => {
    try { return new X509Certificate(block) !== undefined; } catch { return false; }
  });
  if (parsed.length === 0) throw new Error(`${join(files.dir, 'ca.pem')} holds no PEM certificate`);
  return parsed;
}

/**
 * Request options for the engine's https:// URL: one secure context for every connection, the
 * engine's certificate checked against ca.pem alone (Go's RootCAs), as its host name or IP.
 * Throws on files that do not parse, naming the file and OpenSSL's reason.
 */
export function dockerTlsOptions(files: DockerTlsFiles): TlsOptions {
  const ca = files.ca === undefined ? undefined : caCertificates(files);
  const withClientCert = files.cert !== undefined && files.key !== undefined;
  const tls = require('node:tls') as typeof import('node:tls');
  try {
    const secureContext = tls.createSecureContext({ ca, cert: withClientCert ? files.cert : undefined, key: withClientCert ? files.key : undefined });
    return { secureContext, rejectUnauthorized: ca !== undefined };
  } catch (err) {
    throw new Error(`cert.pem and key.pem in ${files.dir} are not a usable certificate and key: ${(err as Error).message}`);
  }
}

/**
 * A failed handshake or certificate check, for an error message: OpenSSL's ERR_SSL_* (an alert
 * from the engine, such as "bad certificate" without a client certificate), node's ERR_TLS_*, or
 * a verification code; OpenSSL's words without its error code and source location.
 */
export function describeTlsFailure(cause: NodeJS.ErrnoException): string | undefined {
  const code = cause.code ?? '';
  if (!/^(ERR_SSL_|ERR_TLS_|ERR_OSSL_)|CERT|UNABLE_TO_|SELF_SIGNED/.test(code)) return undefined;
  const reason = /routines:[^:]*:([^:]+)/.exec(cause.message)?.[1]?.trim() ?? cause.message;
  return `TLS failed: ${code} (${reason}; see DOCKER_CERT_PATH)`;
}
