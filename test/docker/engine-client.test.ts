// DockerEngineClient against the REAL dockerd of this machine (and, for what a real engine will
// not do on demand, a node:http engine double on a unix socket). Docker being unavailable is a
// failure, never a skip: these tests are the only proof that our Engine API calls are right.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDockerHost } from '../../src/docker/docker-host';
import { DockerEngineClient, encodeRegistryAuth } from '../../src/docker/engine-client';
import { EngineError, type CreateBody, type LogFrame } from '../../src/docker/engine-api';
import { loadRegistryAuth } from '../../src/docker/registry-auth';
import { startLocalRegistry, type LocalRegistry } from '../support/local-registry';

const TEST_IMAGE = 'sidecar-executor-test:latest';
const TIMEOUT = { timeout: 60_000 };
const client = new DockerEngineClient(parseDockerHost(process.env.DOCKER_HOST));
const containers: string[] = [];
const tags: string[] = [];

const unique = (): string => `sce-test-${randomBytes(6).toString('hex')}`;
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function body(cmd: string[], extra: Partial<CreateBody> = {}): CreateBody {
  return { Image: TEST_IMAGE, Cmd: cmd, Env: ['SCE_TEST=1'], Labels: { 'sce-test': 'yes' }, HostConfig: { NetworkMode: 'none' }, ...extra };
}

async function run(cmd: string[], extra: Partial<CreateBody> = {}): Promise<string> {
  const id = await client.createContainer(unique(), body(cmd, extra));
  containers.push(id);
  await client.startContainer(id);
  return id;
}

async function collect(frames: AsyncIterable<LogFrame>): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  for await (const frame of frames) out[frame.stream] += frame.data.toString('utf8');
  return out;
}

async function logsOf(id: string, since?: number): Promise<{ stdout: string; stderr: string }> {
  return collect(await client.containerLogs(id, { sinceSec: since }));
}

