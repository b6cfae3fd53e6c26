// The private dockerd of test/support/private-dockerd.ts against real dockerd: each operation the
// fault-injection tests rely on does what they expect, and teardown leaves nothing behind, the
// main engine included.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { argvOf } from '../support/linux-host';
import { PrivateDockerd } from '../support/private-dockerd';
import { docker, TEST_IMAGE } from './harness';

/** Exits 3 on SIGTERM: the exit code shows who stopped the container, and how. */
const TRAP_TERM_LOOP = ['sh', '-c', 'trap "exit 3" TERM; while true; do sleep 0.2; done'];

const engines: PrivateDockerd[] = [];
after(async () => { for (const engine of engines) await engine.teardown(); });

/** Fails loudly without the main engine or the test image: these tests never skip. */
function requireTestImage(): void {
  try {
    docker('image', 'inspect', TEST_IMAGE);
  } catch {
    throw new Error(`Docker with the image ${TEST_IMAGE} is required: run \`bash scripts/setup.sh\``);
  }
}

async function startEngine(liveRestore: boolean): Promise<PrivateDockerd> {
  requireTestImage();
  const engine = await PrivateDockerd.start({ liveRestore });
  engines.push(engine);
  engine.loadImage(TEST_IMAGE);
  return engine;
}

/** Pids with their command lines, so that a pid reused by another process does not count. */
class ProcessesSeen {
  private readonly seen = new Map<number, string>();
  add(...pids: (number | undefined)[]): void {
    for (const pid of pids) {
      const argv = pid === undefined ? undefined : argvOf(pid);
      if (pid !== undefined && argv) this.seen.set(pid, argv.join(' '));
    }
  }
  stillRunning(): string[] {
    return [...this.seen].filter(([pid, argv]) => argvOf(pid)?.join(' ') === argv).map(([pid, argv]) => `${pid} ${argv}`);
  }
}

function assertNothingLeft(dir: string, bridge: string, seen: ProcessesSeen): void {
  assert.deepEqual(seen.stillRunning(), []);
  assert.equal(fs.existsSync(`/sys/class/net/${bridge}`), false, `bridge ${bridge} is gone`);
  assert.equal(fs.existsSync(dir), false, `${dir} is gone`);
  assert.doesNotMatch(fs.readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(dir));
  assert.equal(fs.existsSync('/sys/class/net/docker0'), true, "the main engine's docker0 is still there");
  docker('ps'); // the main engine still answers
}

/** POST /containers/<id>/wait; resolves once the headers are in, `outcome` tells how the body ended. */
function startWait(socketPath: string, id: string): Promise<{ status: number; outcome: Promise<'ended' | 'broken'> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: `/containers/${id}/wait`, method: 'POST', agent: false }, (res) => {
      res.resume();
      const outcome = new Promise<'ended' | 'broken'>((done) => {
        res.on('error', () => done('broken'));
        res.on('close', () => done(res.complete ? 'ended' : 'broken'));
      });
      resolve({ status: res.statusCode ?? 0, outcome });
    });
    req.on('error', reject);
    req.end();
  });
}

