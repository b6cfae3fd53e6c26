// Image pulls through the real executor (docs/containers.md, docs/docker-connection.md): a
// password-protected local registry (Debian's docker-registry with htpasswd auth), credentials read
// from a Docker config file for EXECUTOR_DOCKER_REPOSITORY, SERVICE_VERSION from the tag,
// force_pull_image, the HOME fallback, the legacy ~/.dockercfg, and a wrong password that fails the
// launch without leaking it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupAll, docker, inspect, requireDocker, startRun, TEST_IMAGE, type Run } from './harness';
import { startLocalRegistry, type LocalRegistry } from '../support/local-registry';

let registry: LocalRegistry;
let repository = ''; // 127.0.0.1:<port>
let repo = ''; // 127.0.0.1:<port>/sce-app-<random>
const localTags = new Set<string>(); // tags this file created locally, removed in after()
const extraImages: string[] = []; // image ids this file committed
const tempDirs: string[] = [];

before(async () => {
  requireDocker();
  registry = await startLocalRegistry();
  repository = `127.0.0.1:${registry.port}`;
  repo = `${repository}/sce-app-${randomBytes(4).toString('hex')}`;
});

after(async () => {
  await cleanupAll();
  for (const tag of localTags) {
    try { docker('image', 'rm', tag); } catch { /* not there */ }
  }
  for (const id of extraImages) {
    try { docker('image', 'rm', '-f', id); } catch { /* not there */ }
  }
  await registry?.stop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function imageExists(ref: string): boolean {
  try { docker('image', 'inspect', ref); return true; } catch { return false; }
}

/** Pushes `source` to the registry as `ref`, then removes the local tag: the tag is only in the registry. */
function pushOnly(ref: string, source = TEST_IMAGE): void {
  localTags.add(ref);
  docker('tag', source, ref);
  docker('--config', registry.dockerConfigDir, 'push', ref);
  docker('rmi', ref);
  assert.equal(imageExists(ref), false, `${ref} must not be present locally before the test`);
}

/** A Docker config dir whose config.json has an `auths` entry for the registry. */
function configDir(password: string, at?: string): string {
  const dir = at ?? tempDir('sce-docker-config-');
  mkdirSync(dir, { recursive: true });
  const auth = Buffer.from(`${registry.username}:${password}`).toString('base64');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [repository]: { auth } } }, null, 2));
  return dir;
}

/** Everything the executor printed, plus every status update it sent. */
function everything(run: Run): string {
  return run.executor.output + JSON.stringify(run.agent.updates());
}

function assertNoSecret(run: Run, ...secrets: string[]): void {
  const text = everything(run);
  for (const secret of secrets) {
    assert.equal(text.includes(secret), false, 'a registry credential appears in the executor output or its updates');
  }
}

function containerCount(name: string): number {
  return docker('ps', '-aq', '--filter', `name=^/${name}$`).split('\n').filter(Boolean).length;
}

test('an image only in the registry is pulled with the credentials from $DOCKER_CONFIG/config.json; SERVICE_VERSION is its tag', async () => {
  const image = `${repo}:1.2`;
  pushOnly(image);
  const run = await startRun('pull-auth', {
    task: { image, cmd: 'sleep 1' },
    // The config.json `docker login` itself wrote: the real CLI's format.
    env: { DOCKER_CONFIG: registry.dockerConfigDir, EXECUTOR_DOCKER_REPOSITORY: repository },
  });
  try {
    const running = await run.update('TASK_RUNNING', 60_000);
    assert.match(running.message ?? '', /^Container \w{12} running$/);
    assert.equal(imageExists(image), true, 'the image was pulled');
    const c = inspect(run.containerName);
    assert.equal(c.Config.Image, image);
    const env: string[] = c.Config.Env;
    assert.ok(env.includes('SERVICE_VERSION=1.2'), `SERVICE_VERSION is the tag, not the registry port: ${env.join(' ')}`);
    assert.equal(env.filter((e) => e.startsWith('SERVICE_VERSION=')).length, 1);
    const finished = await run.update('TASK_FINISHED');
    assert.equal(finished.message, 'Container exited with status 0');
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.match(run.executor.stdout, /Pulling Docker image/);
    assertNoSecret(run, registry.password, Buffer.from(`${registry.username}:${registry.password}`).toString('base64'));
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await run.cleanup(); }
});

test('a wrong password: TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED, naming the image; no container; the password never printed', async (t) => {
  const image = `${repo}:wrong-password`;
  pushOnly(image);
  const wrong = `wrong-${randomBytes(10).toString('hex')}`;
  const run = await startRun('pull-wrongpw', {
    task: { image, cmd: 'sleep 1' },
    env: { DOCKER_CONFIG: configDir(wrong), EXECUTOR_DOCKER_REPOSITORY: repository, EXECUTOR_DEBUG: 'true' },
  });
  try {
    const failed = await run.update('TASK_FAILED', 60_000);
    t.diagnostic(`TASK_FAILED message: ${failed.message}`);
    assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.ok((failed.message ?? '').includes(image), `the message names the image: ${failed.message}`);
    assert.match(failed.message ?? '', /^Pulling image .* failed: .*\(after 5 attempts\)$/);
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_FAILED']);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.equal(containerCount(run.containerName), 0, 'no container was created');
    assert.equal(imageExists(image), false);
    assertNoSecret(run, wrong, Buffer.from(`${registry.username}:${wrong}`).toString('base64'), registry.password);
  } finally { await run.cleanup(); }
});

