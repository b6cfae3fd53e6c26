// Randomised agent disconnects against real executors and containers, with an honest tally: per
// run, what the executor says it sent (its log), what the agent double took (UPDATE calls and
// the updates carried by accepted SUBSCRIBEs), the ACKNOWLEDGED events it delivered per uuid, how
// the executor ended and whether any container outlived it. Shared by `npm run bench:disconnects`
// (bench/agent-disconnects.ts) and test/e2e/agent-disconnects.test.ts.
//
// Workers run in parallel, each running executors one after another (one task each, with its
// own agent double and port) until the disconnects are made. A disconnect is the agent double
// stopped and started again on the same port after 0.3–9 s (some of them then answering the
// first SUBSCRIBEs with 503 "not finished recovery", as a recovering agent does), or, for short
// ones, its subscription's socket destroyed. They come at random moments (some right as the
// agent takes an update), often across the container's exit, which itself comes at a random
// time with a random code, or after a KILL.
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ExecutorProcess, TEST_IMAGE, requireDocker, uniqueTaskId } from '../e2e/harness';
import { MesosAgentDouble, type MesosAgentDoubleOptions } from '../doubles/mesos-agent';
import { dockerTaskInfo, type DockerTaskOptions } from '../doubles/task-fixtures';
import { logFields, sentUpdates, updateLedger, uuidKey } from './update-ledger';
import { formatTally, type RunTally } from './tally-table';

export { formatTally, type RunTally };
const execFileAsync = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR']);
const EXIT_CODES = [0, 0, 3, 143, 1];
// Below the kernel's ephemeral range (32768+): no outgoing connection can hold the port while the
// double is stopped, so it always gets its port back.
const PORTS = { from: 20_000, to: 32_000 };

export interface TallyOptions {
  /** Total disconnects to make. */
  disconnects: number;
  /** Executors running at once. */
  parallel: number;
  seed?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

interface TallyRun {
  agent: MesosAgentDouble;
  executor: ExecutorProcess;
  taskId: string;
  /** Stops the executor and the double, and removes the task's containers. */
  cleanup(): Promise<void>;
}

export interface DisconnectTally {
  seed: number;
  wallMs: number;
  runs: RunTally[];
}

/** mulberry32: a seeded generator, so a bad run can be replayed with its seed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runDisconnectTally(options: TallyOptions): Promise<DisconnectTally> {
  requireDocker();
  const seed = options.seed ?? (Date.now() % 1_000_000);
  const started = Date.now();
  const runs: RunTally[] = [];
  // A shared count: a worker reserves a run's worth of disconnects, and what its run could not
  // make (the executor ended first) goes back for any idle worker to take, so the last ones do
  // not fall to a single worker.
  let made = 0;
  let reserved = 0;
  let wake = (): void => undefined;
  let runEnded = new Promise<void>((resolve) => { wake = resolve; });
  // Every worker ends (and cleans up) before a failure of one is reported.
  const workers = await Promise.allSettled(Array.from({ length: options.parallel }, async (_, worker) => {
    const random = generator(seed + worker);
    // A run may end before its first disconnect; the bound only stops a broken routine.
    while (made < options.disconnects && runs.length < options.disconnects * 4) {
      const free = options.disconnects - made - reserved;
      if (free <= 0) { await runEnded; continue; }
      const planned = Math.min(free, 1 + Math.floor(random() * 3));
      reserved += planned;
      let tally: RunTally;
      try {
        tally = await oneRun(worker, planned, random);
      } finally {
        // Also when the run failed: the others must not wait on disconnects it will never make.
        reserved -= planned;
        const woken = wake;
        runEnded = new Promise<void>((resolve) => { wake = resolve; });
        woken();
      }
      made += tally.disconnects;
      runs.push(tally);
      options.log?.(`${((Date.now() - started) / 1000).toFixed(1)} s: worker ${worker}, ${tally.taskId}: ${tally.disconnects} disconnect(s) `
        + `in ${(tally.runMs / 1000).toFixed(1)} s, executor exit ${tally.executorExit}, lost ${tally.lost}; ${made} of ${options.disconnects} made`);
    }
  }));
  const failed = workers.find((w): w is PromiseRejectedResult => w.status === 'rejected');
  if (failed) throw failed.reason;
  return { seed, wallMs: Date.now() - started, runs };
}

/**
 * An agent double on a free port, launching the task, and the executor. Not the harness's
 * startRun: its docker calls are synchronous, and with twenty runs in one process each one
 * would stall every double's timers (ACKs included) for its duration.
 */
async function startTallyRun(
  label: string, random: () => number, task: Partial<DockerTaskOptions>, agentOptions: MesosAgentDoubleOptions, env: Record<string, string>,
): Promise<TallyRun> {
  const taskId = uniqueTaskId(label);
  let agent: MesosAgentDouble | undefined;
  for (let tries = 1; !agent; tries++) {
    const port = PORTS.from + Math.floor(random() * (PORTS.to - PORTS.from));
    try {
      agent = await MesosAgentDouble.start({ ...agentOptions, port });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 20) throw err;
    }
  }
  // The e2e.task label finds the container whatever happened to the executor.
  await agent.launch(dockerTaskInfo({ image: TEST_IMAGE, ...task, labels: { SidecarDiscover: 'false', 'e2e.task': taskId }, taskId }));
  const executor = new ExecutorProcess({ ...agent.executorEnvironment(), ...env });
  const ready = agent;
  return {
    agent: ready, executor, taskId,
    cleanup: async () => {
      executor.kill();
      await ready.stop().catch(() => undefined);
      const { stdout } = await execFileAsync('docker', ['ps', '-aq', '--filter', `label=e2e.task=${taskId}`]);
      const ids = stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await execFileAsync('docker', ['rm', '-f', ...ids]);
    },
  };
}

