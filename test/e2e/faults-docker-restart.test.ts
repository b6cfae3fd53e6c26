// Docker engine restarts while a task runs (docs/faults.md), end to end: the built executor, the
// agent double, and a private dockerd that the test restarts (with and without live-restore),
// SIGKILLs and stops. The task must stay RUNNING while the engine is away, the executor must
// re-attach (its wait, and the syslog relay) once it answers, and the one terminal update must
// carry the container's real exit status.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpListener } from '../relay/fake-log-engine';
import { cleanupAll, type Run } from './harness';
import { FaultEngine, assertNoTerminalUpdate, assertUpdates, countOf, expectNoTerminalUpdateFor, sleep, terminalUpdate, waitForLog } from './faults-docker-kit';

/** Runs until /tmp/stop exists, then exits 7: the test decides when, and the code is unmistakable. */
const UNTIL_STOP_FILE = `sh -c 'trap "exit 0" TERM; while [ ! -f /tmp/stop ]; do sleep 0.1; done; exit 7'`;
/** Exits 3 on SIGTERM: a 3 can only come from the engine's (or the executor's) stop. */
const EXIT_3_ON_TERM = `sh -c 'trap "exit 3" TERM; while true; do sleep 0.1; done'`;
const REATTACHED = /Re-attached to the container: it is still running/;

let faults: FaultEngine;
before(async () => { faults = await FaultEngine.start(true); });
after(async () => {
  try { await cleanupAll(); } finally { await faults?.teardown(); }
});

function assertStillRunning(run: Run, pid: number, when: string): void {
  const state = faults.inspect(run.containerName).State;
  assert.equal(state.Running, true, `the container runs ${when}`);
  assert.equal(state.Pid, pid, `the same process ${when}`);
}

test('live-restore restarts (two) while the task runs: it stays RUNNING, the executor re-attaches, and the exit is reported with its real status', async () => {
  await faults.reset(true);
  let run: Run | undefined;
  try {
    run = await faults.startRun('lr-restart', { task: { cmd: UNTIL_STOP_FILE } });
    await run.update('TASK_RUNNING');
    const pid = faults.inspect(run.containerName).State.Pid as number;
    for (const restart of [1, 2]) {
      await faults.dockerd.restart({ liveRestore: true });
      assertNoTerminalUpdate(run, `while dockerd restarted (#${restart})`);
      assertStillRunning(run, pid, `after restart #${restart}`);
      await waitForLog(run.executor, REATTACHED, restart);
      assertNoTerminalUpdate(run, `after the executor re-attached (#${restart})`);
    }
    faults.docker('exec', run.containerName, 'touch', '/tmp/stop');
    const terminal = await terminalUpdate(run);
    assert.deepEqual([terminal.state, terminal.message], ['TASK_FAILED', 'Container exited with status 7']);
    assert.equal(await run.executor.waitForExit(), 0);
    assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    assert.equal(countOf(run.executor.output, REATTACHED), 2, 'one re-attachment per restart');
    assert.match(run.executor.output, /Lost the wait on the container; re-attaching once the Docker engine answers/);
    assert.deepEqual(faults.runningContainers(run), []);
  } finally { await faults.settle(run, true); }
});