test('force_pull_image pulls even though the tag is present locally (the local tag moves to the registry image)', async () => {
  const image = `${repo}:force`;
  // The registry's `force` is a different image from the local one: an extra ENV.
  const scratch = docker('create', TEST_IMAGE, 'true');
  let fresh: string;
  try {
    localTags.add(image);
    fresh = docker('commit', '--change', 'ENV SCE_VARIANT=from-registry', scratch, image);
    extraImages.push(fresh);
  } finally { docker('rm', '-f', scratch); }
  docker('--config', registry.dockerConfigDir, 'push', image);
  // Locally, `force` now names the test image.
  docker('tag', TEST_IMAGE, image);
  const stale = inspect(TEST_IMAGE).Id as string;
  assert.equal(inspect(image).Id, stale);
  assert.notEqual(fresh, stale);
  const env = { DOCKER_CONFIG: registry.dockerConfigDir, EXECUTOR_DOCKER_REPOSITORY: repository };

  // Control: without force_pull_image the local image is used as it is.
  const plain = await startRun('pull-noforce', { task: { image, cmd: 'sleep 1' }, env });
  try {
    await plain.update('TASK_RUNNING', 30_000);
    const c = inspect(plain.containerName);
    assert.equal(c.Image, stale);
    assert.doesNotMatch(plain.executor.stdout, /Pulling Docker image/);
    await plain.update('TASK_FINISHED');
  } finally { await plain.cleanup(); }

  const run = await startRun('pull-force', { task: { image, cmd: 'sleep 1', forcePullImage: true }, env });
  try {
    await run.update('TASK_RUNNING', 60_000);
    const c = inspect(run.containerName);
    assert.equal(c.Image, fresh, 'the container runs the image pulled from the registry');
    assert.ok((c.Config.Env as string[]).includes('SCE_VARIANT=from-registry'));
    assert.equal(inspect(image).Id, fresh, 'the local tag now points at the pulled image');
    assert.match(run.executor.stdout, /Pulling Docker image/);
    await run.update('TASK_FINISHED');
    assertNoSecret(run, registry.password);
  } finally { await run.cleanup(); }
});

test('without DOCKER_CONFIG the credentials come from $HOME/.docker/config.json', async () => {
  const image = `${repo}:home`;
  pushOnly(image);
  const home = tempDir('sce-home-');
  configDir(registry.password, join(home, '.docker'));
  const run = await startRun('pull-home', {
    task: { image, cmd: 'sleep 1' },
    // The harness passes only PATH and HOME from this process: DOCKER_CONFIG is unset.
    env: { HOME: home, EXECUTOR_DOCKER_REPOSITORY: repository },
  });
  try {
    await run.update('TASK_RUNNING', 60_000);
    assert.equal(imageExists(image), true);
    assert.equal(inspect(run.containerName).Config.Image, image);
    await run.update('TASK_FINISHED');
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assertNoSecret(run, registry.password);
  } finally { await run.cleanup(); }
});

test('credentials from the legacy $HOME/.dockercfg, past a DOCKER_CONFIG without config.json; the log names the file and entry', async () => {
  const image = `${repo}:dockercfg`;
  pushOnly(image);
  const home = tempDir('sce-home-dockercfg-');
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
  // The pre-1.7 format: registry → {auth, email} at the top level, no `auths`.
  writeFileSync(join(home, '.dockercfg'), JSON.stringify({ [repository]: { auth, email: 'ops@example.com' } }));
  const run = await startRun('pull-dockercfg', {
    task: { image, cmd: 'sleep 1' },
    env: { DOCKER_CONFIG: tempDir('sce-docker-config-empty-'), HOME: home, EXECUTOR_DOCKER_REPOSITORY: repository },
  });
  try {
    await run.update('TASK_RUNNING', 60_000);
    assert.equal(imageExists(image), true);
    await run.update('TASK_FINISHED');
    const found = `level=info msg="Found Docker auth configuration for '${repository}'" file=${join(home, '.dockercfg')} entry=${repository}`;
    assert.ok(run.executor.stdout.includes(found), `no "${found}" in\n${run.executor.stdout}`);
    assertNoSecret(run, registry.password, auth);
  } finally { await run.cleanup(); }
});

test('without any credentials the registry refuses the pull (so the tests above really used the config files)', async () => {
  const image = `${repo}:no-credentials`;
  pushOnly(image);
  const home = tempDir('sce-home-empty-');
  const run = await startRun('pull-nocreds', {
    task: { image, cmd: 'sleep 1' },
    env: { HOME: home, EXECUTOR_DOCKER_REPOSITORY: repository },
  });
  try {
    const failed = await run.update('TASK_FAILED', 60_000);
    assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.ok((failed.message ?? '').includes(image));
    assert.equal(containerCount(run.containerName), 0);
    // The Go original's warning, and where the executor looked.
    assert.ok(run.executor.stdout.includes(`level=warning msg="No docker auth match for repository '${repository}'... proceeding anyway" searched=`), run.executor.stdout);
    assert.ok(run.executor.stdout.includes(`${join(home, '.dockercfg')},/root/.docker/config.json,/root/.dockercfg`), run.executor.stdout);
  } finally { await run.cleanup(); }
});