/** The double back on its port; another process may hold it for a moment (never expected). */
async function startAgain(run: TallyRun): Promise<void> {
  for (let tries = 1; ; tries++) {
    try { await run.agent.start(); return; } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 50) throw err;
      await sleep(100);
    }
  }
}

async function oneRun(worker: number, planned: number, random: () => number): Promise<RunTally> {
  const between = (lo: number, hi: number): number => lo + random() * (hi - lo);
  const sleepSec = Math.round(between(1, 15) * 10) / 10;
  const code = EXIT_CODES[Math.floor(random() * EXIT_CODES.length)];
  const killAtMs = random() < 0.25 ? between(500, sleepSec * 1000) : undefined;
  const run = await startTallyRun(`disc${worker}`, random, {
    // `sleep` in the background so the TERM of a KILL ends the shell at once, with 143.
    cmd: `sh -c "trap 'exit 143' TERM; sleep ${sleepSec} & wait; exit ${code}"`,
  }, { frameworkCapabilities: random() < 0.5 ? [{ type: 'TASK_KILLING_STATE' }] : [] }, {
    MESOS_CHECKPOINT: '1', MESOS_RECOVERY_TIMEOUT: '15mins', MESOS_SUBSCRIPTION_BACKOFF_MAX: '300ms',
    EXECUTOR_KILL_TASK_TIMEOUT: '2', EXECUTOR_DEBUG: 'true',
  });
  const { agent, executor } = run;
  const started = Date.now();
  // Away at most 9 s per disconnect: a correct executor is long gone by then.
  const deadline = started + sleepSec * 1000 + 60_000;
  let exited = false;
  void executor.exited.then(() => { exited = true; });
  /** Sleeps `ms`, or less if the executor exits meanwhile. */
  const pause = async (ms: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((r) => { timer = setTimeout(r, ms); }), executor.exited]);
    clearTimeout(timer);
  };
  const away: Away[] = [];
  let killSent = false;
  try {
    const chaos = (async () => {
      // Disconnects of an executor that has been connected: its first SUBSCRIBE first.
      await agent.waitForSubscribe(1, 30_000);
      for (let i = 0; i < planned && !exited; i++) {
        const atUpdate = random() < 0.3;
        if (atUpdate) {
          // Right as the agent takes the next update: its ACK is still queued behind a 0 ms
          // timer, or, a few ms later, written but perhaps not yet read by the executor.
          const after = agent.calls().at(-1)?.seq ?? 0;
          let taken: unknown;
          // Short waits, so none outlives the executor by more than a second; none past the
          // deadline either (an executor that lost its updates may wait for an ACK for ever).
          while (!taken && !exited && Date.now() < deadline) {
            taken = await agent.waitForCall((c) => c.seq > after && c.type === 'UPDATE' && c.status === 202, 1000).catch(() => undefined);
          }
          if (exited || !taken) break;
          if (random() < 0.5) await sleep(between(1, 4));
        } else {
          // The first one anywhere in the container's life, up to its exit (the executor is
          // gone soon after that, once its terminal update is acknowledged); the next 0–2 s
          // after the agent is back, often before the executor has re-subscribed.
          await pause(i === 0 ? between(0, sleepSec * 1000 + 500) : between(0, 2000));
          if (exited) break;
        }
        const awayMs = between(300, 9000);
        const from = Date.now();
        if (awayMs < 1500 && agent.isSubscribed && random() < 0.6) {
          // The executor subscribes again after its own backoff: the agent is away that long.
          agent.dropConnection();
          await agent.waitForSubscribe(agent.subscribeCalls().length + 1, 15_000).catch(() => undefined);
          away.push({ from, to: Date.now(), kind: 'drop', atUpdate });
          continue;
        }
        const recovering = random() < 0.3;
        await agent.stop();
        await sleep(awayMs);
        if (recovering) agent.failNext('SUBSCRIBE', 1 + Math.floor(random() * 3), 'unavailable');
        await startAgain(run);
        away.push({ from, to: Date.now(), kind: recovering ? 'recovering' : 'restart', atUpdate });
      }
    })();
    const kill = (async () => {
      if (killAtMs === undefined) return;
      // From TASK_RUNNING as the executor sent it (the agent may take it only later, carried).
      while (!exited && !sentUpdates(executor.stdout).some((u) => u.state === 'TASK_RUNNING')) await pause(50);
      await pause(killAtMs);
      // A KILL only goes out on an open subscription: wait for one, as the scheduler would retry.
      while (!exited && !killSent) {
        if (agent.isSubscribed) killSent = await agent.kill(run.taskId);
        if (!killSent) await sleep(200);
      }
    })();
    await chaos;
    const exitCode = await executor.waitForExit(Math.max(1000, deadline - Date.now())).catch(() => null);
    const runMs = Date.now() - started;
    exited = true;
    await kill;
    // Its log is complete once its pipes close; one that did not exit is killed first.
    if (exitCode === null) executor.kill();
    await Promise.all([executor.child.stdout!, executor.child.stderr!].map((s) => (s.closed ? undefined : once(s, 'close'))));
    return await tallyOf(run, worker, { runMs, sleepSec, code, killSent, away, exitCode });
  } finally {
    exited = true;
    await run.cleanup();
  }
}