async function inspectOnceExited(engine: PrivateDockerd, id: string, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const container = engine.inspect(id);
    if (!container.State.Running || Date.now() > deadline) return container;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function timed<T>(t: { diagnostic(message: string): void }, what: string, action: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await action();
  t.diagnostic(`${what}: ${Date.now() - started} ms`);
  return result;
}

test('live-restore restart, kill -9, freeze, and a teardown while frozen', { timeout: 60_000 }, async (t) => {
  const engine = await timed(t, 'start and load the image', () => startEngine(true));
  const seen = new ProcessesSeen();
  seen.add(engine.pid, engine.containerdPid());
  assert.equal(engine.env.DOCKER_HOST, `unix://${engine.socketPath}`);
  assert.equal(engine.dockerHost, engine.env.DOCKER_HOST);
  const id = engine.docker('run', '-d', '--network', 'none', TEST_IMAGE, ...TRAP_TERM_LOOP);
  const before = engine.inspect(id);
  assert.equal(before.State.Running, true);
  assert.equal(engine.shimPids().length, 1);
  seen.add(before.State.Pid, ...engine.shimPids());

  // live-restore: the container outlives a graceful stop; an in-flight wait has its 200 headers
  // at once, and its connection breaks when dockerd stops.
  const wait = await startWait(engine.socketPath, id);
  assert.equal(wait.status, 200);
  await timed(t, 'restart with live-restore', () => engine.restart({ liveRestore: true }));
  assert.equal(await wait.outcome, 'broken');
  seen.add(engine.pid, engine.containerdPid());
  const restored = engine.inspect(id);
  assert.equal(restored.Id, before.Id);
  assert.equal(restored.State.Running, true);
  assert.equal(restored.State.Pid, before.State.Pid);

  // kill -9: containerd goes with dockerd, the shim and the container stay; a start without
  // live-restore stops the restored container with SIGTERM.
  const containerd = engine.containerdPid();
  assert.ok(containerd);
  await timed(t, 'kill -9', () => engine.kill9());
  assert.equal(engine.running, false);
  assert.equal(argvOf(containerd), undefined, 'containerd died with dockerd');
  assert.ok(argvOf(before.State.Pid), 'the container runs on');
  assert.equal(engine.shimPids().length, 1);
  // Pids get reused: make the pid files the kill left behind name a live, unrelated process (this
  // one). Kept, they would make dockerd refuse to start, or wait 15 s for "containerd" and fail.
  fs.writeFileSync(path.join(engine.dir, 'docker.pid'), String(process.pid));
  fs.writeFileSync(path.join(engine.dir, 'exec', 'containerd', 'containerd.pid'), String(process.pid));
  await timed(t, 'start after kill -9, without live-restore', () => engine.startAgain({ liveRestore: false }));
  seen.add(engine.pid, engine.containerdPid());
  const stopped = await inspectOnceExited(engine, id, 10_000);
  assert.equal(stopped.State.Running, false);
  assert.equal(stopped.State.ExitCode, 3);
  assert.equal(argvOf(before.State.Pid), undefined);

  // freeze: the API hangs; thaw: it answers again.
  engine.freeze();
  await assert.rejects(engine.ping(300), /no answer within 300 ms/);
  engine.thaw();
  await engine.ping(1000);

  // Teardown of a frozen engine with a running container.
  const second = engine.inspect(engine.docker('run', '-d', '--network', 'none', TEST_IMAGE, ...TRAP_TERM_LOOP));
  seen.add(second.State.Pid, ...engine.shimPids());
  engine.freeze();
  await timed(t, 'teardown while frozen', () => engine.teardown());
  assertNothingLeft(engine.dir, engine.bridge, seen);
});

test('teardown after kill -9 stops the orphaned container and its shim', { timeout: 60_000 }, async (t) => {
  const engine = await startEngine(false);
  const seen = new ProcessesSeen();
  const container = engine.inspect(engine.docker('run', '-d', '--network', 'none', TEST_IMAGE, ...TRAP_TERM_LOOP));
  seen.add(engine.pid, engine.containerdPid(), container.State.Pid, ...engine.shimPids());
  await engine.kill9();
  assert.ok(argvOf(container.State.Pid), 'the container runs on');
  await timed(t, 'teardown after kill -9', () => engine.teardown());
  assertNothingLeft(engine.dir, engine.bridge, seen);
});

test("a process that exits without teardown leaves nothing: the 'exit' sweep", { timeout: 60_000 }, () => {
  requireTestImage();
  const modulePath = path.join(__dirname, '..', 'support', 'private-dockerd.js');
  const script = `
    const { PrivateDockerd } = require(${JSON.stringify(modulePath)});
    PrivateDockerd.start().then((engine) => {
      engine.loadImage(${JSON.stringify(TEST_IMAGE)});
      const container = engine.inspect(engine.docker('run', '-d', '--network', 'none', ${JSON.stringify(TEST_IMAGE)}, 'sleep', '600'));
      const pids = [engine.pid, engine.containerdPid(), container.State.Pid, ...engine.shimPids()];
      console.log(JSON.stringify({ dir: engine.dir, bridge: engine.bridge, id: container.Id, pids }));
      process.exit(7);
    });`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 50_000 });
  assert.equal(child.status, 7, child.stderr);
  const report = JSON.parse(child.stdout) as { dir: string; bridge: string; id: string; pids: number[] };
  assert.equal(report.pids.length, 4);
  // The child is gone, so its pids are only checked for being gone (or reused by something else).
  const leftovers = report.pids.filter((pid) => {
    const argv = argvOf(pid)?.join(' ') ?? '';
    return argv.includes(report.dir) || argv === 'sleep 600';
  });
  assert.deepEqual(leftovers, []);
  // What the killed shim and runc did not remove: the shim's socket, the container's cgroups.
  const socketHash = createHash('sha256').update(path.join(report.dir, 'exec', 'containerd', 'containerd.sock', 'moby', report.id)).digest('hex');
  assert.equal(fs.existsSync(path.join('/run/containerd/s', socketHash)), false, "the shim's socket is gone");
  const cgroups = ['', ...fs.readdirSync('/sys/fs/cgroup')].map((name) => path.join('/sys/fs/cgroup', name, 'docker', report.id));
  assert.deepEqual(cgroups.filter((cgroup) => fs.existsSync(cgroup)), []);
  assertNothingLeft(report.dir, report.bridge, new ProcessesSeen());
});
