// Where the Docker Engine is (CONTRACT §1): DOCKER_HOST as `unix:///path` or `tcp://host[:port]`,
// else /var/run/docker.sock. Pure: the caller passes the variable's value. A value we cannot use
// is an error at start-up rather than a confusing connection failure at the first launch.

export type DockerTarget = { socketPath: string } | { baseUrl: string };

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** Docker's own default for tcp:// without a port (plain HTTP; we do not speak the TLS variant). */
const DEFAULT_TCP_PORT = '2375';

export function parseDockerHost(value: string | undefined): DockerTarget {
  if (value === undefined || value === '') return { socketPath: DEFAULT_DOCKER_SOCKET };
  const bad = (why: string): Error => new Error(`DOCKER_HOST=${JSON.stringify(value)} is not valid: ${why}`);
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
  const port = url.port !== '' ? url.port : /:80\/?$/.test(rest) ? '80' : DEFAULT_TCP_PORT;
  return { baseUrl: `http://${url.hostname}:${port}` };
}

/** How errors name the engine: the way an operator would write DOCKER_HOST. */
export function describeDockerTarget(target: DockerTarget): string {
  return 'socketPath' in target ? `unix://${target.socketPath}` : target.baseUrl.replace(/^http:/, 'tcp:');
}
