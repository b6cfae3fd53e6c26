// The agent away or silent (docs/faults.md), on the main Docker engine: with
// checkpointing the executor keeps its terminal update until the agent acknowledges it, however
// long the agent is away (within MESOS_RECOVERY_TIMEOUT); without it, it gives up quickly and
// leaves no container behind. Each test checks the agent's view by uuid against what the
// executor logged as sent (update-ledger.ts): nothing lost, nothing counted twice.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, docker, inspect, startRun, type Run } from './harness';
import { acceptedStates, carriedBy, sentUpdates, updateLedger, type UpdateLedger } from '../support/update-ledger';

after(cleanupAll);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const CHECKPOINTING = { MESOS_CHECKPOINT: '1', MESOS_RECOVERY_TIMEOUT: '15mins', MESOS_SUBSCRIPTION_BACKOFF_MAX: '500ms' };
/** Longer than the fixed 5 s ACK wait the executor once had for every terminal update. */
const AWAY_MS = 8000;
const FINISHED = ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED'];

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The uuid (hex key) of the executor's update in `state`, from its log. */
function sentUuid(run: Run, state: string): string {
  const found = sentUpdates(run.executor.stdout, run.taskId).find((u) => u.state === state);
  assert.ok(found, `the executor logged sending ${state}`);
  return found.uuid;
}

const ackDelivered = (run: Run, state: string): boolean =>
  (updateLedger(run.agent, run.executor.stdout, run.taskId).deliveredAcks.get(sentUuid(run, state)) ?? 0) > 0;

/** Still running: neither an exit code nor a signal yet. */
function assertAlive(run: Run, why: string): void {
  assert.equal(run.executor.child.exitCode, null, why);
  assert.equal(run.executor.child.signalCode, null, why);
}

function assertNoContainerRunning(run: Run): void {
  assert.equal(docker('ps', '-q', '--filter', `label=e2e.task=${run.taskId}`), '', 'no container of the task is left running');
}

/**
 * The agent took exactly `states`, one uuid each, the same uuids the executor logged as sent;
 * none refused; the ones in `acked` were acknowledged (delivered) once and only once.
 */
function assertAgentView(run: Run, states: string[], acked: string[] = states): UpdateLedger {
  const ledger = updateLedger(run.agent, run.executor.stdout, run.taskId);
  assert.deepEqual(ledger.sent.map((u) => u.state), states, 'what the executor logged as sent');
  assert.equal(new Set(ledger.sent.map((u) => u.uuid)).size, states.length, 'one uuid per update');
  assert.deepEqual(acceptedStates(ledger), states, "the agent's view, one entry per uuid");
  assert.deepEqual(ledger.lost, [], 'no update lost');
  assert.deepEqual(ledger.unexplained, [], 'nothing accepted that the executor did not send');
  assert.deepEqual(run.agent.rejectedCalls(), []);
  for (const u of ledger.sent) {
    assert.equal(ledger.deliveredAcks.get(u.uuid) ?? 0, acked.includes(u.state) ? 1 : 0, `ACKNOWLEDGED delivered for ${u.state}`);
  }
  return ledger;
}

