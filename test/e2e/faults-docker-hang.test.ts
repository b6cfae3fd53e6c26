// A Docker engine that hangs (SIGSTOP) or loses the task's container (docs/faults.md), end to end:
// the built executor, the agent double, and a private dockerd that the test freezes, or whose
// container it removes behind the executor's back. A KILL is retried until the engine answers and
// then completes; a SHUTDOWN still ends within its grace period, saying the engine did not answer;
// a container the engine no longer knows is reported as gone, not guessed at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, type Run } from './harness';
import { FaultEngine, assertUpdates, countOf, expectNoTerminalUpdateFor, sleep, terminalUpdate, waitForLog } from './faults-docker-kit';

/** Exits 0 at once on SIGTERM (`wait` is interrupted by a trapped signal; a foreground sleep is not). */
const EXIT_0_ON_TERM = `sh -c 'trap "exit 0" TERM; while true; do sleep 1 & wait $!; done'`;
const STOP_RETRIED = /Could not stop the container; retrying/;

let faults: FaultEngine;
before(async () => { faults = await FaultEngine.start(false); });
after(async () => {
  try { await cleanupAll(); } finally { await faults?.teardown(); }
});

test('dockerd frozen during a KILL: TASK_KILLING, no terminal update while frozen, the stop retried; once thawed the container stops and its exit is reported', async () => {
  await faults.reset(false);
  let run: Run | undefined;
  try {
    run = await faults.startRun('freeze-kill', {
      task: { cmd: EXIT_0_ON_TERM },
      env: { EXECUTOR_KILL_TASK_TIMEOUT: '1' },
      agent: { frameworkCapabilities: [{ type: 'TASK_KILLING_STATE' }] },
    });
    await run.update('TASK_RUNNING');
    faults.dockerd.freeze();
    await run.agent.kill(run.taskId);
    await run.update('TASK_KILLING', 5000);
    // The first stop request is bounded at KillTaskTimeout + 10 s = 11 s; stay frozen past it.
    await expectNoTerminalUpdateFor(run, 13_000, 'while dockerd is frozen');
    assert.ok(countOf(run.executor.output, STOP_RETRIED) >= 1, 'the stop was retried while dockerd did not answer');
    faults.dockerd.thaw();
    const terminal = await terminalUpdate(run, 15_000);
    assert.deepEqual([terminal.state, terminal.message], ['TASK_FINISHED', 'Container exited with status 0 after the executor stopped it (KILL from the scheduler)']);
    assert.equal(await run.executor.waitForExit(), 0);
    assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED']);
    assert.equal(faults.inspect(run.containerName).State.ExitCode, 0);
    assert.deepEqual(faults.runningContainers(run), []);
  } finally { await faults.settle(run, false); }
});

test('dockerd frozen during a SHUTDOWN: TASK_FAILED saying the engine did not answer, and the executor exits, both within the grace period', async () => {
  await faults.reset(false);
  let run: Run | undefined;
  try {
    run = await faults.startRun('freeze-shutdown', {
      task: { cmd: EXIT_0_ON_TERM },
      env: { MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '4secs' },
    });
    await run.update('TASK_RUNNING');
    faults.dockerd.freeze();
    const shutdownAt = Date.now();
    await run.agent.shutdown();
    const terminal = await terminalUpdate(run, 5000);
    const updateAfterMs = Date.now() - shutdownAt;
    assert.ok(updateAfterMs < 4000, `the terminal update came ${updateAfterMs} ms after the SHUTDOWN, within the 4 s grace period`);
    assert.equal(terminal.state, 'TASK_FAILED');
    assert.match(terminal.message ?? '', /^The Docker engine did not answer within the shutdown grace period: container [0-9a-f]{12} could not be confirmed stopped \(SHUTDOWN from the agent\) and may still be running$/);
    assert.equal(await run.executor.waitForExit(5000), 0);
    const exitedAfterMs = Date.now() - shutdownAt;
    assert.ok(exitedAfterMs < 4000, `the executor exited ${exitedAfterMs} ms after the SHUTDOWN, within the 4 s grace period`);
    assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    // Nobody is left to stop the container: it may still run once the engine answers, as the update warned.
    faults.dockerd.thaw();
    faults.docker('stop', '-t', '1', run.containerName);
    assert.deepEqual(faults.runningContainers(run), []);
  } finally { await faults.settle(run, false); }
});

test('the container removed out of band (docker rm -f) while the task runs: TASK_FAILED saying it is gone, once', async () => {
  await faults.reset(false);
  let run: Run | undefined;
  try {
    run = await faults.startRun('removed', { task: { cmd: EXIT_0_ON_TERM } });
    await run.update('TASK_RUNNING');
    faults.docker('rm', '-f', run.containerName);
    const terminal = await terminalUpdate(run);
    assert.match(`${terminal.state}: ${terminal.message}`, /^TASK_FAILED: Container [0-9a-f]{12} is gone: the Docker engine no longer knows it/);
    assert.equal(await run.executor.waitForExit(), 0);
    await sleep(200); // a second terminal update would come right after the first
    assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    await waitForLog(run.executor, /The container is gone: the Docker engine no longer knows it/, 1, 1000);
    assert.deepEqual(faults.runningContainers(run), []);
  } finally { await faults.settle(run, false); }
});
