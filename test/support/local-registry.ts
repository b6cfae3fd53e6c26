// A real, password-protected Docker registry on 127.0.0.1 for the pull-with-auth tests: Debian's
// docker-registry (distribution 2.8) with htpasswd auth, storage in a temp dir. dockerd treats
// 127.0.0.0/8 registries as insecure, so plain HTTP works without certificates. The docker CLI
// is logged in with its own DOCKER_CONFIG temp dir, so /root/.docker is never touched.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { request } from '../../src/http/http-request';

export interface LocalRegistry {
  port: number;
  /** The pushed image, `127.0.0.1:<port>/sce-test-<random>:v1`; its local tag is left in place. */
  image: string;
  username: string;
  password: string;
  /** The DOCKER_CONFIG dir `docker login` wrote its config.json into. */
  dockerConfigDir: string;
  /**
   * Pushes a new image whose top layer is then deleted from the registry's storage, and removes
   * it locally: pulling it makes dockerd answer 200 and report "unknown blob" mid-stream.
   */
  pushImageWithMissingLayer(): Promise<string>;
  /** Stops the registry, removes its storage and the local tag of `image`. Safe to call twice. */
  stop(): Promise<void>;
}

const REGISTRY_BINARY = '/usr/bin/docker-registry';
const READY_TIMEOUT_MS = 20_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a command; on failure, throws with its stderr (none of ours print the password). */
function run(command: string, args: string[], input?: string): string {
  try {
    return execFileSync(command, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { status?: number; stderr?: string; message: string };
    throw new Error(`${command} ${args[0] ?? ''} ${args[1] ?? ''} failed (${e.status ?? e.message}): ${e.stderr ?? ''}`.trim());
  }
}

async function waitUntilAnswering(port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited early: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    try {
      // 401 is the answer we want: the registry is up and asks for credentials.
      const res = await request({ url: `http://127.0.0.1:${port}/v2/`, timeoutMs: 1000 });
      if (res.status === 401) return;
      throw new Error(`docker-registry answered /v2/ with ${res.status}, expected 401`);
    } catch (err) {
      if ((err as Error).message.includes('expected 401')) throw err;
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startLocalRegistry(sourceImage = 'sidecar-executor-test:latest'): Promise<LocalRegistry> {
  if (!fs.existsSync(REGISTRY_BINARY)) throw new Error(`${REGISTRY_BINARY} is missing: apt-get install -y docker-registry apache2-utils`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sce-registry-'));
  const dockerConfig = path.join(dir, 'docker-config');
  fs.mkdirSync(dockerConfig);
  const username = 'sce-user';
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  const image = `127.0.0.1:${port}/sce-test-${randomBytes(4).toString('hex')}:v1`;
  const logFile = path.join(dir, 'registry.log');
  let child: ChildProcess | undefined;
  const localTags: string[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const tag of localTags) {
      try { run('docker', ['image', 'rm', tag]); } catch { /* already removed by the test */ }
    }
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    fs.writeFileSync(path.join(dir, 'htpasswd'), run('htpasswd', ['-Bbn', username, password]));
    fs.writeFileSync(path.join(dir, 'config.yml'), [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'storage')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      'auth:',
      '  htpasswd:',
      '    realm: sce-test',
      `    path: ${path.join(dir, 'htpasswd')}`,
      '',
    ].join('\n'));
    const log = fs.openSync(logFile, 'w');
    child = spawn(REGISTRY_BINARY, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    await waitUntilAnswering(port, child, logFile);
    run('docker', ['--config', dockerConfig, 'login', `127.0.0.1:${port}`, '-u', username, '--password-stdin'], password);
    localTags.push(image);
    run('docker', ['tag', sourceImage, image]);
    run('docker', ['--config', dockerConfig, 'push', image]);
    const pushImageWithMissingLayer = async (): Promise<string> => {
      const broken = image.replace(/:v1$/, `:broken-${randomBytes(3).toString('hex')}`);
      const container = run('docker', ['create', sourceImage, 'sh', '-c', 'echo layer > /tmp/layer']).trim();
      try {
        run('docker', ['start', '-a', container]);
        localTags.push(broken);
        run('docker', ['commit', container, broken]);
      } finally {
        run('docker', ['rm', '-f', container]);
      }
      run('docker', ['--config', dockerConfig, 'push', broken]);
      run('docker', ['image', 'rm', broken]);
      const [repo = '', tag = ''] = broken.slice(broken.indexOf('/') + 1).split(':');
      const manifest = await request({
        url: `http://127.0.0.1:${port}/v2/${repo}/manifests/${tag}`,
        headers: {
          accept: 'application/vnd.docker.distribution.manifest.v2+json',
          authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
        },
        timeoutMs: 5000,
      });
      const layers = (JSON.parse(manifest.body.toString('utf8')) as { layers?: { digest: string }[] }).layers ?? [];
      const hex = layers[layers.length - 1]?.digest.replace(/^sha256:/, '') ?? '';
      const blob = path.join(dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
      if (!/^[0-9a-f]{64}$/.test(hex) || !fs.existsSync(blob)) throw new Error(`no layer blob found for ${broken} (manifest ${manifest.status})`);
      fs.rmSync(blob);
      return broken;
    };
    return { port, image, username, password, dockerConfigDir: dockerConfig, pushImageWithMissingLayer, stop };
  } catch (err) {
    // Clean up, but the error worth seeing is the original one.
    await stop().catch((cleanup: unknown) => console.error('local registry: clean-up failed:', cleanup));
    throw err;
  }
}
