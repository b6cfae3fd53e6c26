// The wrapper script (docs/wrapper-and-install.md), run with `sh` as the Mesos agent would run the
// task's executor command: first around a fake executor that records what it was given, then around
// the real built executor against the agent double and the real dockerd.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { docker, EXECUTOR, ExecutorProcess, inspect, installForWrapper, requireDocker, TEST_EXECUTOR_ENV, TEST_IMAGE, uniqueTaskId } from './harness';
import { PrivateDockerd } from '../support/private-dockerd';
import { MesosAgentDouble } from '../doubles/mesos-agent';
import { dockerTaskInfo } from '../doubles/task-fixtures';
import { containerNameForTask } from '../../src/docker/container-name';

const WRAPPER = join(__dirname, '..', '..', '..', 'scripts', 'executor.sh');
/** Every container this file creates carries this label, so after() finds them all. */
const RUN_LABEL = `sce.wrapper-test=${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`;
const tempDirs: string[] = [];
const agents: MesosAgentDouble[] = [];
const children: ChildProcess[] = [];

before(() => requireDocker());

after(async () => {
  // Each wrapper leads its own process group, with the executor it started: kill the group, so
  // an executor a failed test left behind (retrying a stopped agent) cannot keep this file alive.
  for (const child of children) {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* the group is gone */ }
  }
  for (const agent of agents) await agent.stop().catch(() => undefined);
  const ids = docker('ps', '-aq', '--filter', `label=${RUN_LABEL}`).split('\n').filter(Boolean);
  if (ids.length > 0) docker('rm', '-f', ...ids);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/**
 * A stand-in executor: records $0, its arguments and its environment into $FAKE_OUT, then does
 * what FAKE_MODE says and exits with FAKE_EXIT.
 */
const FAKE_EXECUTOR = `#!/bin/sh
out="$FAKE_OUT"
printf '%s\\n' "$0" > "$out/argv0"
printf '%s\\n' "$#" > "$out/argc"
for a in "$@"; do printf '[%s]\\n' "$a"; done > "$out/argv"
env > "$out/env"
case "$FAKE_MODE" in
  orphan)
    docker run -d --label "$FAKE_LABEL" --stop-timeout 1 -e "TASK_ID=$TASK_ID" ${TEST_IMAGE} sleep 300 > "$out/container" || exit 99
    ;;
  stubborn)
    docker run -d --label "$FAKE_LABEL" --stop-timeout 30 -e "TASK_ID=$TASK_ID" ${TEST_IMAGE} sh -c "trap '' TERM; while true; do sleep 0.1; done" > "$out/container" || exit 99
    ;;
  trap)
    trap 'echo TERM >> "$out/signals"; exit "\${FAKE_EXIT:-0}"' TERM
    : > "$out/ready"
    while :; do sleep 0.05; done
    ;;
esac
exit "\${FAKE_EXIT:-0}"
`;

interface Setup { dir: string; installed: string; sandbox: string; out: string }

function setup(): Setup {
  const dir = tempDir('sce-wrapper-');
  const installed = join(dir, 'opt', 'fake-executor');
  mkdirSync(dirname(installed), { recursive: true });
  writeFileSync(installed, FAKE_EXECUTOR, { mode: 0o755 });
  const sandbox = join(dir, 'sandbox');
  const out = join(dir, 'out');
  mkdirSync(sandbox);
  mkdirSync(out);
  return { dir, installed, sandbox, out };
}

interface Wrapper { child: ChildProcess; stdout: string; stderr: string; exited: Promise<number | null> }

function startWrapper(env: Record<string, string | undefined>, cwd?: string): Wrapper {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries({ PATH, HOME: process.env.HOME ?? '/root', ...TEST_EXECUTOR_ENV, ...env })) if (v !== undefined) clean[k] = v;
  // The script itself, as the agent runs it: its shebang says bash.
  const child = spawn(WRAPPER, [], { env: clean, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  const w: Wrapper = { child, stdout: '', stderr: '', exited: undefined as unknown as Promise<number | null> };
  child.stdout!.on('data', (d: Buffer) => { w.stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { w.stderr += d.toString(); });
  w.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return w;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms); });
  try { return await Promise.race([promise, timeout]); } finally { clearTimeout(timer); }
}

