// The Mesos side end to end (docs/status-updates.md): every call the built executor makes passes
// the agent double's validation, and the connection survives what a real agent does to it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutorProcess, cleanupAll, inspect, startRun } from './harness';
import { MesosAgentDouble } from '../doubles/mesos-agent';

after(cleanupAll);

test('SUBSCRIBE and every UPDATE are well formed; ACKNOWLEDGED ends the run', async () => {
  const run = await startRun('calls', { task: { cmd: 'sleep 0.5' } });
  try {
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(), 0);
    const subscribe = run.agent.subscribeCalls()[0] as { headers: Record<string, string>; body: any };
    assert.equal(subscribe.headers['content-type'], 'application/json');
    assert.equal(subscribe.body.executor_id.value, run.agent.executorId);
    assert.equal(subscribe.body.framework_id.value, run.agent.frameworkId);
    for (const status of run.agent.updates()) {
      assert.equal(status.source, 'SOURCE_EXECUTOR');
      assert.equal(Buffer.from(status.uuid, 'base64').length, 16);
      assert.equal(typeof status.timestamp, 'number');
      assert.equal(status.executor_id?.value, run.agent.executorId);
    }
    assert.deepEqual(run.agent.rejectedCalls(), []);
    assert.deepEqual(run.agent.notedCalls(), []);
    assert.equal(run.agent.acknowledgements().length, 3);
  } finally { await run.cleanup(); }
});

test('with an authentication token every request carries it, and it never reaches the logs', async () => {
  const token = 'executor-token-6f1c2b7e4a10';
  const run = await startRun('auth', { task: { cmd: 'true' }, agent: { authToken: token }, env: { EXECUTOR_DEBUG: 'true' } });
  try {
    await run.update('TASK_FINISHED');
    await run.executor.waitForExit();
    assert.ok(run.agent.calls().every((c) => c.headers.authorization === `Bearer ${token}`));
    assert.deepEqual(run.agent.rejectedCalls(), []);
    assert.equal(run.executor.output.includes(token), false);
    assert.equal(inspect(run.containerName).Config.Env.some((e: string) => e.includes(token)), false);
  } finally { await run.cleanup(); }
});

test('HEARTBEAT, MESSAGE and unknown events are accepted and ignored', async () => {
  const run = await startRun('events', { task: { cmd: 'sleep 2' } });
  try {
    await run.update('TASK_RUNNING');
    await run.agent.heartbeat();
    await run.agent.message('aGVsbG8=');
    await run.agent.sendEvent('{"type":"SOMETHING_NEW","something_new":{"x":1}}');
    await run.agent.sendEventsInOneChunk([{ type: 'HEARTBEAT' }, { type: 'HEARTBEAT' }]);
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(), 0);
    assert.match(run.executor.stdout, /unknown type.*SOMETHING_NEW/);
  } finally { await run.cleanup(); }
});

test('events split across HTTP chunks, or several in one chunk, are decoded', async () => {
  const run = await startRun('chunking', { task: { cmd: 'sleep 30' } });
  try {
    await run.update('TASK_RUNNING');
    await run.agent.sendEventsInOneChunk([{ type: 'HEARTBEAT' }, { type: 'MESSAGE', message: { data: 'aGk=' } }, { type: 'HEARTBEAT' }]);
    // A KILL cut into three chunks must still arrive whole.
    await run.agent.sendEvent({ type: 'KILL', kill: { task_id: { value: run.taskId } } }, { splitAt: [1, 9], pauseMs: 50 });
    await run.update('TASK_KILLED');
    assert.equal(await run.executor.waitForExit(), 0);
  } finally { await run.cleanup(); }
});

test('an ERROR event: the executor drops the subscription and, checkpointing, subscribes again', async () => {
  const run = await startRun('error-event', {
    task: { cmd: 'sleep 3' },
    env: { MESOS_CHECKPOINT: '1', MESOS_SUBSCRIPTION_BACKOFF_MAX: '200ms', MESOS_RECOVERY_TIMEOUT: '20secs' },
  });
  try {
    await run.update('TASK_RUNNING');
    await run.agent.error('Unrecoverable error');
    await run.agent.waitForSubscribe(2, 10_000);
    assert.match(run.executor.stdout, /The agent reported an error.*Unrecoverable error/);
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(), 0);
  } finally { await run.cleanup(); }
});

test('a failing UPDATE POST is retried, not dropped', async () => {
  const run = await startRun('update-retry', { task: { cmd: 'sleep 1' } });
  try {
    run.agent.failNext('UPDATE', 3, 'unavailable');
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(), 0);
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    const refused = run.agent.calls().filter((c) => c.type === 'UPDATE' && c.status === 503);
    assert.equal(refused.length, 3);
  } finally { await run.cleanup(); }
});

