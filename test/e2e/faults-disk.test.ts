// A full sandbox disk (docs/faults.md). Under a real agent the executor's stdout and stderr are
// files in the sandbox; when the disk fills, writes to them fail with ENOSPC. The executor must
// not crash or spin, the failure-log copy stops at the first failed write, every status update
// is still delivered, and once writes work again one note line says how much was dropped. The
// sandbox here is a 2 MiB tmpfs the test fills with a file.
import { afterEach, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { docker, inspect, requireDocker, TEST_IMAGE, uniqueTaskId } from './harness';
import { MesosAgentDouble, type MesosAgentDoubleOptions } from '../doubles/mesos-agent';
import { dockerTaskInfo } from '../doubles/task-fixtures';
import { SandboxExecutor, TmpfsSandbox } from '../support/sandbox-executor';
import { containerNameForTask } from '../../src/docker/container-name';

/** Every container this file creates carries it, so afterEach() finds them all. */
const RUN_LABEL = { key: 'sce.faults-disk', value: `${process.pid}-${Math.random().toString(36).slice(2, 8)}` };
/** A spinning executor burns seconds; start-up and a whole task take under a tenth here. */
const CPU_LIMIT_SEC = 1.5;
/** Waits for /tmp/go (the test's `docker exec`), then does `then`. */
const AFTER_GO = (then: string): string => `sh -c "while [ ! -e /tmp/go ]; do sleep 0.1; done; ${then}"`;
const DROPPED_NOTE = /time="[^"]+" level=warning msg="Output could not be written and was dropped" stream=(\w+) writes=(\d+) bytes=(\d+) error=(\S+)\n/g;
/** A stack frame of the bundle (or its sandbox copy) or of node itself. */
const STACK_FRAME = /(?:sidecar-executor(?:\.js)?|node:internal\/[\w/.-]+):\d+:\d+/;

const sandboxes: TmpfsSandbox[] = [];
const agents: MesosAgentDouble[] = [];
const executors: SandboxExecutor[] = [];

before(() => requireDocker());

// After each test, whatever happened: executors, agents, containers, mounts.
afterEach(async () => {
  for (const executor of executors) executor.kill();
  await Promise.all(executors.splice(0).map((e) => e.exited));
  for (const agent of agents.splice(0)) await agent.stop().catch(() => undefined);
  const ids = docker('ps', '-aq', '--filter', `label=${RUN_LABEL.key}=${RUN_LABEL.value}`).split('\n').filter(Boolean);
  if (ids.length > 0) docker('rm', '-f', ...ids);
  for (const sandbox of sandboxes.splice(0)) sandbox.unmount();
});

interface DiskRun { agent: MesosAgentDouble; executor: SandboxExecutor; sandbox: TmpfsSandbox; taskId: string; containerName: string }

async function startDiskRun(label: string, cmd: string, agentOptions: MesosAgentDoubleOptions = {}): Promise<DiskRun> {
  const sandbox = TmpfsSandbox.mount(2048);
  sandboxes.push(sandbox);
  const agent = await MesosAgentDouble.start(agentOptions);
  agents.push(agent);
  const taskId = uniqueTaskId(label);
  await agent.launch(dockerTaskInfo({ image: TEST_IMAGE, taskId, cmd, labels: { SidecarDiscover: 'false', [RUN_LABEL.key]: RUN_LABEL.value } }));
  const executor = new SandboxExecutor(sandbox.dir, {
    ...agent.executorEnvironment(), MESOS_SUBSCRIPTION_BACKOFF_MAX: '500ms', EXECUTOR_KILL_TASK_TIMEOUT: '2',
  });
  executors.push(executor);
  return { agent, executor, sandbox, taskId, containerName: containerNameForTask(taskId) };
}

