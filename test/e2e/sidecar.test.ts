// Sidecar health checking, draining and SIDECAR_SEEDS end to end (docs/health-checks.md): the
// built executor, the agent double, real dockerd, the Sidecar double and the master double, with
// intervals cut to 200 ms through the EXECUTOR_* settings so the whole file runs in well under a
// minute. The Sidecar double answers as Sidecar's own host (HOST, the agent's TASK_HOST), so a
// drain of our service finds it, as on a real agent where Sidecar runs beside the executor. It
// finds the task's container in dockerd and checks it as the real one does, with its intervals
// cut by the same order (SIDECAR_TIMING): a new service is UNKNOWN, then UNHEALTHY for one check,
// then ALIVE. Tests whose point is not that start-up use a SidecarBackoff past it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALIVE, DRAINING, SidecarDouble, TOMBSTONE, UNHEALTHY, UNKNOWN, type SidecarCall } from '../doubles/sidecar';
import { MesosMasterDouble } from '../doubles/mesos-master';
import type { MesosAgentDoubleOptions } from '../doubles/mesos-agent';
import type { DockerTaskOptions } from '../doubles/task-fixtures';
import type { TaskState, TaskStatus } from '../../src/mesos/types';
import { cleanupAll, docker, inspect, startRun, type Run } from './harness';

after(cleanupAll);