test('live-restore restart with the syslog relay on: every line printed before, during and after it is relayed exactly once, in order', async () => {
  await faults.reset(true);
  const udp = await UdpListener.open();
  let run: Run | undefined;
  const lines = 80; // ~4.5 s at one line per stream every 50 ms: the restart (~1.2 s) falls in the middle
  try {
    run = await faults.startRun('lr-relay', {
      task: { cmd: `sh -c 'i=1; while [ $i -le ${lines} ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.05; done'` },
      env: { EXECUTOR_RELAY_SYSLOG: 'true', EXECUTOR_SYSLOG_ADDR: `127.0.0.1:${udp.port}` },
    });
    await run.update('TASK_RUNNING');
    const payloads = () => udp.records().map((r) => r.Payload);
    await udp.waitFor(10, 5000); // some lines relayed before the restart
    await faults.dockerd.restart({ liveRestore: true });
    assert.equal(faults.inspect(run.containerName).State.Running, true, 'the container still prints after the restart');
    assert.ok(!payloads().includes(`out ${lines}`), 'the restart happened before the last line');
    assertNoTerminalUpdate(run, 'while dockerd restarted');
    const terminal = await terminalUpdate(run);
    assert.deepEqual([terminal.state, terminal.message], ['TASK_FINISHED', 'Container exited with status 0']);
    assert.equal(await run.executor.waitForExit(), 0);
    // The start announcement, then 2 × lines container lines.
    await udp.waitFor(1 + 2 * lines, 5000).catch(() => undefined);
    const announcements = payloads().filter((p) => p.startsWith('sidecar-executor starting log pump'));
    assert.equal(announcements.length, 1, 'one announcement: re-attaching is not a new relay');
    const numbered = (stream: string) => payloads().filter((p) => p.startsWith(`${stream} `));
    const expected = (stream: string) => Array.from({ length: lines }, (_, i) => `${stream} ${i + 1}`);
    assert.deepEqual(numbered('out'), expected('out'), 'stdout: each line once, in order');
    assert.deepEqual(numbered('err'), expected('err'), 'stderr: each line once, in order');
    assert.equal(udp.count, 1 + 2 * lines, 'nothing else was relayed');
    assert.match(run.executor.output, /Syslog relay follows the container logs again/);
    assert.match(run.executor.output, /msg="Syslog log pump exited".* lines=161 sent=161 dropped=0/);
    assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  } finally {
    await faults.settle(run, true);
    await udp.close();
  }
});

test('dockerd SIGKILLed, then started without live-restore: no terminal update while it is dead, then the real exit status of the stop it does, once', async () => {
  await faults.reset(true);
  let run: Run | undefined;
  try {
    run = await faults.startRun('kill9', { task: { cmd: EXIT_3_ON_TERM } });
    await run.update('TASK_RUNNING');
    await faults.dockerd.kill9();
    await expectNoTerminalUpdateFor(run, 2000, 'while dockerd is dead');
    assert.match(run.executor.output, /The Docker engine does not answer; the task keeps its state until it does/);
    // Without live-restore, dockerd stops the containers it finds running as it starts: SIGTERM, exit 3.
    await faults.dockerd.startAgain({ liveRestore: false });
    const terminal = await terminalUpdate(run);
    assert.deepEqual([terminal.state, terminal.message], ['TASK_FAILED', 'Container exited with status 3']);
    assert.equal(await run.executor.waitForExit(), 0);
    assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    assert.deepEqual(faults.runningContainers(run), []);
  } finally { await faults.settle(run, true); }
});

test('dockerd stopped gracefully without live-restore: it stops the container, and its real exit status is reported once', async () => {
  await faults.reset(false);
  let run: Run | undefined;
  try {
    run = await faults.startRun('graceful-stop', { task: { cmd: EXIT_3_ON_TERM } });
    await run.update('TASK_RUNNING');
    await faults.dockerd.stop();
    // The wait may return the exit as dockerd shuts down; if not, the status comes once it is back.
    await sleep(1500);
    const whileDown = run.states().filter((s) => s !== 'TASK_STARTING' && s !== 'TASK_RUNNING');
    assert.ok(whileDown.length <= 1, `at most one terminal update while dockerd is down: ${whileDown}`);
    await faults.dockerd.startAgain({ liveRestore: false });
    const terminal = await terminalUpdate(run);
    assert.deepEqual([terminal.state, terminal.message], ['TASK_FAILED', 'Container exited with status 3']);
    assert.equal(await run.executor.waitForExit(), 0);
    assertUpdates(run, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    assert.equal(faults.inspect(run.containerName).State.ExitCode, 3);
    assert.deepEqual(faults.runningContainers(run), []);
  } finally { await faults.settle(run, true); }
});