function waitFor(run: DiskRun, state: string, timeoutMs = 20_000) {
  return run.agent.waitForUpdate((s) => s.task_id.value === run.taskId && s.state === state, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}\n--- ${run.sandbox.dir}/stdout (tail) ---\n${run.executor.stdout().slice(-3000)}`);
  });
}

/** The exact updates: these states in order, unique uuids, nothing refused. */
function assertUpdates(run: DiskRun, states: string[]): void {
  const updates = run.agent.updates();
  assert.deepEqual(updates.map((s) => `${s.task_id.value} ${s.state}`), states.map((s) => `${run.taskId} ${s}`));
  assert.equal(new Set(updates.map((s) => s.uuid)).size, updates.length, 'every update has its own uuid');
  assert.deepEqual(run.agent.rejectedCalls(), []);
}

function assertNoCrash(run: DiskRun): void {
  const output = run.executor.stdout() + run.executor.stderr();
  assert.doesNotMatch(output, /Executor crashed|Unexpected error/);
  assert.doesNotMatch(output, STACK_FRAME);
  assert.equal(run.executor.signal, null, 'the executor exited by itself');
}

function assertStopped(run: DiskRun, exitCode: number): void {
  const state = inspect(run.containerName).State;
  assert.equal(state.Running, false, 'no container is left running');
  assert.equal(state.ExitCode, exitCode);
}

/** All the CPU time the executor used, start-up included: a spinning executor burns seconds. */
function assertLowCpu(t: TestContext, run: DiskRun): void {
  const cpu = run.executor.cpuSeconds();
  t.diagnostic(`executor CPU time: ${cpu.toFixed(2)} s`);
  assert.ok(cpu < CPU_LIMIT_SEC, `the executor used ${cpu.toFixed(2)} s of CPU`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('disk full before the failure-log copy: TASK_FAILED is delivered, the executor exits 0 promptly, without crashing or spinning', async (t) => {
  const run = await startDiskRun('disk-full-before', AFTER_GO(
    "yes 'a line the container prints to stdout before it fails' | head -n 3000; "
    + "yes 'a line the container prints to stderr before it fails' | head -n 3000 >&2; exit 3"));
  await waitFor(run, 'TASK_RUNNING');
  run.sandbox.fill(0, run.executor.files);
  assert.ok(run.sandbox.freeBytes() < 4096, `the sandbox is full (${run.sandbox.freeBytes()} bytes free)`);
  docker('exec', run.containerName, 'touch', '/tmp/go');

  const failed = await waitFor(run, 'TASK_FAILED');
  const failedAt = Date.now();
  // Its last words travel in the update, which needs no disk.
  assert.match(failed.message ?? '', /^Container exited with status 3; its last output:\na line the container prints to std(out|err) before it fails\n[^]*before it fails$/);
  assert.equal(await run.executor.waitForExit(10_000), 0);
  assert.ok(Date.now() - failedAt < 8000, `the executor exited ${Date.now() - failedAt} ms after TASK_FAILED`);
  assertLowCpu(t, run);
  assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  assertNoCrash(run);
  assertStopped(run, 3);
  // Written nowhere: the disk was full for all of it.
  assert.doesNotMatch(run.executor.stdout() + run.executor.stderr(), /before it fails|Container exited/);
});

test('disk full during the copy: the copy stops at the first failed write; once space is freed one note says what was dropped', async (t) => {
  // The agent withholds the ACK, so the executor stays (checkpointing) while the test frees space.
  const run = await startDiskRun('disk-full-during', AFTER_GO(
    "echo to-stderr-before-the-failure >&2; yes 'a line of the big output the container prints to stdout before it fails, 80 chars' | head -n 40000; exit 3"),
  { withholdAcks: true });
  await waitFor(run, 'TASK_RUNNING');
  run.sandbox.fill(64 * 1024, run.executor.files);
  assert.ok(run.sandbox.freeBytes() >= 64 * 1024 && run.sandbox.freeBytes() < 80 * 1024, `64 KiB left (${run.sandbox.freeBytes()} bytes free)`);
  docker('exec', run.containerName, 'touch', '/tmp/go');

  const failed = await waitFor(run, 'TASK_FAILED');
  assert.match(failed.message ?? '', /^Container exited with status 3; its last output:\na line of the big output [^]*80 chars$/);
  await sleep(1000); // the executor now waits for the ACK
  assert.equal(run.executor.running, true, 'the executor waits for the ACKNOWLEDGED');
  // The copy fills stdout, where the executor's own log lines go too (as the Go original's).
  const copied = run.executor.stdout().split('the big output').length - 1;
  assert.ok(copied > 100 && copied < 2000, `the copy wrote what fitted, then stopped (${copied} of 40000 lines in the file)`);
  assert.match(run.executor.stderr(), /to-stderr-before-the-failure/);
  assert.doesNotMatch(run.executor.stdout() + run.executor.stderr(), /Output could not be written/, 'no note while writes still fail');

  run.sandbox.free();
  await run.agent.releaseAcks();
  assert.equal(await run.executor.waitForExit(10_000), 0);
  // The failed frame and the log lines after it were dropped while the disk was full; the first
  // line written again is preceded by the note.
  const stdout = run.executor.stdout();
  const notes = [...stdout.matchAll(DROPPED_NOTE)];
  assert.equal(notes.length, 1, `one note:\n${stdout.slice(-1000)}`);
  const [line, stream, writes, bytes, error] = notes[0]!;
  assert.equal(stream, 'stdout');
  assert.equal(error, 'ENOSPC');
  // The log lines written while the disk was full: a handful, not a copy's worth.
  assert.ok(Number(writes) >= 1 && Number(writes) < 30, `writes=${writes}`);
  assert.ok(Number(bytes) > 0, `bytes=${bytes}`);
  assert.match(stdout.slice(stdout.indexOf(line) + line.length), /msg="Executor exiting"/, 'the note comes with the first line written again');
  // A line of its own: the write that failed may have left half a line behind it.
  const before = stdout.slice(Math.max(0, notes[0]!.index! - 120), notes[0]!.index!);
  assert.ok(notes[0]!.index === 0 || before.endsWith('\n'), `the note starts a line of its own; it follows ${JSON.stringify(before)}`);
  // stderr got its one line while there was room and nothing after: no note belongs there.
  assert.doesNotMatch(run.executor.stderr(), /Output could not be written/);
  assertLowCpu(t, run);
  assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  assertNoCrash(run);
  assertStopped(run, 3);
});

test('disk full, then the agent restarts: the executor re-subscribes, the task keeps running, the CPU stays low; a KILL still ends it', async (t) => {
  const run = await startDiskRun('disk-full-agent-restart', 'sh -c "trap \'exit 143\' TERM; while true; do sleep 0.1; done"', { checkpoint: true });
  await waitFor(run, 'TASK_RUNNING');
  run.sandbox.fill(0, run.executor.files);
  const cpuBefore = run.executor.cpuSeconds();

  await run.agent.stop();
  await sleep(2000);
  await run.agent.start();
  await run.agent.waitForSubscribe(2, 10_000);
  await sleep(2000);
  assert.equal(run.executor.running, true);
  assert.equal(inspect(run.containerName).State.Running, true, 'the container still runs');
  assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING']);
  assert.doesNotMatch(run.executor.stdout(), /Re-subscribed to the agent/, 'the executor could not log it: the disk is full');
  const cpuRestart = run.executor.cpuSeconds() - cpuBefore;
  t.diagnostic(`executor CPU time around the restart: ${cpuRestart.toFixed(2)} s`);
  assert.ok(cpuRestart < 0.5, `the executor used ${cpuRestart.toFixed(2)} s of CPU in the ~5 s around the restart`);

  await run.agent.kill(run.taskId);
  const killed = await waitFor(run, 'TASK_KILLED');
  assert.equal(killed.message, 'Container exited with status 143 after the executor stopped it (KILL from the scheduler)');
  assert.equal(await run.executor.waitForExit(10_000), 0);
  assertLowCpu(t, run);
  assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
  assertNoCrash(run);
  assertStopped(run, 143);
});