const HOST = 'agent-3.example.internal';
const TERMINAL = new Set<string>(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST']);
/** A container that runs until stopped and leaves cleanly on SIGTERM. */
const LOOP_CLEAN_ON_TERM = 'sh -c "trap \'exit 0\' TERM; while true; do sleep 0.1; done"';
const KILLING_CAPABLE: MesosAgentDoubleOptions = { hostname: HOST, frameworkCapabilities: [{ type: 'TASK_KILLING_STATE' }] };
/** Sidecar's checks every 3 s, discovery every 1 s and 3 s of UNHEALTHY after a restart, cut by 50. */
const SIDECAR_TIMING = { checkIntervalMs: 60, discoveryIntervalMs: 20, restartUnhealthyMs: 60 };
/**
 * The SidecarBackoff of these tests: well past a new service's start-up in Sidecar (a discovery
 * pass and two checks, about 150 ms here), so the first check sees it ALIVE.
 */
const SETTLED_BACKOFF_MS = 800;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 5 ms; 5 ms is far below the 200 ms poll interval the flips race against. */
async function until(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

interface SidecarRun { run: Run; sidecar: SidecarDouble; cleanup(): Promise<void> }

interface SidecarRunOptions {
  cmd?: string;
  env?: Record<string, string>;
  task?: Partial<DockerTaskOptions>;
  agent?: MesosAgentDoubleOptions;
  /** The SidecarDiscover label; 'true' unless given. */
  discover?: string;
}

/** A Sidecar double answering as HOST, and a run of the built executor pointed at it. */
async function startSidecarRun(label: string, options: SidecarRunOptions = {}): Promise<SidecarRun> {
  const sidecar = await SidecarDouble.start({ hostname: HOST, ...SIDECAR_TIMING });
  const run = await startRun(label, {
    task: { cmd: options.cmd ?? 'sleep 60', ...options.task, labels: { SidecarDiscover: options.discover ?? 'true', ...options.task?.labels } },
    agent: { hostname: HOST, ...options.agent },
    env: {
      EXECUTOR_SIDECAR_URL: sidecar.url,
      EXECUTOR_SIDECAR_BACKOFF: `${SETTLED_BACKOFF_MS}ms`,
      EXECUTOR_SIDECAR_POLL_INTERVAL: '200ms',
      EXECUTOR_SIDECAR_RETRY_COUNT: '1',
      EXECUTOR_SIDECAR_RETRY_DELAY: '50ms',
      EXECUTOR_HTTP_TIMEOUT: '200ms',
      EXECUTOR_SIDECAR_MAX_FAILS: '2',
      EXECUTOR_SIDECAR_DRAINING_DURATION: '1s',
      EXECUTOR_KILL_TASK_TIMEOUT: '2',
      ...options.env,
    },
  });
  return { run, sidecar, cleanup: async () => { await run.cleanup(); await sidecar.close(); } };
}

/** The first 12 characters of the task's container id: its service id in Sidecar. */
function serviceIdOf(run: Run): string {
  return String(inspect(run.containerName).Id).slice(0, 12);
}

/** Waits for TASK_RUNNING, then for `healthy: true` once the backoff is over (Sidecar: ALIVE). */
async function runningAndHealthy(run: Run, sidecar: SidecarDouble): Promise<string> {
  await run.update('TASK_RUNNING');
  const id = serviceIdOf(run);
  await waitForHealthy(run, true);
  assert.equal(sidecar.statusOf(HOST, id), ALIVE);
  return id;
}

const gets = (sidecar: SidecarDouble): SidecarCall[] => sidecar.callsTo('GET', '/state.json');
const drains = (sidecar: SidecarDouble): SidecarCall[] => sidecar.callsTo('POST', '/api/services/');

function statuses(run: Run): TaskStatus[] {
  return run.agent.updates().filter((s) => s.task_id.value === run.taskId);
}

/**
 * The `healthy` values of the health updates, in order; each must carry the health reason. The
 * terminal update of a task failed for its health also carries `healthy: false`
 * (docs/status-updates.md).
 */
function healthFlags(run: Run): boolean[] {
  const health = statuses(run).filter((s) => s.healthy !== undefined && s.state !== 'TASK_FAILED');
  for (const s of health) {
    assert.equal(s.state, 'TASK_RUNNING');
    assert.equal(s.reason, 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED');
  }
  return health.map((s) => s.healthy === true);
}

/** When the agent double accepted the first update of `state` for this task (Date.now() time). */
function updateArrivedAt(run: Run, state: TaskState): number {
  const call = run.agent.calls().find((c) => {
    const status = (c.body as { update?: { status?: TaskStatus } } | undefined)?.update?.status;
    return c.type === 'UPDATE' && c.status === 202 && status?.task_id.value === run.taskId && status.state === state;
  });
  assert.ok(call, `no accepted ${state} update`);
  return call.at;
}

function waitForHealthy(run: Run, healthy: boolean, timeoutMs = 3000): Promise<TaskStatus> {
  return run.agent.waitForUpdate((s) => s.task_id.value === run.taskId && s.healthy === healthy, timeoutMs);
}

function assertStillRunning(run: Run, when: string): void {
  const terminal = statuses(run).filter((s) => TERMINAL.has(s.state));
  assert.deepEqual(terminal.map((s) => `${s.state}: ${s.message}`), [], `no terminal update ${when}`);
  assert.equal(inspect(run.containerName).State.Running, true, `the container runs ${when}`);
}

test('a healthy task keeps running: checks every poll interval after the backoff, one healthy update', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-healthy');
  try {
    await run.update('TASK_RUNNING');
    const id = serviceIdOf(run);
    const healthy = await waitForHealthy(run, true);
    assert.match(healthy.message ?? '', new RegExp(`${id}.*${HOST}.*ALIVE`));
    const seen = gets(sidecar).length;
    await until(() => gets(sidecar).length >= seen + 6, 5000, 'six more checks');

    assertStillRunning(run, 'after several healthy checks');
    assert.deepEqual(healthFlags(run), [true], 'a steady verdict is published once');
    const calls = gets(sidecar);
    assert.ok(calls.every((c) => c.status === 200));
    // SidecarBackoff before the first check, then SidecarPollInterval between checks.
    const runningAt = updateArrivedAt(run, 'TASK_RUNNING');
    assert.ok(calls[0]!.at - runningAt >= SETTLED_BACKOFF_MS - 50, `first check ${calls[0]!.at - runningAt} ms after TASK_RUNNING, before the ${SETTLED_BACKOFF_MS} ms backoff`);
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
    assert.ok(gaps.every((g) => g >= 150 && g < 1000), `gaps between checks: ${gaps.join(', ')} ms`);
    assert.deepEqual(drains(sidecar), []);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('UNHEALTHY: failed after exactly MaxFails+1 failed checks; container stopped, logs copied, TASK_FAILED names the verdict', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-unhealthy', {
    cmd: 'sh -c "echo out-marker-7781; echo err-marker-7782 >&2; trap \'exit 3\' TERM; while true; do sleep 0.1; done"',
    env: { EXECUTOR_SIDECAR_MAX_FAILS: '2' },
  });
  try {
    const id = await runningAndHealthy(run, sidecar);
    // The service's checks fail from Sidecar's next check on. The double computes each answer when
    // the request arrives and records it then, and untilStatus resumes in the turn of the flip, so
    // every GET recorded after this index saw UNHEALTHY.
    sidecar.failChecks(id);
    await sidecar.untilStatus(id, UNHEALTHY);
    const before = gets(sidecar).length;
    const failed = await run.update('TASK_FAILED', 5000);
    await sleep(600); // three poll intervals: no check may follow the verdict
    assert.equal(gets(sidecar).length - before, 3, 'MaxFails 2: the third failed check in a row fails the task');

    assert.match(failed.message ?? '', /Sidecar found the service unhealthy/);
    assert.equal(failed.healthy, false);
    assert.match(failed.message ?? '', new RegExp(`${id} on host ${HOST} as UNHEALTHY`));
    assert.match(failed.message ?? '', /3 failed health checks in a row \(SidecarMaxFails 2\)/);
    assert.match(failed.message ?? '', /status 3/);
    assert.deepEqual(healthFlags(run), [true, false], 'the flip to unhealthy is published before the failure');
    assert.deepEqual(statuses(run).map((s) => s.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_FAILED']);
    const c = inspect(run.containerName);
    assert.equal(c.State.Running, false);
    assert.equal(c.State.ExitCode, 3);
    assert.match(run.executor.stdout, /out-marker-7781/);
    assert.match(run.executor.stderr, /err-marker-7782/);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('TOMBSTONE is a failed check too; SidecarMaxFails=0 fails the task on the first one', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-tombstone', { cmd: LOOP_CLEAN_ON_TERM, env: { EXECUTOR_SIDECAR_MAX_FAILS: '0' } });
  try {
    const id = await runningAndHealthy(run, sidecar);
    const before = gets(sidecar).length;
    // Sidecar answering TOMBSTONE while the container runs: its natural cause, the container
    // stopping, reaches the executor from dockerd first, so the test override sets it.
    sidecar.overrideStatus(id, TOMBSTONE);
    const failed = await run.update('TASK_FAILED', 5000);
    await sleep(400);
    assert.equal(gets(sidecar).length - before, 1);
    assert.match(failed.message ?? '', /Sidecar found the service unhealthy.*TOMBSTONE/);
    assert.equal(inspect(run.containerName).State.Running, false);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('flapping below MaxFails never kills, and every flip shows up as a healthy update', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-flap', { env: { EXECUTOR_SIDECAR_MAX_FAILS: '2' } });
  try {
    const id = await runningAndHealthy(run, sidecar);
    const checks = async (n: number): Promise<void> => {
      const seen = gets(sidecar).length;
      await until(() => gets(sidecar).length >= seen + n, 3000, `${n} more checks`);
    };
    for (let cycle = 0; cycle < 3; cycle++) {
      // Exactly MaxFails failed checks in a row, then a healthy one resets the counter. Sidecar
      // flips at its next check, within 60 ms, well inside the executor's 200 ms between checks.
      sidecar.failChecks(id);
      await sidecar.untilStatus(id, UNHEALTHY);
      await checks(2);
      sidecar.passChecks(id);
      await sidecar.untilStatus(id, ALIVE);
      await checks(1);
    }
    await checks(2);
    await sleep(100); // let the last update reach the agent
    assertStillRunning(run, 'after three unhealthy spells of MaxFails checks');
    assert.deepEqual(healthFlags(run), [true, false, true, false, true, false, true]);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('doubt never kills, even with SidecarMaxFails=0: down, slow past the timeout, 500, garbage, host or service missing, UNKNOWN, DRAINING', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-doubt', { env: { EXECUTOR_SIDECAR_MAX_FAILS: '0' } });
  try {
    const id = await runningAndHealthy(run, sidecar);
    const moreGets = async (n: number, what: string): Promise<void> => {
      const seen = gets(sidecar).length;
      await until(() => gets(sidecar).length >= seen + n, 5000, `${n} more state requests (${what})`);
    };

    await sidecar.down();
    await sleep(1000); // about three checks of two refused tries each
    assertStillRunning(run, 'while Sidecar is down');
    await sidecar.up();
    await moreGets(2, 'after Sidecar came back');

    sidecar.slow(1000); // past the 200 ms EXECUTOR_HTTP_TIMEOUT
    await moreGets(6, 'slow');
    sidecar.normal();
    assertStillRunning(run, 'while Sidecar answers past the timeout');

    sidecar.failWith(500);
    await moreGets(6, '500');
    sidecar.normal();
    assertStillRunning(run, 'while Sidecar answers 500');

    sidecar.garbage();
    await moreGets(6, 'garbage');
    sidecar.normal();
    assertStillRunning(run, 'while Sidecar answers garbage');

    // Our host missing (a test override: a Sidecar whose hostname is not TASK_HOST lists our
    // services under another name); our service id UNHEALTHY on another host must not be read as ours.
    sidecar.overrideHostMissing();
    sidecar.setGossipService('some-other-agent.example.internal', id, UNHEALTHY);
    await moreGets(3, 'host missing');
    assertStillRunning(run, 'while Sidecar does not list our host');

    // Our host listed without our service (a test override), beside another service of our host
    // whose checks fail.
    sidecar.clearOverrides();
    sidecar.overrideStatus(id, 'missing');
    sidecar.addStaticService('abcdef012345');
    sidecar.failChecks('abcdef012345');
    await moreGets(3, 'service missing');
    assertStillRunning(run, 'while Sidecar does not list our service');

    // UNKNOWN is what Sidecar says before a service's first check; ours is long past it, so the
    // test override says it.
    sidecar.overrideStatus(id, UNKNOWN);
    await moreGets(3, 'UNKNOWN');
    // Its checks passed all along underneath, so without the override it is ALIVE again.
    sidecar.clearOverrides();
    await moreGets(2, 'ALIVE again');
    // DRAINING by a drain from elsewhere (an operator's); passing checks leave it DRAINING. Last,
    // because only a failed check or a restart (UNHEALTHY, fatal at MaxFails 0) would end it.
    const drained = await fetch(`${sidecar.baseUrl}/api/services/${id}/drain`, { method: 'POST' });
    assert.equal(drained.status, 202);
    await moreGets(3, 'DRAINING');
    assert.equal(sidecar.statusOf(HOST, id), DRAINING);
    await sleep(100);

    assertStillRunning(run, 'after every kind of doubt');
    assert.deepEqual(healthFlags(run), [true], 'doubt leaves the published verdict alone');
    assert.match(run.executor.output, /Assuming healthy/);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('a Sidecar restart (UNHEALTHY for every service until its first check) is ridden out even at SidecarMaxFails=0', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-restart', { env: { EXECUTOR_SIDECAR_MAX_FAILS: '0' } });
  try {
    const id = await runningAndHealthy(run, sidecar);
    // Down for 300 ms (refused: doubt), then 3 s of UNHEALTHY as the real Sidecar answered after
    // its restart (2 to 5 s): about 15 of the executor's checks land in it, any one of which
    // would fail the task at MaxFails 0 if it counted.
    await sidecar.restart({ downMs: 300, unhealthyMs: 3000 });
    const upAt = Date.now();
    await sidecar.untilStatus(id, ALIVE, 5000);
    await sleep(600);

    const inWindow = gets(sidecar).filter((c) => c.at >= upAt && c.at < upAt + 3000);
    assert.ok(inWindow.length >= 10, `${inWindow.length} checks in the UNHEALTHY window`);
    assertStillRunning(run, 'after the restart');
    assert.deepEqual(healthFlags(run), [true], 'no unhealthy flip is published for the restart');
    assert.match(run.executor.output, /Sidecar came back \d+ s ago and reports UNHEALTHY before its own checks have run/);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('after a Sidecar restart a service that really is unhealthy is still failed, once the settle window has passed', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-restart-sick', { cmd: LOOP_CLEAN_ON_TERM, env: { EXECUTOR_SIDECAR_MAX_FAILS: '0' } });
  try {
    const id = await runningAndHealthy(run, sidecar);
    await sidecar.restart({ downMs: 300, unhealthyMs: 3000 });
    const upAt = Date.now();
    sidecar.failChecks(id); // its checks fail after the restart too: it really is unhealthy
    const failed = await run.update('TASK_FAILED', 20_000);
    const after = updateArrivedAt(run, 'TASK_FAILED') - upAt;
    // SIDECAR_SETTLE_MS (10 s) from the first answer after the outage; not much later either.
    assert.ok(after >= 9800 && after < 12_000, `failed ${after} ms after Sidecar came back`);
    assert.equal(failed.healthy, false);
    assert.match(failed.message ?? '', new RegExp(`Sidecar found the service unhealthy.*${id} on host ${HOST} as UNHEALTHY`));
    assert.equal(inspect(run.containerName).State.Running, false);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('SidecarDiscover=false: no Sidecar call at all, not even a drain on KILL', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-nodiscover', {
    cmd: LOOP_CLEAN_ON_TERM, discover: 'false', agent: KILLING_CAPABLE, env: { EXECUTOR_SIDECAR_DRAINING_DURATION: '5s' },
  });
  try {
    await run.update('TASK_RUNNING');
    await sleep(1000); // five poll intervals
    assert.equal(sidecar.statusOf(HOST, serviceIdOf(run)), undefined, 'Sidecar does not list it either');
    const killedAt = Date.now();
    await run.agent.kill(run.taskId);
    await run.update('TASK_FINISHED', 5000);
    assert.ok(Date.now() - killedAt < 3000, 'no drain wait');
    assert.equal(await run.executor.waitForExit(), 0);
    assert.deepEqual(sidecar.calls, []);
    assert.deepEqual(healthFlags(run), []);
    assert.deepEqual(statuses(run).map((s) => s.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED']);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('KILL drains first: the drain is recorded before SIGTERM, the container serves during the drain, the stop waits the draining duration', async () => {
  // The container records the moment SIGTERM reaches it by touching a file in a bind-mounted
  // directory: the host reads its mtime on the same clock as the doubles' call log.
  const marks = mkdtempSync(join(tmpdir(), 'sc-drain-'));
  chmodSync(marks, 0o777);
  const { run, sidecar, cleanup } = await startSidecarRun('sc-drain', {
    cmd: 'sh -c "echo drain-ok > /tmp/index.html; httpd -p 127.0.0.1:8080 -h /tmp; trap \'touch /marks/term; exit 0\' TERM; while true; do sleep 0.1; done"',
    task: { network: 'BRIDGE', volumes: [{ containerPath: '/marks', hostPath: marks, mode: 'RW' }] },
    agent: KILLING_CAPABLE,
    env: { EXECUTOR_SIDECAR_DRAINING_DURATION: '1500ms', EXECUTOR_KILL_TASK_TIMEOUT: '5' },
  });
  try {
    const id = await runningAndHealthy(run, sidecar);
    const killSentAt = Date.now();
    await run.agent.kill(run.taskId);
    await until(() => drains(sidecar).length > 0, 3000, 'the drain call');
    const drain = drains(sidecar)[0]!;
    assert.equal(drain.path, `/api/services/${id}/drain`);
    assert.equal(drain.status, 202);
    assert.equal(sidecar.statusOf(HOST, id), DRAINING);

    await sleep(500);
    assert.equal(existsSync(join(marks, 'term')), false, 'no SIGTERM during the drain');
    assert.equal(inspect(run.containerName).State.Running, true, 'the container runs during the drain');
    assert.equal(docker('exec', run.containerName, 'wget', '-qO-', 'http://127.0.0.1:8080/index.html'), 'drain-ok', 'and it still serves');

    const done = await run.update('TASK_FINISHED', 8000);
    assert.match(done.message ?? '', /Container exited with status 0 after the executor stopped it \(KILL/);
    const termAt = statSync(join(marks, 'term')).mtimeMs;
    const finishedAt = Date.parse(inspect(run.containerName).State.FinishedAt);
    assert.ok(termAt > drain.at, 'the drain call came before SIGTERM');
    // The executor starts its clock just before the POST; allow for that and coarse mtimes.
    assert.ok(termAt - drain.at >= 1400, `SIGTERM ${Math.round(termAt - drain.at)} ms after the drain, before the 1500 ms draining duration`);
    assert.ok(termAt - drain.at < 3500, `SIGTERM ${Math.round(termAt - drain.at)} ms after the drain`);
    assert.ok(finishedAt >= drain.at + 1400, 'the container exited after the drain');
    assert.ok(updateArrivedAt(run, 'TASK_KILLING') >= killSentAt);
    assert.deepEqual(statuses(run).map((s) => s.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED']);
    // Checks stop on KILL: a check seeing DRAINING is harmless, but none should run any more.
    assert.deepEqual(gets(sidecar).filter((c) => c.at > drain.at + 50), []);
    assert.equal(drains(sidecar).length, 1);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally {
    await cleanup();
    rmSync(marks, { recursive: true, force: true });
  }
});

test('KILL: the draining wait is cut short when the container exits on its own', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-drain-exit', {
    cmd: 'sh -c "while [ ! -f /tmp/stop ]; do sleep 0.1; done; echo leaving"',
    agent: KILLING_CAPABLE,
    env: { EXECUTOR_SIDECAR_DRAINING_DURATION: '20s' },
  });
  try {
    await run.update('TASK_RUNNING');
    const id = serviceIdOf(run);
    await sidecar.untilStatus(id, ALIVE); // Sidecar lists it, so the drain finds it
    const killSentAt = Date.now();
    await run.agent.kill(run.taskId);
    await until(() => drains(sidecar).length > 0, 3000, 'the drain call');
    await sleep(300);
    assert.equal(inspect(run.containerName).State.Running, true);
    const exitAt = Date.now();
    docker('exec', run.containerName, 'touch', '/tmp/stop');
    const done = await run.update('TASK_FINISHED', 5000);
    assert.match(done.message ?? '', /Container exited with status 0/);
    const finishedAt = updateArrivedAt(run, 'TASK_FINISHED');
    assert.ok(finishedAt - exitAt < 2000, `terminal ${finishedAt - exitAt} ms after the container left`);
    assert.ok(finishedAt - killSentAt < 5000, 'far less than the 20 s draining duration');
    assert.equal(await run.executor.waitForExit(5000), 0);
    assert.deepEqual(drains(sidecar).map((c) => c.status), [202]);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('KILL with SidecarDrainingDuration=0: no drain, the container is stopped at once', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-drain-zero', {
    cmd: LOOP_CLEAN_ON_TERM, agent: KILLING_CAPABLE, env: { EXECUTOR_SIDECAR_DRAINING_DURATION: '0s' },
  });
  try {
    await run.update('TASK_RUNNING');
    await waitForHealthy(run, true);
    const killSentAt = Date.now();
    await run.agent.kill(run.taskId);
    await run.update('TASK_FINISHED', 5000);
    assert.ok(Date.now() - killSentAt < 2000, `stopped after ${Date.now() - killSentAt} ms`);
    assert.deepEqual(drains(sidecar), []);
    assert.ok(gets(sidecar).length > 0, 'checks were on');
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('SHUTDOWN drains too, and the drain and the stop together fit in the shutdown grace period', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-drain-shutdown', {
    cmd: 'sh -c "trap \'\' TERM; while true; do sleep 0.1; done"',
    env: { EXECUTOR_SIDECAR_DRAINING_DURATION: '10s', EXECUTOR_KILL_TASK_TIMEOUT: '30', MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '3secs' },
  });
  try {
    const id = await runningAndHealthy(run, sidecar);
    const shutdownAt = Date.now();
    await run.agent.shutdown();
    const killed = await run.update('TASK_KILLED', 5000);
    assert.match(killed.message ?? '', /SHUTDOWN/);
    assert.ok(Date.now() - shutdownAt < 3000, `drain and stop took ${Date.now() - shutdownAt} ms, over the 3 s grace period`);
    const drain = drains(sidecar)[0];
    assert.ok(drain, 'SHUTDOWN drained the service');
    assert.equal(drain.path, `/api/services/${id}/drain`);
    assert.ok(Date.parse(inspect(run.containerName).State.FinishedAt) > drain.at, 'the container was stopped after the drain');
    assert.equal(await run.executor.waitForExit(5000), 0);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('SIGTERM to the executor drains before stopping the container', async () => {
  const { run, sidecar, cleanup } = await startSidecarRun('sc-drain-sigterm', { cmd: LOOP_CLEAN_ON_TERM, env: { EXECUTOR_SIDECAR_DRAINING_DURATION: '1s' } });
  try {
    await runningAndHealthy(run, sidecar);
    run.executor.kill('SIGTERM');
    const done = await run.update('TASK_FINISHED', 5000);
    assert.match(done.message ?? '', /SIGTERM to the executor/);
    const drain = drains(sidecar)[0];
    assert.ok(drain, 'SIGTERM drained the service');
    assert.equal(drain.status, 202);
    const finishedAt = Date.parse(inspect(run.containerName).State.FinishedAt);
    assert.ok(finishedAt - drain.at >= 900, `the container stopped ${finishedAt - drain.at} ms after the drain, before the 1 s draining duration`);
    assert.equal(await run.executor.waitForExit(5000), 0);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});

test('SIDECAR_SEEDS: the agent /state names the master, whose /slaves hostnames reach the container env', async () => {
  const master = await MesosMasterDouble.start(['agent-1.example.com', 'agent-2.example.com', 'agent-3.example.internal']);
  const { run, cleanup } = await startSidecarRun('sc-seeds', {
    discover: 'false',
    agent: { masterHostname: '127.0.0.1' },
    env: { EXECUTOR_SEED_SIDECAR: 'true', EXECUTOR_MESOS_MASTER_PORT: String(master.port) },
  });
  try {
    await run.update('TASK_RUNNING');
    const env: string[] = inspect(run.containerName).Config.Env;
    assert.deepEqual(env.filter((e) => e.startsWith('SIDECAR_SEEDS=')), ['SIDECAR_SEEDS=agent-1.example.com,agent-2.example.com,agent-3.example.internal']);
    assert.ok(run.agent.stateRequests() >= 1, 'the agent /state was read');
    assert.deepEqual(master.calls.map((c) => `${c.method} ${c.path} ${c.status}`), ['GET /slaves 200']);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally {
    await cleanup();
    await master.close();
  }
});

test('SIDECAR_SEEDS: with the master down the task still starts, without the variable, and the error is logged', async () => {
  const master = await MesosMasterDouble.start();
  const port = master.port;
  await master.close();
  const { run, cleanup } = await startSidecarRun('sc-seeds-down', {
    discover: 'false',
    agent: { masterHostname: '127.0.0.1' },
    env: { EXECUTOR_SEED_SIDECAR: 'true', EXECUTOR_MESOS_MASTER_PORT: String(port) },
  });
  try {
    await run.update('TASK_RUNNING');
    const env: string[] = inspect(run.containerName).Config.Env;
    assert.deepEqual(env.filter((e) => e.startsWith('SIDECAR_SEEDS')), []);
    assert.match(run.executor.output, /Unable to fetch the agent list from the Mesos master/);
    assert.deepEqual(statuses(run).map((s) => s.state), ['TASK_STARTING', 'TASK_RUNNING']);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await cleanup(); }
});