async function runWrapper(env: Record<string, string | undefined>, cwd?: string, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const w = startWrapper(env, cwd);
  const code = await within(w.exited, timeoutMs, 'the wrapper');
  return { code, stdout: w.stdout, stderr: w.stderr };
}

async function waitForFile(file: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function fakeEnv(s: Setup, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    SIDECAR_EXECUTOR_PATH: s.installed,
    SIDECAR_EXECUTOR_CUSTOM_ENV_PATH: join(s.dir, 'no-such-executor-environment.sh'),
    MESOS_SANDBOX: s.sandbox,
    FAKE_OUT: s.out,
    FAKE_LABEL: RUN_LABEL,
    ...extra,
  };
}

function recordedEnv(s: Setup): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of readFileSync(join(s.out, 'env'), 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return env;
}

test('the executor is copied into the sandbox as sidecar-executor and the copy is what runs, with one blank padding argument', async () => {
  const s = setup();
  const r = await runWrapper(fakeEnv(s));
  assert.equal(r.code, 0, r.stderr);
  const copy = join(s.sandbox, 'sidecar-executor');
  assert.equal(readFileSync(copy, 'utf8'), FAKE_EXECUTOR);
  assert.equal(statSync(copy).mode & 0o777, 0o755);
  assert.equal(readFileSync(join(s.out, 'argv0'), 'utf8').trim(), copy);
  assert.equal(readFileSync(join(s.out, 'argc'), 'utf8').trim(), '1');
  const pad = /^\[( *)\]$/.exec(readFileSync(join(s.out, 'argv'), 'utf8').trim());
  assert.ok(pad, 'the only argument is blank');
  assert.ok(pad[1]!.length >= 100, `the padding leaves room for the process title (${pad[1]!.length} chars)`);
  // The installed executor is untouched.
  assert.equal(readFileSync(s.installed, 'utf8'), FAKE_EXECUTOR);
});

test('without MESOS_SANDBOX the copy goes into the working directory', async () => {
  const s = setup();
  const r = await runWrapper(fakeEnv(s, { MESOS_SANDBOX: undefined }), s.sandbox);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(s.out, 'argv0'), 'utf8').trim(), join(s.sandbox, 'sidecar-executor'));
});

test("the executor's exit code is the wrapper's", async () => {
  for (const code of [0, 3, 42]) {
    const s = setup();
    const r = await runWrapper(fakeEnv(s, { FAKE_EXIT: String(code) }));
    assert.equal(r.code, code);
  }
});

test('the custom env file is sourced: a variable it exports reaches the executor; a missing one is fine', async () => {
  const s = setup();
  const custom = join(s.dir, 'executor-environment.sh');
  writeFileSync(custom, 'export SCE_CUSTOM_VAR="from the custom env file"\nEXECUTOR_SIDECAR_MAX_FAILS=7\nexport EXECUTOR_SIDECAR_MAX_FAILS\n');
  const r = await runWrapper(fakeEnv(s, { SIDECAR_EXECUTOR_CUSTOM_ENV_PATH: custom }));
  assert.equal(r.code, 0, r.stderr);
  const env = recordedEnv(s);
  assert.equal(env.get('SCE_CUSTOM_VAR'), 'from the custom env file');
  assert.equal(env.get('EXECUTOR_SIDECAR_MAX_FAILS'), '7');
  // The agent's variables pass through.
  assert.equal(env.get('MESOS_SANDBOX'), s.sandbox);

  const s2 = setup();
  const missing = await runWrapper(fakeEnv(s2, { SIDECAR_EXECUTOR_CUSTOM_ENV_PATH: join(s2.dir, 'absent.sh') }));
  assert.equal(missing.code, 0, missing.stderr);
  assert.equal(missing.stderr, '');
  assert.equal(recordedEnv(s2).has('SCE_CUSTOM_VAR'), false);
});

