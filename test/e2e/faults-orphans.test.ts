// An executor's whole process group SIGKILLed (docs/faults.md), as an agent destroying an executor
// does: neither the executor nor the wrapper's trap can stop the container. Containers carry
// their owner's identity in labels; the next executor starting on the host stops the containers
// whose owner is certainly gone (KillTaskTimeout, logged) and never one whose owner may be alive.
// Every executor here talks to a private dockerd: the executors of other tests, starting on the
// main engine meanwhile, would otherwise reap the orphan first (and this file theirs).
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cleanupAll, installForWrapper, requireDocker, startRun, TEST_EXECUTOR_ENV, TEST_IMAGE, uniqueTaskId, type ExecutorProcess, type Run } from './harness';
import { MesosAgentDouble } from '../doubles/mesos-agent';
import { dockerTaskInfo, FIXTURE_IDS } from '../doubles/task-fixtures';
import { allPids, parentPidOf, signalQuietly, waitGoneSync } from '../support/linux-host';
import { PrivateDockerd } from '../support/private-dockerd';
import { containerNameForTask } from '../../src/docker/container-name';

const WRAPPER = join(__dirname, '..', '..', '..', 'scripts', 'executor.sh');
const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`;
/** The owner labels, as docs/faults.md names them. */
const LABEL = {
  executorId: 'sidecar-executor.executor-id', frameworkId: 'sidecar-executor.framework-id', pid: 'sidecar-executor.pid',
  startTime: 'sidecar-executor.pid-start-time', pidNamespace: 'sidecar-executor.pid-namespace',
};
/** Every container of this file carries it. */
const RUN_LABEL = { key: 'sce.faults-orphans', value: `${process.pid}-${Math.random().toString(36).slice(2, 8)}` };
/** Stops on SIGTERM (143: TASK_KILLED), so a KILL ends the live tasks at once. */
const EXITS_ON_TERM = 'sh -c "trap \'exit 143\' TERM; while true; do sleep 0.1; done"';
/** Notes SIGTERM in its log and keeps running: only the SIGKILL after the stop timeout ends it. */
const IGNORES_TERM = 'sh -c "trap \'echo got-sigterm\' TERM; while true; do sleep 0.1; done"';
const ORPHAN_KILL_TIMEOUT_SEC = 3;

let engine: PrivateDockerd | undefined;
const wrappers: ChildProcess[] = [];
const agents: MesosAgentDouble[] = [];
const tempDirs: string[] = [];
const zombieParents: ChildProcess[] = [];

before(async () => {
  requireDocker();
  engine = await PrivateDockerd.start();
  engine.loadImage(TEST_IMAGE);
});

/** Ends every executor and agent of a test and removes its containers, whatever happened. */
async function cleanUp(): Promise<void> {
  for (const wrapper of wrappers.splice(0)) signalQuietly(-wrapper.pid!, 'SIGKILL'); // the group: wrapper and executor
  for (const parent of zombieParents.splice(0)) signalQuietly(parent.pid!, 'SIGKILL'); // init reaps the zombie
  await cleanupAll();
  for (const agent of agents.splice(0)) await agent.stop().catch(() => undefined);
  const ids = engine?.running ? engine.docker('ps', '-aq', '--filter', `label=${RUN_LABEL.key}=${RUN_LABEL.value}`).split('\n').filter(Boolean) : [];
  if (ids.length > 0) engine!.docker('rm', '-f', ...ids);
}

afterEach(cleanUp);

after(async () => {
  await cleanUp();
  await engine?.teardown();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const privateEngine = (): PrivateDockerd => { if (!engine) throw new Error('the private dockerd did not start'); return engine; };

/** The fields of /proc/<pid>/stat after the command name: [0] is the state, [19] the start time. */
function statOf(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch { return undefined; }
}
const stateOf = (pid: number): string | undefined => statOf(pid)?.[0];
/** In clock ticks after boot: with the pid, it tells a process from a later one. */
const startTimeOf = (pid: number): string => statOf(pid)?.[19] ?? `(no process ${pid})`;

/** A pid no process has (counting down from pid_max). */
function unusedPid(): number {
  for (let pid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) - 1; pid > 300; pid--) if (!existsSync(`/proc/${pid}`)) return pid;
  throw new Error('no unused pid');
}

async function until(what: string, probe: () => boolean, timeoutMs: number, context: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${context()}`);
    await sleep(50);
  }
}