test('with checkpointing, a dropped subscription is re-established carrying unacknowledged updates', async () => {
  const run = await startRun('resubscribe', {
    task: { cmd: 'sleep 3' },
    env: { MESOS_CHECKPOINT: '1', MESOS_SUBSCRIPTION_BACKOFF_MAX: '200ms', MESOS_RECOVERY_TIMEOUT: '20secs' },
  });
  try {
    await run.update('TASK_RUNNING');
    run.agent.withholdAcks(true);
    await run.agent.dropConnection();
    await run.agent.waitForSubscribe(2, 10_000);
    const second = (run.agent.subscribeCalls()[1].body as any).subscribe;
    assert.ok(Array.isArray(second.unacknowledged_updates));
    run.agent.withholdAcks(false);
    run.agent.releaseAcks();
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(), 0);
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally { await run.cleanup(); }
});

test('an agent restart within the recovery timeout: the executor re-subscribes and the task runs on', async () => {
  const run = await startRun('agent-restart', {
    task: { cmd: 'sleep 4' },
    env: { MESOS_CHECKPOINT: '1', MESOS_SUBSCRIPTION_BACKOFF_MAX: '200ms', MESOS_RECOVERY_TIMEOUT: '20secs' },
  });
  try {
    await run.update('TASK_RUNNING');
    await run.agent.refuseConnectionsFor(1000);
    await run.agent.waitForSubscribe(2, 10_000);
    assert.equal(inspect(run.containerName).State.Running, true);
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(), 0);
  } finally { await run.cleanup(); }
});

test('without checkpointing, a broken subscription stops the task and the executor exits', async () => {
  const run = await startRun('no-checkpoint', { task: { cmd: 'sleep 300' }, env: { MESOS_CHECKPOINT: '0' } });
  try {
    await run.update('TASK_RUNNING');
    await run.agent.dropConnection();
    const code = await run.executor.waitForExit(15_000);
    assert.notEqual(code, 0);
    assert.equal(run.agent.subscribeCalls().length, 1, 'no re-subscription');
    assert.equal(inspect(run.containerName).State.Running, false, 'no container outlives its executor');
  } finally { await run.cleanup(); }
});

test('agent gone past the recovery timeout: the container is stopped and the executor gives up', async () => {
  const run = await startRun('recovery-timeout', {
    task: { cmd: 'sleep 300' },
    env: { MESOS_CHECKPOINT: '1', MESOS_SUBSCRIPTION_BACKOFF_MAX: '200ms', MESOS_RECOVERY_TIMEOUT: '2secs' },
  });
  try {
    await run.update('TASK_RUNNING');
    await run.agent.stop();
    const code = await run.executor.waitForExit(20_000);
    assert.notEqual(code, 0);
    assert.match(run.executor.stdout, /MESOS_RECOVERY_TIMEOUT/);
    assert.equal(inspect(run.containerName).State.Running, false);
  } finally { await run.cleanup(); }
});

test('bad settings: a clear message naming the variable and value, non-zero exit, no SUBSCRIBE', async () => {
  const agent = await MesosAgentDouble.start();
  try {
    for (const [name, value] of [['EXECUTOR_SIDECAR_POLL_INTERVAL', '30'], ['EXECUTOR_SEED_SIDECAR', 'yes'], ['MESOS_RECOVERY_TIMEOUT', '15m']]) {
      const executor = new ExecutorProcess({ ...agent.executorEnvironment(), [name]: value });
      const code = await executor.waitForExit(10_000);
      assert.equal(code, 1, name);
      assert.equal(executor.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
      assert.match(executor.stderr, new RegExp(`${name}="${value}" is not valid`));
    }
    assert.equal(agent.subscribeCalls().length, 0);
  } finally { await agent.stop(); }
});

test('--help and --version', async () => {
  const help = new ExecutorProcess({}, ['--help']);
  assert.equal(await help.waitForExit(), 0);
  assert.match(help.stdout, /Usage:/);
  const version = new ExecutorProcess({}, ['--version']);
  assert.equal(await version.waitForExit(), 0);
  // `<version> (<git short commit>)`, `+` for a build from a checkout with uncommitted changes.
  const { execFileSync } = await import('node:child_process');
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  assert.match(version.stdout, new RegExp(`^\\d+\\.\\d+\\.\\d+ \\(${commit}\\+?\\)\\n$`));
  const started = new ExecutorProcess({ MESOS_AGENT_ENDPOINT: '127.0.0.1:1', MESOS_FRAMEWORK_ID: 'f', MESOS_EXECUTOR_ID: 'e', MESOS_CHECKPOINT: '0' });
  await started.waitForExit();
  const first = started.stdout.split('\n')[0] ?? '';
  assert.match(first, /msg="Starting Sidecar Executor" version="\d+\.\d+\.\d+ \([0-9a-f]+\+?\)"/, 'the first log line names the build');
});