test('the custom env file is sourced by bash, as sites write them: arrays and [[ ]] work', async () => {
  const s = setup();
  const custom = join(s.dir, 'executor-environment.sh');
  writeFileSync(custom, [
    'SIDECAR_HOSTS=(sidecar-a sidecar-b sidecar-c)',
    'if [[ ${#SIDECAR_HOSTS[@]} -eq 3 && $HOME == /* ]]; then',
    '  export EXECUTOR_SIDECAR_URL="http://${SIDECAR_HOSTS[1]}:7777/state.json"',
    'fi',
    'export DEBUG=true',
    '',
  ].join('\n'));
  const r = await runWrapper(fakeEnv(s, { SIDECAR_EXECUTOR_CUSTOM_ENV_PATH: custom }));
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Syntax error|unexpected|not found/);
  const env = recordedEnv(s);
  assert.equal(env.get('EXECUTOR_SIDECAR_URL'), 'http://sidecar-b:7777/state.json');
  assert.equal(env.get('DEBUG'), 'true');
});

test('a missing executor is a clear error and a non-zero exit', async () => {
  const s = setup();
  const absent = join(s.dir, 'no-such-executor');
  const r = await runWrapper(fakeEnv(s, { SIDECAR_EXECUTOR_PATH: absent }));
  assert.notEqual(r.code, 0);
  assert.ok(r.stderr.includes(`executor.sh: cannot copy ${absent} into ${s.sandbox}`), r.stderr);
  assert.equal(existsSync(join(s.out, 'argv0')), false, 'nothing ran');

  // Unset, it is the default path, which this machine does not have.
  if (!existsSync('/opt/mesos/sidecar-executor')) {
    const d = await runWrapper(fakeEnv(s, { SIDECAR_EXECUTOR_PATH: undefined }));
    assert.notEqual(d.code, 0);
    assert.ok(d.stderr.includes('executor.sh: cannot copy /opt/mesos/sidecar-executor into'), d.stderr);
  }
});

test("on exit, a still-running container of this task (TASK_ID in its env) is stopped; another task's is untouched", async () => {
  const s = setup();
  const taskId = uniqueTaskId('wrapper-orphan');
  // Same prefix, different TASK_ID: only an exact match counts.
  const other = docker('run', '-d', '--label', RUN_LABEL, '-e', `TASK_ID=${taskId}-other`, TEST_IMAGE, 'sleep', '300');
  const r = await runWrapper(fakeEnv(s, { FAKE_MODE: 'orphan', FAKE_EXIT: '5', TASK_ID: taskId }));
  assert.equal(r.code, 5, r.stderr);
  const orphan = readFileSync(join(s.out, 'container'), 'utf8').trim();
  assert.match(orphan, /^[0-9a-f]{64}$/);
  assert.equal(inspect(orphan).State.Running, false, 'the orphan was stopped');
  assert.ok(r.stderr.includes(`executor.sh: stopping container ${orphan.slice(0, 12)} of task ${taskId} left running`), r.stderr);
  assert.equal(inspect(other).State.Running, true, "the other task's container still runs");
});

test('the clean-up stop uses KillTaskTimeout (EXECUTOR_KILL_TASK_TIMEOUT, else KILL_TASK_TIMEOUT), not the container\'s 30 s', async () => {
  for (const name of ['EXECUTOR_KILL_TASK_TIMEOUT', 'KILL_TASK_TIMEOUT']) {
    const s = setup();
    const taskId = uniqueTaskId('wrapper-stubborn');
    const started = Date.now();
    const r = await runWrapper(fakeEnv(s, { FAKE_MODE: 'stubborn', FAKE_EXIT: '0', TASK_ID: taskId, [name]: '1' }));
    const took = Date.now() - started;
    assert.equal(r.code, 0, r.stderr);
    const orphan = readFileSync(join(s.out, 'container'), 'utf8').trim();
    const state = inspect(orphan).State;
    assert.equal(state.Running, false, 'the orphan was stopped');
    assert.equal(state.ExitCode, 137, 'it ignored SIGTERM, so SIGKILL after the 1 s KillTaskTimeout');
    assert.ok(took < 8000, `${name}=1: the wrapper took ${took} ms (the container's own stop timeout is 30 s)`);
  }
});