test('checkpointing, agent away 8 s while the container exits: the executor waits, re-subscribes carrying TASK_FINISHED and exits 0 after its ACK', async () => {
  const run = await startRun('away-exit', { task: { cmd: 'sleep 1' }, env: CHECKPOINTING });
  try {
    await run.update('TASK_RUNNING');
    await run.agent.stop();
    await sleep(AWAY_MS);
    const container = inspect(run.containerName);
    assert.equal(container.State.Running, false, 'the container exited while the agent was away');
    assert.equal(container.State.ExitCode, 0);
    assertAlive(run, 'the executor must not exit while its terminal update is unacknowledged');
    assert.match(run.executor.stdout, /The agent is away; waiting for it to acknowledge the terminal update/);

    await run.agent.start();
    await run.agent.waitForSubscribe(2, 10_000);
    const finished = sentUuid(run, 'TASK_FINISHED');
    assert.ok(carriedBy(run.agent, 2).some((u) => u.uuid === finished && u.state === 'TASK_FINISHED'), 'SUBSCRIBE #2 carries TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(10_000), 0);
    assert.doesNotMatch(run.executor.stdout, /not acknowledged in time/, 'it exited on the ACK, not on a timeout');
    assert.equal(run.agent.subscribeCalls().length, 2);
    assertAgentView(run, FINISHED);
    assertNoContainerRunning(run);
  } finally { await run.cleanup(); }
});

test('checkpointing, ACK withheld 8 s by a connected agent: the executor waits and exits 0 once it is released', async () => {
  const run = await startRun('ack-withheld', { task: { cmd: 'sleep 2' }, env: CHECKPOINTING });
  try {
    await run.update('TASK_RUNNING');
    await until('the ACK of TASK_RUNNING', () => ackDelivered(run, 'TASK_RUNNING'));
    run.agent.withholdAcks();
    await run.update('TASK_FINISHED');
    await sleep(AWAY_MS);
    assertAlive(run, 'the executor must wait for the ACK of its terminal update');
    assert.equal(run.agent.isSubscribed, true);
    await run.agent.releaseAcks();
    assert.equal(await run.executor.waitForExit(5000), 0);
    assert.doesNotMatch(run.executor.stdout, /not acknowledged in time/);
    assert.equal(run.agent.subscribeCalls().length, 1, 'no re-subscription was needed');
    assertAgentView(run, FINISHED);
    assertNoContainerRunning(run);
  } finally { await run.cleanup(); }
});

test('without checkpointing, the agent gone while the task runs: the executor stops the container and exits 1', async () => {
  const run = await startRun('no-ckpt-gone', { task: { cmd: 'sleep 300' }, env: { MESOS_CHECKPOINT: '0', EXECUTOR_KILL_TASK_TIMEOUT: '1' } });
  try {
    await run.update('TASK_RUNNING');
    await until('the ACK of TASK_RUNNING', () => ackDelivered(run, 'TASK_RUNNING'));
    const gone = Date.now();
    await run.agent.stop();
    assert.equal(await run.executor.waitForExit(10_000), 1);
    const took = Date.now() - gone;
    // `sleep` as PID 1 ignores SIGTERM: the stop is a SIGKILL after the 1 s KillTaskTimeout.
    assert.ok(took >= 900 && took < 5000, `exited ${took} ms after the agent went away`);
    assert.match(run.executor.stdout,
      /Giving up on the agent: the connection to the agent broke, and without checkpointing the executor does not reconnect; stopping the task/);
    const container = inspect(run.containerName);
    assert.equal(container.State.Running, false, 'no container outlives its executor');
    assert.equal(container.State.ExitCode, 137);
    assert.equal(run.agent.subscribeCalls().length, 1, 'no re-subscription');
    // Whatever the executor sent after the agent left went nowhere: the agent had STARTING and
    // RUNNING, and a terminal update (if the executor got as far as logging one) is the only loss.
    const ledger = updateLedger(run.agent, run.executor.stdout, run.taskId);
    assert.deepEqual(acceptedStates(ledger), ['TASK_STARTING', 'TASK_RUNNING']);
    assert.deepEqual(ledger.lost.map((u) => u.state).filter((s) => s !== 'TASK_KILLED'), []);
    assert.deepEqual(run.agent.rejectedCalls(), []);
    assertNoContainerRunning(run);
  } finally { await run.cleanup(); }
});

test('without checkpointing, ACK withheld by a connected agent: the executor exits 0 after its short (5 s) wait', async () => {
  const run = await startRun('no-ckpt-withheld', { task: { cmd: 'sleep 2' }, env: { MESOS_CHECKPOINT: '0' } });
  try {
    await run.update('TASK_RUNNING');
    await until('the ACK of TASK_RUNNING', () => ackDelivered(run, 'TASK_RUNNING'));
    run.agent.withholdAcks();
    await run.update('TASK_FINISHED');
    const finishedAt = Date.now();
    assert.equal(await run.executor.waitForExit(10_000), 0);
    const waited = Date.now() - finishedAt;
    assert.ok(waited >= 4500 && waited < 7000, `waited ${waited} ms for the ACK`);
    assert.match(run.executor.stdout, /The terminal update was not acknowledged in time; exiting anyway.*timeout_ms=5000/);
    assertAgentView(run, FINISHED, ['TASK_STARTING', 'TASK_RUNNING']);
    assert.equal(inspect(run.containerName).State.ExitCode, 0);
    assertNoContainerRunning(run);
  } finally { await run.cleanup(); }
});

test('agent restart while TASK_RUNNING is being POSTed (its first POSTs dropped): no update lost or duplicated', async () => {
  const run = await startRun('update-in-flight', { task: { cmd: 'sleep 2' }, env: CHECKPOINTING });
  try {
    await run.update('TASK_STARTING');
    run.agent.failNext('UPDATE', 3, 'drop');
    await run.agent.waitForCall((c) => c.type === 'UPDATE' && c.injected, 10_000);
    await run.agent.restart();
    await run.agent.waitForSubscribe(2, 10_000);
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(10_000), 0);
    assertAgentView(run, FINISHED);
    const dropped = run.agent.calls().filter((c) => c.type === 'UPDATE' && c.injected).map((c) => (c.body as any).update.status.state);
    assert.equal(dropped[0], 'TASK_RUNNING', 'the first dropped POST was TASK_RUNNING');
    assertNoContainerRunning(run);
  } finally { await run.cleanup(); }
});

test('subscription cut right after TASK_RUNNING is accepted, before its ACK: re-sent once in SUBSCRIBE, acknowledged once', async () => {
  const run = await startRun('ack-in-flight', { task: { cmd: 'sleep 2' }, env: CHECKPOINTING });
  try {
    await run.update('TASK_RUNNING');
    run.agent.dropConnection(); // the ACK is still queued behind a 0 ms timer: it is never written
    await run.agent.waitForSubscribe(2, 10_000);
    const running = sentUuid(run, 'TASK_RUNNING');
    assert.deepEqual(carriedBy(run.agent, 2).map((u) => u.uuid), [running], 'SUBSCRIBE #2 carries TASK_RUNNING, unacknowledged');
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(10_000), 0);
    const ledger = assertAgentView(run, FINISHED);
    const runningAcks = run.agent.acknowledgements().filter((a) => a.delivered && a.uuid === Buffer.from(running, 'hex').toString('base64'));
    assert.equal(runningAcks.length, 1);
    assert.deepEqual(ledger.ackedTwice, []);
    assertNoContainerRunning(run);
  } finally { await run.cleanup(); }
});
