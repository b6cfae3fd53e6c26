// The task's own health check end to end (docs/health-checks.md): the built executor, the agent
// double and real dockerd, with the check's seconds cut to tenths (the proto's fields are doubles),
// so each test runs in a few seconds. HTTP checks reach busybox httpd in the container; the check
// is made to fail by removing the file it serves, with `docker exec`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import type { HealthCheck, TaskStatus } from '../../src/mesos/types';
import { cleanupAll, docker, inspect, startRun, type Run } from './harness';

after(cleanupAll);

/** Serves /www on 8080 inside the container; -v logs each request to stderr. */
const HTTPD = 'sh -c "mkdir -p /www && echo ok > /www/health && exec httpd -f -v -p 8080 -h /www"';
const FAST = { delay_seconds: 0, interval_seconds: 0.2, timeout_seconds: 1 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function statuses(run: Run): TaskStatus[] {
  return run.agent.updates().filter((s) => s.task_id.value === run.taskId);
}

/** The health updates (TASK_RUNNING with `healthy`), each with the health reason. */
function healthUpdates(run: Run): TaskStatus[] {
  const health = statuses(run).filter((s) => s.state === 'TASK_RUNNING' && s.healthy !== undefined);
  for (const s of health) assert.equal(s.reason, 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED');
  return health;
}

function waitForHealthy(run: Run, healthy: boolean, timeoutMs = 5000): Promise<TaskStatus> {
  return run.agent.waitForUpdate((s) => s.task_id.value === run.taskId && s.state === 'TASK_RUNNING' && s.healthy === healthy, timeoutMs);
}

/** When the agent double accepted the first update matching `pick` (Date.now() time). */
function arrivedAt(run: Run, pick: (s: TaskStatus) => boolean): number {
  const call = run.agent.calls().find((c) => {
    const status = (c.body as { update?: { status?: TaskStatus } } | undefined)?.update?.status;
    return c.type === 'UPDATE' && c.status === 202 && status?.task_id.value === run.taskId && pick(status);
  });
  assert.ok(call, 'no such update');
  return call.at;
}

function assertAgentTookEverything(run: Run): void {
  assert.deepEqual(run.agent.rejectedCalls(), []);
  assert.deepEqual(run.agent.notedCalls().map((c) => c.notes), []);
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function checkRun(label: string, cmd: string, healthCheck: HealthCheck, network: 'HOST' | 'BRIDGE' = 'HOST', agent = {}): Promise<Run> {
  return startRun(label, { task: { cmd, network, healthCheck }, agent, env: { EXECUTOR_KILL_TASK_TIMEOUT: '1' } });
}

test('HTTP check on a BRIDGE container: healthy, then unhealthy once, then TASK_FAILED after consecutive_failures', async () => {
  const run = await checkRun('hc-http', HTTPD, { type: 'HTTP', http: { port: 8080, path: '/health' }, ...FAST, consecutive_failures: 3, grace_period_seconds: 5 }, 'BRIDGE');
  try {
    await run.update('TASK_RUNNING');
    const ip = inspect(run.containerName).NetworkSettings.Networks.bridge.IPAddress as string;
    const healthy = await waitForHealthy(run, true);
    assert.equal(healthy.message, `Health check passed: HTTP GET http://${ip}:8080/health answered 200`);
    await sleep(600); // three more passing checks: no update for them
    docker('exec', run.containerName, 'rm', '/www/health');
    const unhealthy = await waitForHealthy(run, false);
    assert.equal(unhealthy.message, `Health check failed (1 of 3 in a row): HTTP GET http://${ip}:8080/health answered 404`);
    const failed = await run.update('TASK_FAILED');
    assert.equal(failed.healthy, false);
    assert.match(failed.message ?? '', new RegExp(`^Health check failed 3 times in a row \\(consecutive_failures 3\\): HTTP GET http://${ip.replace(/\./g, '\\.')}:8080/health answered 404; container exited with status 137`));
    assert.deepEqual(healthUpdates(run).map((s) => s.healthy), [true, false], 'changes only');
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_FAILED']);
    assert.equal(inspect(run.containerName).State.Running, false);
    assertAgentTookEverything(run);
  } finally { await run.cleanup(); }
});

test('TCP check on a port nobody listens on: no failure counted inside the grace period, then TASK_FAILED', async () => {
  const port = await unusedPort();
  const grace = 1.5;
  const run = await checkRun('hc-tcp', 'sleep 60', { type: 'TCP', tcp: { port }, ...FAST, consecutive_failures: 3, grace_period_seconds: grace });
  try {
    await run.update('TASK_RUNNING');
    const unhealthy = await waitForHealthy(run, false);
    assert.equal(unhealthy.message, `Health check failed (1 of 3 in a row): TCP connect to 127.0.0.1:${port} failed: ECONNREFUSED`);
    const failed = await run.update('TASK_FAILED');
    const runningAt = arrivedAt(run, (s) => s.state === 'TASK_RUNNING' && s.healthy === undefined);
    const firstCounted = arrivedAt(run, (s) => s.healthy === false && s.state === 'TASK_RUNNING');
    assert.ok(firstCounted - runningAt >= grace * 1000 - 100, `the first failure counted ${firstCounted - runningAt} ms after TASK_RUNNING, inside the ${grace} s grace period`);
    assert.match(failed.message ?? '', new RegExp(`^Health check failed 3 times in a row \\(consecutive_failures 3\\): TCP connect to 127\\.0\\.0\\.1:${port} failed: ECONNREFUSED; container exited with status 137`));
    assert.equal(failed.healthy, false);
    assert.match(run.executor.stdout, /Health check failed inside the grace period \(ignored\)/);
    assert.deepEqual(healthUpdates(run).map((s) => s.healthy), [false]);
    assertAgentTookEverything(run);
  } finally { await run.cleanup(); }
});

test('COMMAND check runs in the container: exit 0 is healthy, a non-zero exit fails with its output', async () => {
  const run = await checkRun('hc-cmd', 'sh -c "touch /tmp/ok; exec sleep 60"', { type: 'COMMAND', command: { value: 'cat /tmp/ok' }, ...FAST, consecutive_failures: 2, grace_period_seconds: 0 });
  try {
    const healthy = await waitForHealthy(run, true, 10_000);
    assert.equal(healthy.message, "Health check passed: COMMAND 'cat /tmp/ok' exited with status 0");
    docker('exec', run.containerName, 'rm', '/tmp/ok');
    const failed = await run.update('TASK_FAILED');
    assert.match(failed.message ?? '', /^Health check failed 2 times in a row \(consecutive_failures 2\): COMMAND 'cat \/tmp\/ok' exited with status 1: cat: can't open '\/tmp\/ok': No such file or directory; container exited with status 137/);
    assert.deepEqual(healthUpdates(run).map((s) => s.healthy), [true, false]);
    assertAgentTookEverything(run);
  } finally { await run.cleanup(); }
});

test('COMMAND check that hangs: each one times out and fails, and hung commands never pile up', async () => {
  const run = await checkRun('hc-hang', 'sleep 60', {
    type: 'COMMAND', command: { value: 'test ! -f /tmp/hang || sleep 1000' }, ...FAST, timeout_seconds: 0.5, consecutive_failures: 4, grace_period_seconds: 0,
  });
  try {
    await waitForHealthy(run, true, 10_000);
    docker('exec', run.containerName, 'touch', '/tmp/hang');
    let mostExecs = 0;
    let mostSleeps = 0;
    const failed = run.update('TASK_FAILED');
    let done = false;
    void failed.finally(() => { done = true; });
    while (!done) {
      // Neither exec nor ps inside the container: those would be execs themselves.
      const c = inspect(run.containerName);
      if (!c.State.Running) break;
      mostExecs = Math.max(mostExecs, (c.ExecIDs ?? []).length);
      try {
        mostSleeps = Math.max(mostSleeps, docker('top', run.containerName).split('\n').filter((l) => l.includes('sleep 1000')).length);
      } catch { /* stopped meanwhile */ }
      await sleep(50);
    }
    const status = await failed;
    assert.match(status.message ?? '', /^Health check failed 4 times in a row \(consecutive_failures 4\): COMMAND 'test ! -f \/tmp\/hang \|\| sleep 1000' did not finish within the 0\.5 s timeout/);
    assert.ok(mostExecs <= 1, `at most one check exec at a time (saw ${mostExecs})`);
    assert.ok(mostSleeps <= 1, `at most one hung check command at a time (saw ${mostSleeps})`);
    assert.match(run.executor.stdout, /Killed a check command that outlived its timeout/);
    assert.deepEqual(healthUpdates(run).map((s) => s.healthy), [true, false]);
    assertAgentTookEverything(run);
  } finally { await run.cleanup(); }
});

test('checks stop when a kill starts: after the KILL no check reaches the task, and no health update the agent', async () => {
  // The shell takes 0.6 s to leave on SIGTERM (within KillTaskTimeout), while httpd keeps
  // serving and logging requests: six checks' worth at this interval.
  const cmd = 'sh -c "mkdir -p /www && echo ok > /www/health; httpd -f -v -p 8080 -h /www 2>&1 & trap \'sleep 0.6; exit 0\' TERM; while true; do sleep 0.1; done"';
  const run = await checkRun('hc-kill', cmd, { type: 'HTTP', http: { port: 8080, path: '/health' }, ...FAST, interval_seconds: 0.1 }, 'BRIDGE', { frameworkCapabilities: [{ type: 'TASK_KILLING_STATE' }] });
  try {
    await waitForHealthy(run, true, 10_000);
    await sleep(300);
    const requestsBefore = docker('logs', run.containerName).split('\n').length;
    await run.agent.kill(run.taskId);
    await run.update('TASK_FINISHED');
    const requestsAfter = docker('logs', run.containerName).split('\n').length;
    // One check may have been on its way when the KILL arrived.
    assert.ok(requestsAfter - requestsBefore <= 2, `${requestsAfter - requestsBefore} requests reached httpd after the KILL`);
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED']);
    assertAgentTookEverything(run);
  } finally { await run.cleanup(); }
});

test('a health check the master would refuse fails the launch with REASON_TASK_INVALID, before any container', async () => {
  const run = await checkRun('hc-invalid', 'sleep 60', { type: 'HTTP', http: { port: 8080, path: 'health' } });
  try {
    const failed = await run.update('TASK_FAILED');
    assert.equal(failed.reason, 'REASON_TASK_INVALID');
    assert.equal(failed.message, "Invalid task: health_check.http.path \"health\" must start with '/'");
    assert.throws(() => inspect(run.containerName));
  } finally { await run.cleanup(); }
});