test('SIGTERM to the wrapper is forwarded to the executor, whose exit code the wrapper returns', async () => {
  const s = setup();
  const w = startWrapper(fakeEnv(s, { FAKE_MODE: 'trap', FAKE_EXIT: '0' }));
  await waitForFile(join(s.out, 'ready'));
  // The wrapper sets its trap right after starting the executor; give it that instant.
  await new Promise((r) => setTimeout(r, 100));
  w.child.kill('SIGTERM');
  const code = await within(w.exited, 10_000, 'the wrapper after SIGTERM');
  assert.equal(readFileSync(join(s.out, 'signals'), 'utf8'), 'TERM\n');
  assert.equal(code, 0, w.stderr);

  const s2 = setup();
  const w2 = startWrapper(fakeEnv(s2, { FAKE_MODE: 'trap', FAKE_EXIT: '143' }));
  await waitForFile(join(s2.out, 'ready'));
  await new Promise((r) => setTimeout(r, 100));
  w2.child.kill('SIGTERM');
  assert.equal(await within(w2.exited, 10_000, 'the wrapper after SIGTERM'), 143);
  assert.equal(readFileSync(join(s2.out, 'signals'), 'utf8'), 'TERM\n');
});

// ---- the real executor through the wrapper ---------------------------------------------------

/** Children of a process, from /proc/<pid>/stat (the ppid is the 2nd field after the comm). */
function childPids(ppid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) pids.push(Number(name));
    } catch { /* gone */ }
  }
  return pids;
}

function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

interface RealRun { agent: MesosAgentDouble; wrapper: Wrapper; sandbox: string; installed: string; taskId: string; executorPid: number }

/** `engine`: a private dockerd for the run (its env and image), else the main engine. */
async function startReal(label: string, cmd: string, engine?: PrivateDockerd): Promise<RealRun> {
  const dir = tempDir('sce-wrapper-real-');
  const { installed, sandbox } = installForWrapper(dir);
  const taskId = uniqueTaskId(label);
  const agent = await MesosAgentDouble.start();
  agents.push(agent);
  const wrapper = startWrapper({
    ...agent.executorEnvironment(),
    ...engine?.env,
    MESOS_SANDBOX: sandbox,
    MESOS_DIRECTORY: sandbox,
    TASK_ID: taskId,
    SIDECAR_EXECUTOR_PATH: installed,
    SIDECAR_EXECUTOR_CUSTOM_ENV_PATH: join(dir, 'no-such-executor-environment.sh'),
  });
  await within(agent.waitForSubscribe(1, 15_000), 20_000, 'SUBSCRIBE').catch((err: Error) => {
    throw new Error(`${err.message}\n--- wrapper stderr ---\n${wrapper.stderr.slice(-4000)}`);
  });
  const [executorPid] = childPids(wrapper.child.pid!);
  assert.ok(executorPid, 'the wrapper has a child process');
  // Before the task runs: the sandbox copy, run by node, with the padding argument.
  const before = cmdline(executorPid);
  assert.ok(before.includes(`${join(sandbox, 'sidecar-executor')}  `), `the sandbox copy runs: ${JSON.stringify(before)}`);
  await agent.launch(dockerTaskInfo({
    image: TEST_IMAGE, taskId, cmd,
    // Singularity puts TASK_ID in the executor's environment, which the container gets too.
    executorEnv: { TASK_ID: taskId },
    labels: { SidecarDiscover: 'false', [RUN_LABEL.split('=')[0]!]: RUN_LABEL.split('=')[1]! },
    ...(engine ? { network: 'NONE' as const } : {}),
  }));
  return { agent, wrapper, sandbox, installed, taskId, executorPid };
}

function waitFor(run: RealRun, state: string, timeoutMs = 30_000): ReturnType<MesosAgentDouble['waitForUpdate']> {
  return run.agent.waitForUpdate((s) => s.task_id.value === run.taskId && s.state === state, timeoutMs);
}