/** Waits until the container has printed `text` (so its signal traps are in place). */
async function untilPrinted(id: string, text: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await logsOf(id)).stdout.includes(text)) {
    if (Date.now() > deadline) throw new Error(`container never printed ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<EngineError> {
  let caught: unknown;
  try { await promise; } catch (err) { caught = err; }
  assert.ok(caught instanceof EngineError, `expected an EngineError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

before(async () => {
  // Fails (loudly) when dockerd is not there: E_ENGINE_UNREACHABLE naming the socket.
  assert.equal(await client.imageExists(TEST_IMAGE), true, `${TEST_IMAGE} is missing: run sh scripts/make-test-image.sh`);
});

after(async () => {
  for (const id of containers) await client.removeContainer(id).catch((err) => console.error('clean-up:', err));
  for (const tag of tags) { try { docker('image', 'rm', tag); } catch { /* already gone */ } }
});

describe('DockerEngineClient containers (real dockerd)', TIMEOUT, () => {
  it('creates, starts and waits: exit 0, and inspect shows what was created', async () => {
    const name = unique();
    const id = await client.createContainer(name, body(['sh', '-c', 'exit 0']));
    containers.push(id);
    assert.match(id, /^[0-9a-f]{64}$/);
    await client.startContainer(id);
    assert.equal(await client.waitContainer(id), 0);
    const state = await client.inspectContainer(id);
    assert.equal(state.id, id);
    assert.equal(state.running, false);
    assert.equal(state.exitCode, 0);
    assert.equal(state.oomKilled, false);
    assert.equal(state.labels['sce-test'], 'yes');
    assert.ok(state.env.includes('SCE_TEST=1'));
    assert.equal((await client.inspectContainer(name)).id, id, 'inspect by name too');
  });

  it('reports a non-zero exit code', async () => {
    const id = await run(['sh', '-c', 'exit 3']);
    assert.equal(await client.waitContainer(id), 3);
    assert.equal((await client.inspectContainer(id)).exitCode, 3);
  });

  it('inspects a running container, and a second start is fine (304)', async () => {
    const id = await run(['sleep', '30']);
    assert.equal((await client.inspectContainer(id)).running, true);
    await client.startContainer(id);
    await client.stopContainer(id, 0);
  });

  it('stops a container that exits cleanly on SIGTERM, without waiting for the timeout', async () => {
    const id = await run(['sh', '-c', 'trap "exit 0" TERM; echo ready; while true; do sleep 0.1; done']);
    await untilPrinted(id, 'ready');
    const started = Date.now();
    await client.stopContainer(id, 20);
    assert.ok(Date.now() - started < 10_000, 'stop returned before the timeout');
    assert.equal(await client.waitContainer(id), 0);
    assert.equal((await client.inspectContainer(id)).running, false);
  });

  it('SIGKILLs a container that ignores SIGTERM once the timeout is over: exit 137', async () => {
    const id = await run(['sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 0.1; done']);
    await untilPrinted(id, 'ready');
    const waited = client.waitContainer(id);
    const started = Date.now();
    await client.stopContainer(id, 1);
    assert.ok(Date.now() - started >= 900, 'waited for the timeout before SIGKILL');
    assert.equal(await waited, 137);
    assert.equal((await client.inspectContainer(id)).exitCode, 137);
    await client.stopContainer(id, 1); // already stopped: 304 is fine
  });

  it('removes a container, and removing it again is fine', async () => {
    const id = await run(['sh', '-c', 'exit 0']);
    await client.waitContainer(id);
    await client.removeContainer(id);
    await rejectsWith(client.inspectContainer(id), 'E_NO_SUCH_CONTAINER');
    await client.removeContainer(id);
  });

  it('removes a running container (force)', async () => {
    const id = await run(['sleep', '30']);
    await client.removeContainer(id);
    await rejectsWith(client.inspectContainer(id), 'E_NO_SUCH_CONTAINER');
  });

  it('names missing containers and images with stable codes', async () => {
    const missing = unique();
    await rejectsWith(client.inspectContainer(missing), 'E_NO_SUCH_CONTAINER', new RegExp(missing));
    await rejectsWith(client.startContainer(missing), 'E_NO_SUCH_CONTAINER');
    await rejectsWith(client.waitContainer(missing), 'E_NO_SUCH_CONTAINER');
    await rejectsWith(client.stopContainer(missing, 1), 'E_NO_SUCH_CONTAINER');
    await rejectsWith(client.containerLogs(missing, {}), 'E_NO_SUCH_CONTAINER');
    await rejectsWith(client.createContainer(unique(), body(['true'], { Image: `${unique()}:nope` })), 'E_NO_SUCH_IMAGE');
  });

  it('reports other engine refusals with the status and the engine\'s message', async () => {
    const name = unique();
    containers.push(await client.createContainer(name, body(['true'])));
    const err = await rejectsWith(client.createContainer(name, body(['true'])), 'E_ENGINE_STATUS', /409: .*already in use/);
    assert.equal(err.status, 409);
  });
});

describe('DockerEngineClient logs (real dockerd)', TIMEOUT, () => {
  it('splits stdout and stderr', async () => {
    const id = await run(['sh', '-c', 'echo out1; echo err1 >&2; echo out2']);
    await client.waitContainer(id);
    assert.deepEqual(await logsOf(id), { stdout: 'out1\nout2\n', stderr: 'err1\n' });
    assert.deepEqual(await collect(await client.containerLogs(id, { stderr: false })), { stdout: 'out1\nout2\n', stderr: '' });
    assert.deepEqual(await collect(await client.containerLogs(id, { stdout: false })), { stdout: '', stderr: 'err1\n' });
  });

  it('gives only the output since a time', async () => {
    const id = await run(['sh', '-c', 'echo early; echo early-err >&2; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo late; echo late-err >&2']);
    await untilPrinted(id, 'early');
    await new Promise((r) => setTimeout(r, 20));
    const since = Date.now() / 1000;
    docker('exec', id, 'touch', '/tmp/go');
    assert.equal(await client.waitContainer(id), 0);
    assert.deepEqual(await logsOf(id, since), { stdout: 'late\n', stderr: 'late-err\n' });
    assert.deepEqual(await logsOf(id), { stdout: 'early\nlate\n', stderr: 'early-err\nlate-err\n' });
  });

  it('follows the output and ends when the container exits', async () => {
    const id = await run(['sh', '-c', 'echo one; sleep 1; echo two >&2; sleep 1; echo three; exit 5']);
    const frames = await client.containerLogs(id, { follow: true });
    const seen: string[] = [];
    for await (const frame of frames) seen.push(`${frame.stream}:${frame.data.toString('utf8')}`);
    assert.deepEqual(seen, ['stdout:one\n', 'stderr:two\n', 'stdout:three\n']);
    assert.equal((await client.inspectContainer(id)).running, false);
  });

  it('stops following on destroy(), without an error', async () => {
    const id = await run(['sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
    const frames = await client.containerLogs(id, { follow: true });
    let count = 0;
    for await (const frame of frames) {
      assert.equal(frame.stream, 'stdout');
      if (++count === 3) frames.destroy();
    }
    assert.ok(count >= 3);
    await client.removeContainer(id);
  });

  it('stops following when the reader breaks out of the loop', async () => {
    const id = await run(['sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
    for await (const frame of await client.containerLogs(id, { follow: true })) {
      assert.equal(frame.data.toString('utf8'), 'tick\n');
      break;
    }
    await client.removeContainer(id);
  });

  it('treats a TTY container\'s raw stream as stdout', async () => {
    const tty = { Tty: true } as Partial<CreateBody>; // CreateBody has no Tty: the executor never sets it
    const id = await run(['sh', '-c', 'echo out; echo err >&2'], tty);
    await client.waitContainer(id);
    const { stdout, stderr } = await logsOf(id);
    assert.equal(stdout.replace(/\r/g, ''), 'out\nerr\n');
    assert.equal(stderr, '');
  });
});

describe('DockerEngineClient images (real dockerd)', TIMEOUT, () => {
  it('finds an image only under exactly its repo:tag', async () => {
    const repo = unique();
    docker('tag', TEST_IMAGE, `${repo}:a`);
    tags.push(`${repo}:a`);
    const imageId = docker('image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE).trim();
    assert.equal(await client.imageExists(TEST_IMAGE), true);
    assert.equal(await client.imageExists('sidecar-executor-test'), true, ':latest implied');
    assert.equal(await client.imageExists('docker.io/library/sidecar-executor-test:latest'), true, 'fully qualified name');
    assert.equal(await client.imageExists(`${repo}:a`), true);
    assert.equal(await client.imageExists(`${repo}:b`), false, 'another tag of the same repository');
    assert.equal(await client.imageExists(repo), false, 'no :latest tag');
    assert.equal(await client.imageExists('sidecar-executor-test:other'), false);
    assert.equal(await client.imageExists(imageId.replace('sha256:', '').slice(0, 12)), false, 'an image id prefix is not a tag');
    assert.equal(await client.imageExists(`${unique()}:latest`), false);
  });

  it('rejects with E_PULL_FAILED naming the image and the engine\'s error', async () => {
    const err = await rejectsWith(client.pullImage('127.0.0.1:1/none:1'), 'E_PULL_FAILED', /pulling image 127\.0\.0\.1:1\/none:1 failed: .*connection refused/);
    assert.ok(err.status !== undefined && err.status >= 400);
  });
});

describe('DockerEngineClient pulls from a password-protected registry (real dockerd, real registry)', TIMEOUT, () => {
  let registry: LocalRegistry;
  before(async () => { registry = await startLocalRegistry(TEST_IMAGE); });
  after(async () => { await registry?.stop(); });

  it('pulls with the right credentials', async () => {
    docker('image', 'rm', registry.image);
    assert.equal(await client.imageExists(registry.image), false);
    await client.pullImage(registry.image, { username: registry.username, password: registry.password, serveraddress: `127.0.0.1:${registry.port}` });
    assert.equal(await client.imageExists(registry.image), true);
  });

  it('finds a pulled image by digest, and only by its own digest', async () => {
    const digests = JSON.parse(docker('image', 'inspect', '--format', '{{json .RepoDigests}}', registry.image)) as string[];
    const own = digests.find((d) => d.startsWith(`127.0.0.1:${registry.port}/`));
    assert.ok(own, `no RepoDigest for the registry in ${digests.join(', ')}`);
    assert.equal(await client.imageExists(own), true);
    assert.equal(await client.imageExists(own.replace(/@sha256:.*/, `@sha256:${'0'.repeat(64)}`)), false);
  });

  it('pulls with the credentials docker login wrote, as the executor finds them', async () => {
    const { auth, file } = loadRegistryAuth({ DOCKER_CONFIG: registry.dockerConfigDir }, `127.0.0.1:${registry.port}`);
    assert.equal(file, `${registry.dockerConfigDir}/config.json`);
    assert.equal(auth?.username, registry.username);
    docker('image', 'rm', registry.image);
    await client.pullImage(registry.image, auth);
    assert.equal(await client.imageExists(registry.image), true);
  });

  it('fails with a wrong password, and the error never shows a password', async () => {
    docker('image', 'rm', registry.image);
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const err = await rejectsWith(client.pullImage(registry.image, { username: registry.username, password: wrong }), 'E_PULL_FAILED');
    assert.match(err.message, new RegExp(`pulling image ${registry.image.replace(/[.]/g, '\\.')} failed: `));
    assert.match(err.message, /unauthorized|authentication|credentials/i);
    for (const secret of [wrong, registry.password, encodeRegistryAuth({ username: registry.username, password: wrong })]) {
      assert.ok(!err.message.includes(secret), 'no secret in the message');
      assert.ok(!String(err.stack).includes(secret), 'no secret in the stack');
    }
    assert.equal(await client.imageExists(registry.image), false);
  });

  it('rejects an error the engine reports mid-stream, after answering 200', async () => {
    const broken = await registry.pushImageWithMissingLayer();
    const auth = { username: registry.username, password: registry.password };
    const err = await rejectsWith(client.pullImage(broken, auth), 'E_PULL_FAILED');
    assert.equal(err.status, 200, 'the engine had answered 200');
    assert.match(err.message, new RegExp(`pulling image ${broken.replace(/[.]/g, '\\.')} failed: .*unknown blob`));
    assert.ok(!err.message.includes(registry.password));
    assert.equal(await client.imageExists(broken), false);
  });

  it('fails without credentials', async () => {
    await rejectsWith(client.pullImage(registry.image), 'E_PULL_FAILED', /unauthorized|authentication|credentials/i);
  });
});

/** A fake engine on a unix socket: one handler, so each test scripts its answer. */
async function fakeEngine(handler: http.RequestListener): Promise<{ client: DockerEngineClient; close(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sce-fake-engine-'));
  const socketPath = path.join(dir, 'docker.sock');
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    client: new DockerEngineClient({ socketPath }, { requestTimeoutMs: 2000 }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('DockerEngineClient against an engine double', TIMEOUT, () => {
  it('rejects an error reported mid-stream after a 200, even split across chunks', async () => {
    const engine = await fakeEngine((req, res) => {
      assert.equal(req.url, '/images/create?fromImage=registry.example.com%3A5000%2Fteam%2Fapp&tag=1.2');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"Pulling from team/app","id":"1.2"}\r\n{"status":"Downloading","progressDetail":{"current":1,"total":9}}\r\n{"errorDetail":{"message":"read: connection reset by pe');
      setTimeout(() => res.end('er"},"error":"read: connection reset by peer"}\r\n'), 20);
    });
    try {
      const err = await rejectsWith(engine.client.pullImage('registry.example.com:5000/team/app:1.2'), 'E_PULL_FAILED');
      assert.equal(err.message, 'pulling image registry.example.com:5000/team/app:1.2 failed: read: connection reset by peer');
      assert.equal(err.status, 200);
    } finally { await engine.close(); }
  });

  it('sends X-Registry-Auth as padded base64url JSON, and redacts secrets the engine echoes', async () => {
    let header = '';
    const engine = await fakeEngine((req, res) => {
      header = String(req.headers['x-registry-auth']);
      res.writeHead(200);
      res.end('{"error":"denied for user u with password p+s/w?rd~"}');
    });
    try {
      const auth = { username: 'u', password: 'p+s/w?rd~', serveraddress: 'r.example.com' };
      const err = await rejectsWith(engine.client.pullImage('r.example.com/app@sha256:' + 'a'.repeat(64), auth), 'E_PULL_FAILED');
      assert.match(header, /^[A-Za-z0-9_-]+=*$/);
      assert.equal(header.length % 4, 0, 'padded, as Go\'s base64.URLEncoding requires');
      assert.deepEqual(JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')), auth);
      assert.equal(err.message, 'pulling image r.example.com/app@sha256:' + 'a'.repeat(64) + ' failed: denied for user u with password ***');
    } finally { await engine.close(); }
  });

  it('resolves when the progress stream ends without an error', async () => {
    const engine = await fakeEngine((req, res) => {
      assert.equal(req.url, '/images/create?fromImage=app&tag=latest');
      res.writeHead(200);
      res.end('{"status":"Pulling from library/app"}\n{"status":"Status: Downloaded newer image for app:latest"}\n');
    });
    try { await engine.client.pullImage('app'); } finally { await engine.close(); }
  });

  it('reports the engine as unreachable when the stream breaks mid-pull', async () => {
    const engine = await fakeEngine((_req, res) => {
      res.writeHead(200);
      res.write('{"status":"Pulling"}\n');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    try {
      await rejectsWith(engine.client.pullImage('app:1'), 'E_PULL_FAILED', /pulling image app:1 failed: the connection to the Docker engine at unix:\/\/.*docker.sock broke/);
    } finally { await engine.close(); }
  });

  it('names the socket when the engine is unreachable', async () => {
    const socketPath = path.join(os.tmpdir(), `${unique()}.sock`);
    const missing = new DockerEngineClient({ socketPath });
    await rejectsWith(missing.inspectContainer('x'), 'E_ENGINE_UNREACHABLE', new RegExp(`unix://${socketPath}.*ENOENT`));
    await rejectsWith(missing.pullImage('app'), 'E_ENGINE_UNREACHABLE', new RegExp(`unix://${socketPath}`));
    await rejectsWith(missing.imageExists('app'), 'E_ENGINE_UNREACHABLE');
  });

  it('names the tcp:// address when the engine is unreachable', async () => {
    const closed = new DockerEngineClient(parseDockerHost('tcp://127.0.0.1:1'));
    await rejectsWith(closed.removeContainer('x'), 'E_ENGINE_UNREACHABLE', /tcp:\/\/127\.0\.0\.1:1 is unreachable \(DELETE \/containers\/x\): ECONNREFUSED/);
  });

  it('gives up on an engine that does not answer within requestTimeoutMs', async () => {
    const engine = await fakeEngine(() => { /* never answers */ });
    try {
      await rejectsWith(engine.client.inspectContainer('x'), 'E_ENGINE_UNREACHABLE', /did not answer GET \/containers\/x\/json in time/);
    } finally { await engine.close(); }
  });

  it('reports a daemon error frame inside a log stream', async () => {
    let logsUrl = '';
    const engine = await fakeEngine((req, res) => {
      if (req.url?.startsWith('/containers/c1/json')) { res.writeHead(200); res.end('{"Id":"c1","Config":{"Tty":false}}'); return; }
      logsUrl = req.url ?? '';
      res.writeHead(200);
      const frame = (stream: number, text: string): Buffer => {
        const data = Buffer.from(text);
        const header = Buffer.alloc(8);
        header[0] = stream;
        header.writeUInt32BE(data.length, 4);
        return Buffer.concat([header, data]);
      };
      res.end(Buffer.concat([frame(1, 'fine\n'), frame(3, 'log file is gone')]));
    });
    try {
      const frames = await engine.client.containerLogs('c1', { sinceSec: 1700000000.5 });
      const seen: string[] = [];
      await assert.rejects(async () => { for await (const f of frames) seen.push(f.data.toString()); },
        (err: unknown) => err instanceof EngineError && err.code === 'E_ENGINE_STATUS' && /log file is gone/.test(err.message));
      assert.deepEqual(seen, ['fine\n']);
      assert.equal(logsUrl, '/containers/c1/logs?stdout=1&stderr=1&follow=0&since=1700000000.500');
    } finally { await engine.close(); }
  });
});
