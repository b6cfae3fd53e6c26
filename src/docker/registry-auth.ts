// Registry credentials for pulls (docs/docker-connection.md): the Docker config file's
// `auths` entry (or a legacy ~/.dockercfg's top-level entry) for EXECUTOR_DOCKER_REPOSITORY.
// `findRegistryAuth` is pure; `loadRegistryAuth` searches the files go-dockerclient's
// NewAuthConfigurationsFromDockerCfg reads, then again with HOME=/root as the Go executor
// does, and says which file and entry it used. No error or report ever carries a credential
// or the file's content.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RegistryAuth } from './engine-api';

/** Docker Hub's names, all meaning the same registry (docker/cli's IndexServer and aliases). */
const DOCKER_HUB_HOSTS = new Set(['index.docker.io', 'docker.io', 'registry-1.docker.io']);

/** As docker/cli's ConvertToHostname: no scheme, no path; plus one name for Docker Hub. */
export function registryHostname(address: string): string {
  let host = address.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  host = host.toLowerCase();
  return DOCKER_HUB_HOSTS.has(host) ? 'index.docker.io' : host;
}

type Entry = Record<string, unknown>;

function isObject(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `auths` map; a legacy ~/.dockercfg-shaped file has the entries at the top level. */
function authEntries(config: Entry): Entry {
  if (isObject(config.auths)) return config.auths;
  const legacy: Entry = {};
  for (const [key, value] of Object.entries(config)) {
    if (isObject(value) && typeof value.auth === 'string') legacy[key] = value;
  }
  return legacy;
}

export function findRegistryAuth(configJson: unknown, repository: string): RegistryAuth | undefined {
  if (!isObject(configJson)) throw new Error('Docker config is not a JSON object');
  const entries = authEntries(configJson);
  let key: string | undefined = Object.prototype.hasOwnProperty.call(entries, repository) ? repository : undefined;
  if (key === undefined) {
    const wanted = registryHostname(repository);
    // Sorted, so which of two equivalent entries wins does not depend on the file's key order.
    key = Object.keys(entries).sort().find((k) => registryHostname(k) === wanted);
  }
  if (key === undefined) return undefined;
  const entry = entries[key];
  if (!isObject(entry)) throw new Error(`Docker config: the auths entry ${JSON.stringify(key)} is not an object`);
  return toRegistryAuth(key, entry);
}

function toRegistryAuth(key: string, entry: Entry): RegistryAuth | undefined {
  const result: RegistryAuth = { serveraddress: key };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    // "user:password" in base64, split at the first colon (passwords may contain colons).
    // Node's decoder skips bad characters silently; a corrupt entry should be an error instead.
    const encoded = entry.auth.trim();
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new Error(`Docker config: the auth field of ${JSON.stringify(key)} is not base64 of "username:password"`);
    result.username = decoded.slice(0, colon);
    result.password = decoded.slice(colon + 1);
  } else {
    if (typeof entry.username === 'string') result.username = entry.username;
    if (typeof entry.password === 'string') result.password = entry.password;
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') result.identitytoken = entry.identitytoken;
  // An entry with nothing in it (credentials in a credsStore helper) gives the engine nothing.
  if (result.username === undefined && result.password === undefined && result.identitytoken === undefined) return undefined;
  return result;
}

export type ReadFile = (file: string, encoding: 'utf8') => string;

export interface RegistryAuthEnv { DOCKER_CONFIG?: string; HOME?: string }

/**
 * The files searched, in order: go-dockerclient's cfgPaths ($DOCKER_CONFIG/config.json,
 * $HOME/.docker/config.json, $HOME/.dockercfg), then the same with HOME=/root, as the Go executor
 * retries (Mesos agents often start executors without HOME). A file is listed once.
 */
export function registryAuthFiles(env: RegistryAuthEnv): string[] {
  const forHome = (home: string | undefined): string[] => [
    ...(env.DOCKER_CONFIG ? [path.join(env.DOCKER_CONFIG, 'config.json')] : []),
    ...(home ? [path.join(home, '.docker', 'config.json'), path.join(home, '.dockercfg')] : []),
  ];
  return [...new Set([...forHome(env.HOME), ...forHome('/root')])];
}

export interface RegistryAuthSearch {
  auth?: RegistryAuth;
  /** Where `auth` came from: the file, and the key of its entry. */
  file?: string;
  entry?: string;
  /** Every file looked at, in order, up to the one used. */
  searched: string[];
  /** Files that exist but could not be used, and why (never their content). */
  skipped: { file: string; reason: string }[];
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * The credentials for `repository` from the first file, in registryAuthFiles order, with an
 * entry for it that holds credentials. A file that cannot be read or parsed is skipped, as
 * go-dockerclient skips it (NewAuthConfigurationsFromDockerCfg tries the next path), and reported.
 * Unlike the Go executor, a file without the entry does not end the search (Go stops at the
 * first file it can parse, then tries once more with HOME=/root): the next file may have it.
 */
export function loadRegistryAuth(env: RegistryAuthEnv, repository: string, readFile: ReadFile = fs.readFileSync): RegistryAuthSearch {
  const result: RegistryAuthSearch = { searched: [], skipped: [] };
  for (const file of registryAuthFiles(env)) {
    result.searched.push(file);
    let text: string;
    try {
      text = readFile(file, 'utf8');
    } catch (err) {
      if (!isMissing(err)) result.skipped.push({ file, reason: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'read error'}` });
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not the parser's message: it quotes the text around the error, which may be a credential.
      result.skipped.push({ file, reason: 'not valid JSON' });
      continue;
    }
    try {
      const auth = findRegistryAuth(parsed, repository);
      if (auth !== undefined) return { ...result, auth, file, entry: auth.serveraddress };
    } catch (err) {
      result.skipped.push({ file, reason: (err as Error).message });
    }
  }
  return result;
}