test('the real executor through the wrapper: the task runs to TASK_FINISHED; the process title names the container and the image', async () => {
  const run = await startReal('wrapper-real', 'sleep 3');
  const running = await waitFor(run, 'TASK_RUNNING');
  const id = /^Container (\w{12}) running$/.exec(running.message ?? '')?.[1];
  assert.ok(id, running.message);
  assert.equal(readFileSync(join(run.sandbox, 'sidecar-executor'), 'utf8'), readFileSync(EXECUTOR, 'utf8'));
  const title = `sidecar-executor ${id} (${TEST_IMAGE})`;
  const deadline = Date.now() + 2000;
  let seen = cmdline(run.executorPid);
  while (!seen.startsWith(title) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    seen = cmdline(run.executorPid);
  }
  assert.ok(seen.startsWith(title), `ps shows ${JSON.stringify(seen.trimEnd())}, expected it to start with ${JSON.stringify(title)}`);
  const finished = await waitFor(run, 'TASK_FINISHED');
  assert.equal(finished.message, 'Container exited with status 0');
  assert.equal(await within(run.wrapper.exited, 15_000, 'the wrapper'), 0, run.wrapper.stderr.slice(-4000));
  assert.deepEqual(run.agent.updates().map((s) => s.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.deepEqual(run.agent.rejectedCalls(), []);
  assert.equal(inspect(containerNameForTask(run.taskId)).State.Running, false);
  assert.doesNotMatch(run.wrapper.stderr, /executor\.sh: stopping container/);
});

test('the real executor SIGKILLed: the wrapper stops the task container it left running', async () => {
  // On an engine of its own: on the main engine, an executor of another test file starting at
  // that moment would find the container orphaned and stop it first (orphan-reaper.ts).
  const engine = await PrivateDockerd.start();
  try {
    engine.loadImage(TEST_IMAGE);
    const run = await startReal('wrapper-sigkill', 'sh -c "trap \'exit 0\' TERM; while true; do sleep 0.1; done"', engine);
    await waitFor(run, 'TASK_RUNNING');
    const name = containerNameForTask(run.taskId);
    assert.equal(engine.inspect(name).State.Running, true);
    process.kill(run.executorPid, 'SIGKILL');
    const code = await within(run.wrapper.exited, 30_000, 'the wrapper');
    assert.equal(code, 137, 'the executor died of SIGKILL');
    const c = engine.inspect(name);
    assert.equal(c.State.Running, false, 'no container outlives its executor');
    assert.ok(run.wrapper.stderr.includes(`executor.sh: stopping container ${c.Id.slice(0, 12)} of task ${run.taskId} left running`), run.wrapper.stderr.slice(-2000));
  } finally {
    await engine.teardown();
  }
});

test("the Go wrapper's command line: `-logtostderr=true` and a blank argument are accepted and ignored, the task runs", async () => {
  // What the Go executor.sh runs, so replacing only the binary under it works (README: Installing).
  const agent = await MesosAgentDouble.start();
  agents.push(agent);
  const taskId = uniqueTaskId('go-wrapper-args');
  await agent.launch(dockerTaskInfo({ image: TEST_IMAGE, taskId, cmd: 'echo hi', labels: { SidecarDiscover: 'false', [RUN_LABEL.split('=')[0]!]: RUN_LABEL.split('=')[1]! } }));
  for (const args of [['-logtostderr=true', ' '.repeat(34)], ['--logtostderr', '-v=2', '-log_dir=/tmp', ' '.repeat(34)]]) {
    const executor = new ExecutorProcess({ ...agent.executorEnvironment(), MESOS_CHECKPOINT: '0' }, args);
    if (args[0] === '-logtostderr=true') {
      await agent.waitForUpdate((s) => s.task_id.value === taskId && s.state === 'TASK_FINISHED', 30_000);
      assert.equal(await executor.waitForExit(), 0, executor.output.slice(-2000));
      assert.match(executor.stdout, /msg="Starting Sidecar Executor"/);
    } else {
      // No second task for it: it subscribes, and a SHUTDOWN ends it.
      await agent.waitForSubscribe(2, 10_000);
      await agent.shutdown();
      assert.equal(await executor.waitForExit(), 0, executor.output.slice(-2000));
    }
    assert.doesNotMatch(executor.output, /unknown command/);
  }
  const unknown = new ExecutorProcess({}, ['launch-rockets']);
  assert.equal(await unknown.waitForExit(), 1);
  assert.match(unknown.stderr, /unknown command "launch-rockets"/);
});
