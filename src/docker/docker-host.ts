// Where the Docker Engine is and how to speak to it (docs/docker-connection.md), from the variables
// go-dockerclient's NewClientFromEnv reads: DOCKER_HOST (`unix:///path` or `tcp://host[:port]`,
// else /var/run/docker.sock), DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (TLS for tcp://, see
// docker-tls.ts), DOCKER_API_VERSION (paths prefixed `/v<version>`). A value we cannot use is a
// DockerEnvError naming the variable and the value, at start-up, rather than a confusing
// connection failure at the first launch.
// Named imports: a namespace import of a node module becomes esbuild's __toESM copy of all its
// properties, which measured 0.3 MB more private memory per executor (npm run bench).
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { TlsOptions } from '../http/http-request';
import { dockerTlsOptions, dockerTlsWarnings, readDockerTlsFiles, type DockerTlsFiles } from './docker-tls';

export type DockerTarget =
  | { socketPath: string; apiVersion?: string }
  | { baseUrl: string; apiVersion?: string; tls?: TlsOptions };

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** Docker's own defaults for tcp:// without a port: 2375 plain, 2376 with TLS. */
const DEFAULT_TCP_PORT = '2375';
const DEFAULT_TLS_PORT = '2376';

/** A Docker variable we cannot use; its message is the one line the executor prints before exiting. */
export class DockerEnvError extends Error {}

export function parseDockerHost(value: string | undefined, tls = false): { socketPath: string } | { baseUrl: string } {
  if (value === undefined || value === '') return { socketPath: DEFAULT_DOCKER_SOCKET };
  const bad = (why: string): Error => new DockerEnvError(`DOCKER_HOST=${JSON.stringify(value)} is not valid: ${why}`);
  const sep = value.indexOf('://');
  if (sep < 0) throw bad('expected unix:///path/to/docker.sock or tcp://host:port');
  const scheme = value.slice(0, sep).toLowerCase();
  const rest = value.slice(sep + 3);
  if (scheme === 'unix') {
    // A relative socket path would be resolved against the Mesos sandbox, never what was meant.
    if (!rest.startsWith('/')) throw bad('a unix socket path must be absolute (unix:///var/run/docker.sock)');
    return { socketPath: rest };
  }
  if (scheme !== 'tcp') throw bad(`scheme ${JSON.stringify(scheme)} is not supported (use unix:// or tcp://)`);
  if (rest === '' || rest.startsWith(':') || rest.startsWith('/')) throw bad('the host is missing (tcp://host:port)');
  let url: URL;
  try {
    url = new URL(`http://${rest}`);
  } catch {
    throw bad('expected tcp://host:port');
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || (url.pathname !== '/' && url.pathname !== '')) {
    throw bad('expected only tcp://host:port');
  }
  // URL drops a port equal to the scheme default (80); keep what the operator wrote.
  const port = url.port !== '' ? url.port : /:80\/?$/.test(rest) ? '80' : tls ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT;
  return { baseUrl: `${tls ? 'https' : 'http'}://${url.hostname}:${port}` };
}

/**
 * DOCKER_API_VERSION as go-dockerclient's NewAPIVersion reads it (dot-separated integers, written
 * back without leading zeros). Go ignores a value without a dot; we refuse it, like any other
 * value that is not a version, rather than guess.
 */
export function parseApiVersion(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+(\.\d+)+$/.test(value)) throw new DockerEnvError(`DOCKER_API_VERSION=${JSON.stringify(value)} is not valid: expected a version such as 1.41`);
  return value.split('.').map((part) => String(Number(part))).join('.');
}

/** How errors and the log name the engine: the way an operator would write DOCKER_HOST. */
export function describeDockerTarget(target: DockerTarget): string {
  return 'socketPath' in target ? `unix://${target.socketPath}` : target.baseUrl.replace(/^https?:/, 'tcp:');
}

export interface DockerEnv {
  DOCKER_HOST?: string;
  DOCKER_TLS_VERIFY?: string;
  DOCKER_CERT_PATH?: string;
  DOCKER_API_VERSION?: string;
  HOME?: string;
}

export interface DockerConnection {
  target: DockerTarget;
  /** For the start-up log: host, TLS mode and files, API version. */
  fields: Record<string, string | undefined>;
  /** What a setting means that an operator may not expect (TLS files missing, a variable ignored). */
  warnings: string[];
}

/** The user's home as go-dockerclient's homedir.Get finds it: HOME, else the passwd entry. */
function passwdHome(): string {
  try { return userInfo().homedir; } catch { return ''; }
}

export function dockerConnectionFromEnv(env: DockerEnv, homeOf: () => string = passwdHome): DockerConnection {
  // Any non-empty value turns TLS on, "0" and "false" too: so do docker and go-dockerclient.
  const tlsVerify = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '';
  const apiVersion = parseApiVersion(env.DOCKER_API_VERSION);
  const where = parseDockerHost(env.DOCKER_HOST, tlsVerify);
  const warnings: string[] = [];
  if (tlsVerify && /^(0|false)$/i.test(env.DOCKER_TLS_VERIFY!)) {
    warnings.push(`DOCKER_TLS_VERIFY=${env.DOCKER_TLS_VERIFY} turns TLS on: any non-empty value does, as with docker and the Go executor`);
  }
  if (!tlsVerify && env.DOCKER_CERT_PATH) {
    warnings.push('DOCKER_CERT_PATH is set but DOCKER_TLS_VERIFY is not: it is ignored, as by the Go executor, and tcp:// is plain HTTP');
  }
  const version = apiVersion === undefined ? {} : { apiVersion };
  if ('socketPath' in where || !tlsVerify) {
    if (tlsVerify) warnings.push('DOCKER_TLS_VERIFY is set but DOCKER_HOST is a unix socket: TLS does not apply');
    const target = { ...where, ...version };
    return { target, fields: { host: describeDockerTarget(target), tls: 'off', api_version: apiVersion }, warnings };
  }
  const { files, named } = readTlsFiles(env, homeOf);
  let tls: TlsOptions;
  try {
    tls = dockerTlsOptions(files);
  } catch (err) {
    throw new DockerEnvError(`${named} is not usable: ${(err as Error).message}`);
  }
  warnings.push(...dockerTlsWarnings(files));
  const target = { ...where, ...version, tls };
  const mode = files.ca === undefined ? 'unverified' : 'verified';
  const clientCert = files.cert !== undefined && files.key !== undefined ? join(files.dir, 'cert.pem') : 'none';
  return { target, fields: { host: describeDockerTarget(target), tls: mode, cert_path: files.dir, client_cert: clientCert, api_version: apiVersion }, warnings };
}

/** The TLS files, and `named`: how an error names where they came from (the variable and its value). */
function readTlsFiles(env: DockerEnv, homeOf: () => string): { files: DockerTlsFiles; named: string } {
  let dir = env.DOCKER_CERT_PATH;
  let named = `DOCKER_CERT_PATH=${JSON.stringify(dir)}`;
  if (!dir) {
    const home = env.HOME || homeOf();
    // go-dockerclient refuses this case too ("HOME must be set if DOCKER_CERT_PATH is not set").
    if (!home) throw new DockerEnvError('DOCKER_TLS_VERIFY is set, DOCKER_CERT_PATH is not, and HOME is unknown: set DOCKER_CERT_PATH');
    dir = resolve(home, '.docker');
    named = `DOCKER_CERT_PATH (unset, so ${JSON.stringify(dir)})`;
  }
  try {
    return { files: readDockerTlsFiles(dir), named };
  } catch (err) {
    throw new DockerEnvError(`${named} is not usable: ${(err as Error).message}`);
  }
}