/** The one log line of this executor matching `pattern`, waited for. */
async function logLine(executor: ExecutorProcess, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  await until(`a log line matching ${pattern}`, () => pattern.test(executor.stdout), timeoutMs, () => executor.stdout.slice(-3000));
  return executor.stdout.split('\n').find((line) => pattern.test(line))!;
}

/** An executor of this file on the private engine, through the harness, its task on network NONE. */
async function startDirect(name: string, env: Record<string, string> = {}): Promise<Run> {
  const executorId = `sidecar-executor-orphans-${name}`;
  const run = await startRun(`orphans-${name}`, {
    task: { cmd: EXITS_ON_TERM, network: 'NONE', executorId, labels: { [RUN_LABEL.key]: RUN_LABEL.value } },
    agent: { executorId },
    env: { ...privateEngine().env, MESOS_SUBSCRIPTION_BACKOFF_MAX: '500ms', EXECUTOR_KILL_TASK_TIMEOUT: '1', ...env },
  });
  await run.update('TASK_RUNNING');
  return run;
}

interface WrappedRun { agent: MesosAgentDouble; wrapper: ChildProcess; wrapperStderr: () => string; exited: Promise<unknown>; taskId: string; executorPid: number }

/** An executor started as the agent starts it: `sh executor.sh`, leading its own process group. */
async function startThroughWrapper(name: string, cmd: string): Promise<WrappedRun> {
  const dir = mkdtempSync(join(tmpdir(), 'sce-orphans-'));
  tempDirs.push(dir);
  const { installed, sandbox } = installForWrapper(dir);
  const executorId = `sidecar-executor-orphans-${name}`;
  const frameworkId = FIXTURE_IDS.frameworkId.replace(/-\d{4}$/, '-0042');
  const agent = await MesosAgentDouble.start({ executorId, frameworkId });
  agents.push(agent);
  const taskId = uniqueTaskId(`orphans-${name}`);
  const wrapper = spawn(WRAPPER, [], {
    env: {
      PATH, HOME: process.env.HOME ?? '/root', ...TEST_EXECUTOR_ENV, ...agent.executorEnvironment(), ...privateEngine().env,
      MESOS_SANDBOX: sandbox, MESOS_DIRECTORY: sandbox, SIDECAR_EXECUTOR_PATH: installed,
      SIDECAR_EXECUTOR_CUSTOM_ENV_PATH: join(dir, 'no-such-executor-environment.sh'), EXECUTOR_KILL_TASK_TIMEOUT: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  wrappers.push(wrapper);
  let stderr = '';
  wrapper.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  wrapper.stdout!.resume();
  const exited = new Promise((resolve) => wrapper.on('exit', resolve));
  await agent.launch(dockerTaskInfo({
    image: TEST_IMAGE, taskId, cmd, network: 'NONE', executorId, frameworkId,
    labels: { SidecarDiscover: 'false', [RUN_LABEL.key]: RUN_LABEL.value },
  }));
  await agent.waitForUpdate((s) => s.task_id.value === taskId && s.state === 'TASK_RUNNING', 20_000)
    .catch((err: Error) => { throw new Error(`${err.message}\n--- wrapper stderr ---\n${stderr.slice(-3000)}`); });
  // The wrapper's child: the sandbox copy of the executor (env execs node in the same process).
  const [executorPid] = allPids().filter((pid) => parentPidOf(pid) === wrapper.pid);
  assert.ok(executorPid, 'the wrapper runs the executor');
  assert.match(readFileSync(`/proc/${executorPid}/cmdline`, 'utf8'), /^sidecar-executor /, 'the executor, titled after its container');
  return { agent, wrapper, wrapperStderr: () => stderr, exited, taskId, executorPid };
}

/**
 * A zombie: `sleep 0.01`, whose parent (sh, exec'd into `sleep 300`) never reaps it. An owner
 * that died and was not reaped yet looks like this: gone, though /proc still lists it.
 */
async function startZombie(): Promise<{ pid: number; startTime: string }> {
  const parent = spawn('sh', ['-c', 'sleep 0.01 & exec sleep 300'], { stdio: 'ignore' });
  parent.unref();
  zombieParents.push(parent);
  let zombie: number | undefined;
  await until('a zombie', () => {
    zombie = allPids().find((pid) => parentPidOf(pid) === parent.pid && stateOf(pid) === 'Z');
    return zombie !== undefined;
  }, 5000);
  return { pid: zombie!, startTime: startTimeOf(zombie!) };
}

/** `docker run -d` on the private engine of a container labelled as if some executor owned it. */
function runLabelled(owner: Record<string, string>): string {
  const labels = Object.entries({ [RUN_LABEL.key]: RUN_LABEL.value, ...owner }).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  return privateEngine().docker('run', '-d', '--network', 'none', ...labels, TEST_IMAGE, 'sleep', '300');
}

const running = (id: string): boolean => privateEngine().inspect(id).State.Running === true;
const ms = (dockerTime: string): number => Date.parse(dockerTime.replace(/(\.\d{3})\d*Z$/, '$1Z'));

/** The exact updates of a run: these states in order, unique uuids, nothing refused. */
function assertUpdates(agent: MesosAgentDouble, taskId: string, states: string[]): void {
  const updates = agent.updates();
  assert.deepEqual(updates.map((s) => `${s.task_id.value} ${s.state}`), states.map((s) => `${taskId} ${s}`));
  assert.equal(new Set(updates.map((s) => s.uuid)).size, updates.length, 'every update has its own uuid');
  assert.deepEqual(agent.rejectedCalls(), []);
}

/** KILL: TASK_KILLED, then the executor exits 0 and its container is stopped. */
async function killCleanly(run: Run): Promise<void> {
  await run.agent.kill(run.taskId);
  const killed = await run.update('TASK_KILLED');
  assert.equal(killed.message, 'Container exited with status 143 after the executor stopped it (KILL from the scheduler)');
  assert.equal(await run.executor.waitForExit(15_000), 0);
  assertUpdates(run.agent, run.taskId, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
  assert.equal(running(run.containerName), false);
}

function assertNothingRunning(): void {
  assert.equal(privateEngine().docker('ps', '-q', '--filter', `label=${RUN_LABEL.key}=${RUN_LABEL.value}`), '', 'no container of this file is left running');
}

test("an executor's process group SIGKILLed: its container runs on; the next executor stops it with KillTaskTimeout and leaves a live neighbour's alone", async () => {
  const pidNamespace = readlinkSync('/proc/self/ns/pid');
  // B, the live neighbour, starts first, and its own reaper (a few seconds after it starts)
  // has looked before A exists: the orphan is left for C to find.
  const b = await startDirect('b', { EXECUTOR_DEBUG: 'true' });
  await logLine(b.executor, /msg="Looked for orphaned containers" listed=1 orphans=0 stopped=0/, 15_000);
  const bContainer = privateEngine().inspect(b.containerName);
  assert.equal(bContainer.Config.Labels[LABEL.pid], String(b.executor.child.pid));

  const a = await startThroughWrapper('a', IGNORES_TERM);
  const aContainer = privateEngine().inspect(containerNameForTask(a.taskId));
  const aId = aContainer.Id as string;
  assert.deepEqual(Object.fromEntries(Object.values(LABEL).map((key) => [key, aContainer.Config.Labels[key]])), {
    [LABEL.executorId]: a.agent.executorId, [LABEL.frameworkId]: a.agent.frameworkId, [LABEL.pid]: String(a.executorPid),
    [LABEL.startTime]: startTimeOf(a.executorPid), [LABEL.pidNamespace]: pidNamespace,
  });

  process.kill(-a.wrapper.pid!, 'SIGKILL'); // what an agent destroying the executor does
  await a.exited;
  assert.deepEqual(waitGoneSync([a.executorPid], 5000), [], "A's executor is gone");
  await sleep(1000);
  assert.equal(running(aId), true, "nobody stopped A's container: the wrapper's trap never ran");
  assert.doesNotMatch(a.wrapperStderr(), /executor\.sh: stopping container/);
  assertUpdates(a.agent, a.taskId, ['TASK_STARTING', 'TASK_RUNNING']);
  await a.agent.stop();
  // Reaped, not just dead: an owner that is still a zombie is the next test's case.
  await until("init reaps A's executor", () => !existsSync(`/proc/${a.executorPid}`), 15_000);

  const c = await startDirect('c', { EXECUTOR_KILL_TASK_TIMEOUT: String(ORPHAN_KILL_TIMEOUT_SEC), EXECUTOR_DEBUG: 'true' });
  const stopping = await logLine(c.executor, new RegExp(`msg="Stopping an orphaned container: its executor is gone".* container=${aId.slice(0, 12)}\\b`));
  assert.match(stopping, new RegExp(`why="(no process has its owner's pid ${a.executorPid}|pid ${a.executorPid} now belongs to a process that started later)"`));
  assert.match(stopping, new RegExp(`executor=${a.agent.executorId} framework=${a.agent.frameworkId}`));
  await until("A's container stops", () => !running(aId), (ORPHAN_KILL_TIMEOUT_SEC + 10) * 1000, () => c.executor.stdout.slice(-3000));
  await logLine(c.executor, new RegExp(`msg="Stopped an orphaned container" container=${aId.slice(0, 12)}\\b`), 5000);
  // SIGTERM, then SIGKILL after KillTaskTimeout (not Docker's default 10 s, not at once).
  const stopped = privateEngine().inspect(aId).State;
  assert.equal(stopped.ExitCode, 137, 'SIGKILLed after the stop timeout');
  const term = /^(\S+) got-sigterm$/m.exec(privateEngine().docker('logs', '--timestamps', aId));
  assert.ok(term, 'A\'s container got SIGTERM first');
  const graceMs = ms(stopped.FinishedAt) - ms(term[1]!);
  assert.ok(graceMs > (ORPHAN_KILL_TIMEOUT_SEC - 0.5) * 1000 && graceMs < (ORPHAN_KILL_TIMEOUT_SEC + 2) * 1000, `SIGKILL came ${graceMs} ms after SIGTERM`);

  // B: its owner is alive, so C looked at it and left it alone.
  const bId12 = (bContainer.Id as string).slice(0, 12);
  assert.match(c.executor.stdout, new RegExp(`msg="Leaving a container of another executor alone" container=${bId12} why="its owner \\(pid ${b.executor.child.pid}\\) is alive"`));
  assert.equal((c.executor.stdout.match(/msg="Stopping an orphaned container/g) ?? []).length, 1, 'C stopped one orphan, A\'s');
  assert.equal(running(b.containerName), true, "B's container is untouched");
  assertUpdates(b.agent, b.taskId, ['TASK_STARTING', 'TASK_RUNNING']);
  assertUpdates(c.agent, c.taskId, ['TASK_STARTING', 'TASK_RUNNING']);

  await killCleanly(b);
  await killCleanly(c);
  assertNothingRunning();
});

test('a starting executor never stops a container whose owner may be alive (a live pid, another pid namespace, incomplete labels); a reused pid or a zombie owner is gone', async () => {
  const me = { pid: String(process.pid), startTime: startTimeOf(process.pid), pidNamespace: readlinkSync('/proc/self/ns/pid') };
  const owner = (name: string, o: Partial<typeof me>): Record<string, string> => {
    const labels: Record<string, string> = { [LABEL.executorId]: `sidecar-executor-${name}`, [LABEL.frameworkId]: FIXTURE_IDS.frameworkId };
    if (o.pid) labels[LABEL.pid] = o.pid;
    if (o.startTime) labels[LABEL.startTime] = o.startTime;
    if (o.pidNamespace) labels[LABEL.pidNamespace] = o.pidNamespace;
    return labels;
  };
  const gonePid = String(unusedPid());
  const liveOwner = runLabelled(owner('live-owner', me));
  const otherNamespace = runLabelled(owner('other-namespace', { pid: gonePid, startTime: '12345', pidNamespace: 'pid:[1]' }));
  const incomplete = runLabelled(owner('incomplete', { pid: gonePid, pidNamespace: me.pidNamespace }));
  // The test's own pid with another start time: the pid now belongs to a later process.
  const reused = runLabelled(owner('reused-pid', { ...me, startTime: '1' }));
  const zombie = await startZombie();
  const zombieOwned = runLabelled(owner('zombie', { pid: String(zombie.pid), startTime: zombie.startTime, pidNamespace: me.pidNamespace }));

  const d = await startDirect('d', { EXECUTOR_DEBUG: 'true' });
  const stopping = (id: string) => new RegExp(`msg="Stopping an orphaned container: its executor is gone" container=${id.slice(0, 12)} `);
  const reusedLine = await logLine(d.executor, stopping(reused));
  assert.match(reusedLine, new RegExp(`why="pid ${me.pid} now belongs to a process that started later"`));
  await until('the reused-pid container stops', () => !running(reused), 10_000, () => d.executor.stdout.slice(-3000));
  const leftAlone = (id: string, why: string) => `msg="Leaving a container of another executor alone" container=${id.slice(0, 12)} why=${JSON.stringify(why)}`;
  assert.ok(d.executor.stdout.includes(leftAlone(liveOwner, `its owner (pid ${me.pid}) is alive`)), d.executor.stdout.slice(-3000));
  assert.ok(d.executor.stdout.includes(leftAlone(otherNamespace, 'its owner runs in another pid namespace (pid:[1])')), d.executor.stdout.slice(-3000));
  assert.ok(d.executor.stdout.includes(leftAlone(incomplete, 'its owner labels are incomplete')), d.executor.stdout.slice(-3000));
  await sleep(1000);
  for (const id of [liveOwner, otherNamespace, incomplete]) assert.equal(running(id), true, `${id.slice(0, 12)} still runs`);
  assertUpdates(d.agent, d.taskId, ['TASK_STARTING', 'TASK_RUNNING']);
  // A dead owner not yet reaped (its parent died with it; init reaps when it gets to it) is gone.
  assert.equal(stateOf(zombie.pid), 'Z', 'the owner is still a zombie');
  const aboutZombie = d.executor.stdout.split('\n').filter((line) => line.includes(`container=${zombieOwned.slice(0, 12)}`)).join('\n');
  assert.match(d.executor.stdout, stopping(zombieOwned), `the container of a zombie owner (pid ${zombie.pid}) is stopped; the executor said:\n${aboutZombie}`);
  await until('the zombie-owned container stops', () => !running(zombieOwned), 5000);
  assert.equal((d.executor.stdout.match(/msg="Stopping an orphaned container/g) ?? []).length, 2);

  await killCleanly(d);
  privateEngine().docker('rm', '-f', liveOwner, otherNamespace, incomplete);
  assertNothingRunning();
});
