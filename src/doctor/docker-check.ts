// doctor's Docker check: the connection DOCKER_HOST and the TLS variables describe (as the
// executor would make it), and the engine's answer to GET /version, bounded.
import { DockerEnvError, dockerConnectionFromEnv, type DockerConnection } from '../docker/docker-host';
import { EngineError } from '../docker/engine-api';
import { DockerEngineClient } from '../docker/engine-client';
import { fail, ok, warn, type Finding } from './findings';

/** A healthy engine answers /version in milliseconds; a hung one must not hold doctor up. */
export const DOCKER_TIMEOUT_MS = 3000;

/** ` (TLS verified)`, ` (no TLS)`: how a tcp:// engine is spoken to; nothing for a unix socket. */
function tlsMode(connection: DockerConnection): string {
  const { host, tls } = connection.fields;
  if (!host?.startsWith('tcp:')) return '';
  return tls === 'off' ? ' (no TLS)' : ` (TLS ${tls})`;
}

/** `at tcp://10.0.0.5:2376 (TLS verified)`: where, and how, as the start-up log says it. */
function described(connection: DockerConnection): string {
  const apiVersion = connection.fields.api_version;
  return `at ${connection.fields.host}${tlsMode(connection)}${apiVersion === undefined ? '' : `, requests pinned to API ${apiVersion} (DOCKER_API_VERSION)`}`;
}

export async function checkDocker(env: NodeJS.ProcessEnv): Promise<Finding[]> {
  let connection: DockerConnection;
  try {
    connection = dockerConnectionFromEnv(env);
  } catch (err) {
    if (err instanceof DockerEnvError) return [fail('docker', err.message)];
    throw err;
  }
  const warnings = connection.warnings.map((text) => warn('docker', text));
  try {
    const engine = new DockerEngineClient(connection.target, { requestTimeoutMs: DOCKER_TIMEOUT_MS });
    const { version, apiVersion } = await engine.version();
    return [ok('docker', `engine ${version} (API ${apiVersion}) ${described(connection)}`), ...warnings];
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    // Unreachable: the client's message names the engine and why (no socket, refused, TLS, no
    // answer). Any other answer (a DOCKER_API_VERSION the engine refuses) does not name it.
    const text = err.code === 'E_ENGINE_UNREACHABLE' ? `${err.message}${tlsMode(connection)}` : `the engine ${described(connection)}: ${err.message}`;
    return [fail('docker', text), ...warnings];
  }
}
