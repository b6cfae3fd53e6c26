// What the status updates say about a task's end and its container (docs/status-updates.md), end to
// end: the memory limit that killed it, its last words, its max_completion_time, and its addresses
// on TASK_RUNNING as the Mesos Docker executor reports them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskStatus } from '../../src/mesos/types';
import { cleanupAll, docker, inspect, startRun, type Run } from './harness';

after(cleanupAll);

function assertAgentTookEverything(run: Run): void {
  assert.deepEqual(run.agent.rejectedCalls(), []);
  assert.deepEqual(run.agent.notedCalls().map((c) => c.notes), []);
}

/** When the agent double accepted the first update of `state` (Date.now() time). */
function arrivedAt(run: Run, state: string): number {
  const call = run.agent.calls().find((c) => {
    const status = (c.body as { update?: { status?: TaskStatus } } | undefined)?.update?.status;
    return c.type === 'UPDATE' && c.status === 202 && status?.task_id.value === run.taskId && status.state === state;
  });
  assert.ok(call, `no accepted ${state} update`);
  return call.at;
}

test('a container that outgrows its 16 MB memory limit: TASK_FAILED, REASON_CONTAINER_LIMITATION_MEMORY, naming the limit', async () => {
  const run = await startRun('oom', {
    // Doubles a shell variable until the kernel kills the shell.
    task: { cmd: 'sh -c "x=0123456789abcdef; while true; do x=$x$x; done"', memMb: 16 },
    env: { EXECUTOR_FORCE_MEMORY_LIMIT: 'true' },
  });
  try {
    const failed = await run.update('TASK_FAILED', 30_000);
    assert.equal(failed.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
    assert.match(failed.message ?? '', /^Container used more than its memory limit \(16 MB\) and was killed by the kernel; container exited with status 137/);
    const c = inspect(run.containerName);
    assert.equal(c.HostConfig.Memory, 16 * 1048576);
    assert.equal(c.State.OOMKilled, true);
    assertAgentTookEverything(run);
  } finally { await run.cleanup(); }
});

test('a non-zero exit: the terminal message ends with the container\'s last words, at most 80 lines', async () => {
  // dockerd copies stdout and stderr apart, so a line on stderr right behind a burst on stdout
  // may be logged among the burst's last lines: the pause keeps the order the test asserts.
  const run = await startRun('last-words', { task: { cmd: 'sh -c "seq 1 5000; sleep 0.2; echo \'fatal: cannot open /etc/app.conf\' >&2; exit 4"' } });
  try {
    const failed = await run.update('TASK_FAILED');
    const message = failed.message ?? '';
    const head = 'Container exited with status 4; its last output:\n';
    assert.ok(message.startsWith(head), message.slice(0, 200));
    const lines = message.slice(head.length).split('\n');
    assert.equal(lines.length, 80);
    assert.equal(lines[0], '4922');
    assert.equal(lines.at(-2), '5000');
    assert.equal(lines.at(-1), 'fatal: cannot open /etc/app.conf');
    assert.ok(Buffer.byteLength(message) < head.length + 2048, `${Buffer.byteLength(message)} bytes`);
    // The full copy still goes to the sandbox.
    assert.match(run.executor.stdout, /^2500$/m);
    assertAgentTookEverything(run);
  } finally { await run.cleanup(); }
});

test('max_completion_time of 3 s: the task is killed at once when it passes, TASK_FAILED, REASON_MAX_COMPLETION_TIME_REACHED', async () => {
  const run = await startRun('max-completion', {
    // Ignores SIGTERM: only an immediate SIGKILL ends it within the bound below.
    task: { cmd: 'sh -c "trap \'\' TERM; while true; do sleep 0.1; done"', maxCompletionSec: 3, killPolicyGraceSec: 30 },
    agent: { frameworkCapabilities: [{ type: 'TASK_KILLING_STATE' }] },
  });
  try {
    const failed = await run.update('TASK_FAILED');
    const took = arrivedAt(run, 'TASK_FAILED') - arrivedAt(run, 'TASK_STARTING');
    assert.ok(took >= 2900 && took < 4500, `TASK_FAILED ${took} ms after TASK_STARTING`);
    assert.equal(failed.reason, 'REASON_MAX_COMPLETION_TIME_REACHED');
    assert.equal(failed.message, 'The task ran past its max_completion_time (3 s) and was killed; container exited with status 137');
    // As the Mesos Docker executor: no TASK_KILLING, no grace period.
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    assertAgentTookEverything(run);
  } finally { await run.cleanup(); }
});

test('TASK_RUNNING carries the container\'s addresses (BRIDGE), as docker inspect shows them', async () => {
  const run = await startRun('addr-bridge', { task: { cmd: 'sleep 60', network: 'BRIDGE' } });
  try {
    const running = await run.update('TASK_RUNNING');
    const network = inspect(run.containerName).NetworkSettings.Networks.bridge;
    const expected: { protocol?: string; ip_address: string }[] = [{ ip_address: network.IPAddress }];
    if (network.GlobalIPv6Address) expected.push({ protocol: 'IPv6', ip_address: network.GlobalIPv6Address });
    assert.match(network.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(running.container_status, { network_infos: [{ ip_addresses: expected }] });
    assertAgentTookEverything(run);
  } finally { await run.cleanup(); }
});

test('TASK_RUNNING on a USER network names it, with the container\'s address on it', async () => {
  const network = `e2e-user-${process.pid}`;
  docker('network', 'create', network);
  const run = await startRun('addr-user', { task: { cmd: 'sleep 60', network: 'USER', networkName: network } });
  try {
    const running = await run.update('TASK_RUNNING');
    const ip = inspect(run.containerName).NetworkSettings.Networks[network].IPAddress as string;
    assert.deepEqual(running.container_status, { network_infos: [{ name: network, ip_addresses: [{ ip_address: ip }] }] });
    assertAgentTookEverything(run);
  } finally {
    await run.cleanup();
    docker('network', 'rm', network);
  }
});

test('TASK_RUNNING with HOST networking carries no addresses: the container has none of its own', async () => {
  const run = await startRun('addr-host', { task: { cmd: 'sleep 60', network: 'HOST' } });
  try {
    const running = await run.update('TASK_RUNNING');
    assert.equal(running.container_status, undefined);
    assertAgentTookEverything(run);
  } finally { await run.cleanup(); }
});
