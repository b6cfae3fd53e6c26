// The task lifecycle end to end (docs/status-updates.md): the built executor, the agent
// double, real dockerd.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cleanupAll, docker, inspect, startRun } from './harness';

after(cleanupAll);

test('exit 0: STARTING, RUNNING, FINISHED; the container is as the TaskInfo says', async () => {
  const run = await startRun('exit0', {
    task: {
      cmd: 'sh -c "echo started; sleep 1"',
      env: { FROM_PARAM: 'p' }, executorEnv: { FROM_EXECUTOR: 'e' },
      labels: { ServiceName: 'web', EnvironmentName: 'test' },
      ports: [{ containerPort: 8080, hostPort: 31234, protocol: 'tcp,udp' }], network: 'BRIDGE',
      volumes: [{ containerPath: '/data', hostPath: '/tmp', mode: 'RO' }],
      parameters: [{ key: 'cap-add', value: 'NET_ADMIN' }, { key: 'cap-drop', value: 'MKNOD' }],
    },
  });
  try {
    const running = await run.update('TASK_RUNNING');
    const c = inspect(run.containerName);
    assert.equal(c.Name, `/${run.containerName}`);
    assert.equal(c.Config.Image, 'sidecar-executor-test:latest');
    assert.deepEqual(c.Config.Cmd, ['sh', '-c', 'echo started; sleep 1']);
    const env: string[] = c.Config.Env;
    const order = ['FROM_EXECUTOR=e', 'FROM_PARAM=p', 'MESOS_PORT_8080=31234', `MESOS_HOSTNAME=${run.agent.hostname}`, 'SERVICE_NAME=web', 'ENVIRONMENT_NAME=test', 'SERVICE_VERSION=latest'];
    assert.deepEqual(env.filter((e) => order.includes(e)), order);
    assert.equal(c.Config.Labels.ServiceName, 'web');
    assert.equal('executor.ShellCommand' in c.Config.Labels, false);
    assert.equal(c.HostConfig.NetworkMode, 'default');
    assert.deepEqual(c.HostConfig.Binds, ['/tmp:/data:ro']);
    assert.deepEqual(c.HostConfig.CapAdd, ['NET_ADMIN']);
    assert.deepEqual(c.HostConfig.CapDrop, ['MKNOD']);
    assert.deepEqual(Object.keys(c.Config.ExposedPorts).sort(), ['8080/tcp', '8080/udp']);
    assert.equal(c.HostConfig.PortBindings['8080/tcp'][0].HostPort, '31234');
    assert.match(running.message ?? '', new RegExp(c.Id.slice(0, 12)));
    const finished = await run.update('TASK_FINISHED');
    assert.equal(finished.message, 'Container exited with status 0');
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await run.cleanup(); }
});

test('exit 1: TASK_FAILED with the code, and the container output copied to stdout and stderr', async () => {
  const run = await startRun('exit1', { task: { cmd: 'sh -c "echo to-stdout-123; echo to-stderr-456 >&2; exit 1"' } });
  try {
    const failed = await run.update('TASK_FAILED');
    // Ends with its last words; dockerd logs stdout and stderr apart, so in either order.
    assert.match(failed.message ?? '', /^Container exited with status 1; its last output:\n(to-stdout-123\nto-stderr-456|to-stderr-456\nto-stdout-123)$/);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.match(run.executor.stdout, /to-stdout-123/);
    assert.match(run.executor.stderr, /to-stderr-456/);
    // Not copied to stdout (the terminal update's log line quotes it, as the update says it).
    assert.doesNotMatch(run.executor.stdout, /^to-stderr-456$/m);
    // Exited containers stay for operators to inspect, as the Go original leaves them.
    assert.equal(inspect(run.containerName).State.ExitCode, 1);
  } finally { await run.cleanup(); }
});

test('resource limits are enforced when asked', async () => {
  const run = await startRun('limits', {
    task: { cmd: 'sleep 1', cpus: 0.5, memMb: 64 },
    env: { EXECUTOR_FORCE_CPU_LIMIT: 'true', EXECUTOR_FORCE_MEMORY_LIMIT: 'true' },
  });
  try {
    await run.update('TASK_RUNNING');
    const c = inspect(run.containerName);
    assert.equal(c.HostConfig.CpuPeriod, 50000);
    assert.equal(c.HostConfig.CpuQuota, 25000);
    assert.equal(c.HostConfig.Memory, 64 * 1048576);
    await run.update('TASK_FINISHED');
  } finally { await run.cleanup(); }
});