interface Away { from: number; to: number; kind: 'restart' | 'recovering' | 'drop'; atUpdate: boolean }
interface RunFacts { runMs: number; sleepSec: number; code: number; killSent: boolean; away: Away[]; exitCode: number | null }

async function tallyOf(run: TallyRun, worker: number, facts: RunFacts): Promise<RunTally> {
  const log = run.executor.stdout;
  const ledger = updateLedger(run.agent, log, run.taskId);
  const terminal = ledger.sent.find((u) => TERMINAL.has(u.state));
  const terminalLine = log.split('\n').find((l) => l.includes('msg="Sending status update"') && terminal && uuidKey(logFields(l).uuid) === terminal.uuid);
  const terminalAt = terminalLine ? Date.parse(logFields(terminalLine).time) : NaN;
  const terminalAcked = terminal !== undefined && (ledger.deliveredAcks.get(terminal.uuid) ?? 0) > 0;
  const { stdout } = await execFileAsync('docker', ['ps', '-q', '--filter', `label=e2e.task=${run.taskId}`]);
  const kinds = (kind: string): number => facts.away.filter((a) => a.kind === kind).length;
  return {
    worker, taskId: run.taskId, runMs: facts.runMs, sleepSec: facts.sleepSec, exitCodeAsked: facts.code, killSent: facts.killSent,
    disconnects: facts.away.length, restarts: kinds('restart'), recovering: kinds('recovering'), drops: kinds('drop'),
    atUpdate: facts.away.filter((a) => a.atUpdate).length,
    awayMs: facts.away.reduce((sum, a) => sum + a.to - a.from, 0),
    terminalWhileAway: facts.away.some((a) => terminalAt >= a.from && terminalAt <= a.to),
    states: ledger.sent.map((u) => u.state.replace('TASK_', '')),
    sent: ledger.sent.length,
    accepted: ledger.accepted.length,
    lost: ledger.lost.length,
    unexplained: ledger.unexplained.length,
    carried: [...ledger.carried.values()].reduce((a, b) => a + b, 0),
    acksDelivered: [...ledger.deliveredAcks.values()].reduce((a, b) => a + b, 0),
    // The executor logs each ACKNOWLEDGED it reads (at debug level), without the uuid.
    acksRead: log.split('\n').filter((l) => l.includes('msg="Status update acknowledged"')).length,
    ackedTwice: ledger.ackedTwice.length,
    executorExit: facts.exitCode,
    terminalAcked,
    exitedAfterAck: facts.exitCode === 0 && terminalAcked && !/not acknowledged in time/.test(log),
    containersRunning: stdout.split('\n').filter(Boolean).length,
    rejected: run.agent.rejectedCalls().length,
  };
}