test('KILL: a container that exits cleanly on SIGTERM is TASK_FINISHED, after TASK_KILLING', async () => {
  const run = await startRun('kill-clean', {
    task: { cmd: 'sh -c "trap \'echo bye; exit 0\' TERM; while true; do sleep 0.1; done"' },
    agent: { frameworkCapabilities: [{ type: 'TASK_KILLING_STATE' }] },
  });
  try {
    await run.update('TASK_RUNNING');
    await run.agent.kill(run.taskId);
    const done = await run.update('TASK_FINISHED');
    assert.match(done.message ?? '', /Container exited with status 0 after the executor stopped it \(KILL/);
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED']);
    assert.equal(inspect(run.containerName).State.Running, false);
    assert.equal(await run.executor.waitForExit(), 0);
  } finally { await run.cleanup(); }
});

test('KILL: a container that ignores SIGTERM is SIGKILLed after KillTaskTimeout: TASK_KILLED; no TASK_KILLING without the capability', async () => {
  const run = await startRun('kill-ignore', {
    task: { cmd: 'sh -c "trap \'\' TERM; while true; do sleep 0.1; done"' },
    env: { EXECUTOR_KILL_TASK_TIMEOUT: '1' },
  });
  try {
    await run.update('TASK_RUNNING');
    const started = Date.now();
    await run.agent.kill(run.taskId);
    const killed = await run.update('TASK_KILLED');
    const took = Date.now() - started;
    assert.match(killed.message ?? '', /Container exited with status 137 after the executor stopped it/);
    assert.ok(took >= 900 && took < 5000, `stopped after ${took} ms`);
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
    assert.equal(inspect(run.containerName).State.Running, false);
  } finally { await run.cleanup(); }
});

test('the kill policy grace period overrides KillTaskTimeout', async () => {
  const run = await startRun('kill-policy', {
    task: { cmd: 'sh -c "trap \'\' TERM; while true; do sleep 0.1; done"', killPolicyGraceSec: 1 },
    env: { EXECUTOR_KILL_TASK_TIMEOUT: '30' },
  });
  try {
    await run.update('TASK_RUNNING');
    const started = Date.now();
    await run.agent.kill(run.taskId);
    await run.update('TASK_KILLED');
    const took = Date.now() - started;
    assert.ok(took < 6000, `the TaskInfo's 1 s grace period was used, not 30 s (took ${took} ms)`);
  } finally { await run.cleanup(); }
});

test('a KILL with its own kill_policy overrides the TaskInfo one', async () => {
  const run = await startRun('kill-event-policy', {
    task: { cmd: 'sh -c "trap \'\' TERM; while true; do sleep 0.1; done"', killPolicyGraceSec: 30 },
  });
  try {
    await run.update('TASK_RUNNING');
    const started = Date.now();
    await run.agent.kill(run.taskId, 0);
    await run.update('TASK_KILLED');
    assert.ok(Date.now() - started < 4000);
  } finally { await run.cleanup(); }
});

test('SHUTDOWN stops the task within MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD and the executor exits', async () => {
  const run = await startRun('shutdown', {
    task: { cmd: 'sh -c "trap \'\' TERM; while true; do sleep 0.1; done"' },
    env: { MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '3secs', EXECUTOR_KILL_TASK_TIMEOUT: '30' },
  });
  try {
    await run.update('TASK_RUNNING');
    const started = Date.now();
    await run.agent.shutdown();
    const killed = await run.update('TASK_KILLED');
    assert.match(killed.message ?? '', /SHUTDOWN/);
    assert.equal(await run.executor.waitForExit(10_000), 0);
    const took = Date.now() - started;
    assert.ok(took < 3000, `shutdown took ${took} ms, over the 3 s grace period`);
    assert.equal(inspect(run.containerName).State.Running, false);
  } finally { await run.cleanup(); }
});

test('a container killed from outside (docker kill) is TASK_KILLED at once', async () => {
  const run = await startRun('docker-kill', { task: { cmd: 'sleep 300' } });
  try {
    await run.update('TASK_RUNNING');
    const started = Date.now();
    docker('kill', run.containerName);
    const killed = await run.update('TASK_KILLED');
    assert.equal(killed.message, 'Container exited with status 137');
    assert.ok(Date.now() - started < 2000, 'noticed through the wait API, not a poll');
  } finally { await run.cleanup(); }
});

test('SIGTERM to the executor stops the container and reports a terminal state', async () => {
  const run = await startRun('sigterm', { task: { cmd: 'sh -c "trap \'exit 0\' TERM; while true; do sleep 0.1; done"' } });
  try {
    await run.update('TASK_RUNNING');
    run.executor.kill('SIGTERM');
    const done = await run.update('TASK_FINISHED');
    assert.match(done.message ?? '', /SIGTERM to the executor/);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.equal(inspect(run.containerName).State.Running, false);
  } finally { await run.cleanup(); }
});

test('the process title names the container and the image while the task runs', async () => {
  const run = await startRun('title', { task: { cmd: 'sleep 3' } });
  try {
    const running = await run.update('TASK_RUNNING');
    const id = /Container (\w{12})/.exec(running.message ?? '')![1];
    // Give the title a moment, then read it as ps does.
    await new Promise((r) => setTimeout(r, 200));
    const cmdline = readFileSync(`/proc/${run.executor.child.pid}/cmdline`, 'utf8');
    assert.match(cmdline.replace(/\0/g, ' '), new RegExp(`^sidecar-executor ${id}`));
  } finally { await run.cleanup(); }
});
