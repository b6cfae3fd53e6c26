// What Sidecar health checking costs (docs/health-checks.md): the built executor running a real
// task, checking the Sidecar double every second, measured over a fixed window in CPU time and
// private memory; beside it the same executor with checks off, so the cost per check is the
// difference; then ten executors polling one Sidecar at once, as on a busy agent.
import { SidecarDouble } from '../test/doubles/sidecar';
import { startRun, type Run } from '../test/e2e/harness';
import { cpuTimeMs, mb, median, sleep, smapsKb, startSiblings, table, type BenchSection } from './bench-kit';

const HOST = 'agent-3.example.internal';
const MANY = 10;
/**
 * The executors' SidecarBackoff: past a new service's start-up in the Sidecar double, which keeps
 * the real one's intervals (a discovery pass within 1 s, then UNKNOWN until the next 3 s check,
 * which fails, then ALIVE at the one after: 7 s at most), so the first check finds it ALIVE.
 */
const BACKOFF = '10s';

/** The measured window: BENCH_POLL_SECONDS (default 60) for a quick run. */
function windowSeconds(): number {
  const raw = process.env.BENCH_POLL_SECONDS;
  const n = raw === undefined || raw === '' ? 60 : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_POLL_SECONDS=${JSON.stringify(raw)} is not a positive number of seconds`);
  return n;
}

interface Sample { cpuMs: number; privateKb: number }
interface Window { cpuMs: number; startKb: number; endKb: number }

function sample(run: Run): Sample {
  const pid = run.executor.child.pid;
  if (pid === undefined || run.executor.child.exitCode !== null) throw new Error(`the executor of ${run.taskId} is not running:\n${run.executor.stderr.slice(-2000)}`);
  return { cpuMs: cpuTimeMs(pid), privateKb: smapsKb(pid).privateKb };
}

function windowOf(start: Sample, end: Sample): Window {
  return { cpuMs: end.cpuMs - start.cpuMs, startKb: start.privateKb, endKb: end.privateKb };
}

/** Starts `count` executors, each with its own agent double, running `sleep` with checks on or off. */
async function startExecutors(label: string, count: number, sidecar: SidecarDouble, checks: boolean): Promise<Run[]> {
  const runs = await Promise.all(Array.from({ length: count }, (_, i) => startRun(`${label}-${i}`, {
    task: { cmd: 'sleep 3600', labels: { SidecarDiscover: checks ? 'true' : 'false' } },
    agent: { hostname: HOST },
    env: {
      EXECUTOR_SIDECAR_URL: sidecar.url,
      EXECUTOR_SIDECAR_BACKOFF: BACKOFF,
      EXECUTOR_SIDECAR_POLL_INTERVAL: '1s',
      EXECUTOR_SIDECAR_DRAINING_DURATION: '0s',
    },
  })));
  await Promise.all(runs.map((run) => run.update('TASK_RUNNING', 60_000)));
  // The window opens once every monitor has passed its backoff and reported the service healthy.
  if (checks) {
    await Promise.all(runs.map((run) => run.agent.waitForUpdate((s) => s.task_id.value === run.taskId && s.healthy === true, 30_000)));
  } else {
    await sleep(1500);
  }
  return runs;
}

/** Samples every run, waits the window, samples again; also counts the state requests in it. */
async function measure(runs: Run[], sidecar: SidecarDouble, seconds: number): Promise<{ windows: Window[]; checks: number }> {
  const gets = (): number => sidecar.callsTo('GET', '/state.json').length;
  const startChecks = gets();
  const start = runs.map(sample);
  await sleep(seconds * 1000);
  const end = runs.map(sample);
  return { windows: start.map((s, i) => windowOf(s, end[i]!)), checks: gets() - startChecks };
}

const fixed = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');

export async function sidecarPollingBench(): Promise<BenchSection> {
  const seconds = windowSeconds();
  const siblings = startSiblings();
  const sidecarOn = await SidecarDouble.start({ hostname: HOST });
  // The baseline has its own double so the count of checks in the window is the checked run's alone.
  const sidecarOff = await SidecarDouble.start({ hostname: HOST });
  const sidecarMany = await SidecarDouble.start({ hostname: HOST });
  const runs: Run[] = [];
  try {
    // One executor with checks and one without, measured over the same window.
    const [on] = await startExecutors('bench-poll-on', 1, sidecarOn, true);
    const [off] = await startExecutors('bench-poll-off', 1, sidecarOff, false);
    runs.push(on!, off!);
    const [single, baseline] = await Promise.all([measure([on!], sidecarOn, seconds), measure([off!], sidecarOff, seconds)]);
    if (sidecarOff.calls.length > 0) throw new Error('the executor with SidecarDiscover=false called Sidecar');
    for (const run of runs.splice(0)) await run.cleanup();

    const many = await startExecutors('bench-poll-many', MANY, sidecarMany, true);
    runs.push(...many);
    const crowd = await measure(many, sidecarMany, seconds);
    for (const run of runs.splice(0)) await run.cleanup();

    const one = single.windows[0]!;
    const base = baseline.windows[0]!;
    const crowdCpu = crowd.windows.reduce((sum, w) => sum + w.cpuMs, 0);
    const crowdStartKb = median(crowd.windows.map((w) => w.startKb));
    const crowdEndKb = median(crowd.windows.map((w) => w.endKb));
    const maxEndKb = Math.max(one.endKb, ...crowd.windows.map((w) => w.endKb));
    const perCheck = one.cpuMs / single.checks;
    const netPerCheck = (one.cpuMs - base.cpuMs) / single.checks;
    const crowdNetPerCheck = (crowdCpu - MANY * base.cpuMs) / crowd.checks;

    const lines = [
      `CPU time (user + system, /proc/<pid>/stat) and private memory (Private_Clean + Private_Dirty of smaps_rollup) of the built executor running one \`sleep\` task (image \`sidecar-executor-test:latest\`) while it checks the Sidecar double's state.json every second (EXECUTOR_SIDECAR_POLL_INTERVAL=1s), over a ${seconds} s window opened after its first healthy check; the baseline is the same executor and task with \`SidecarDiscover=false\` over the same window, so the net cost of a check is the difference. Then ${MANY} executors, each with its own task, polling one Sidecar double at once (memory: median per executor). CPU is counted in 10 ms ticks. Reproduce with \`npm run bench\` (\`BENCH_POLL_SECONDS=10\` for a quick run).`,
      '',
      ...table(
        ['Executors', 'Checks', `CPU in ${seconds} s (ms)`, 'vs checks off', 'CPU per check (ms)', 'Net CPU per check (ms)', 'Private start (MB)', 'Private end (MB)'],
        [
          ['1, checks off (SidecarDiscover=false)', 0, base.cpuMs, '1.00×', '—', '—', mb(base.startKb), mb(base.endKb)],
          ['1, 1 s polls', single.checks, one.cpuMs, base.cpuMs > 0 ? `${fixed(one.cpuMs / base.cpuMs)}×` : '—', fixed(perCheck), fixed(netPerCheck), mb(one.startKb), mb(one.endKb)],
          [`${MANY} at once, 1 s polls (total CPU; median memory)`, crowd.checks, crowdCpu, base.cpuMs > 0 ? `${fixed(crowdCpu / (MANY * base.cpuMs))}×` : '—', fixed(crowdCpu / crowd.checks), fixed(crowdNetPerCheck), mb(crowdStartKb), mb(crowdEndKb)],
        ],
      ),
    ];
    return {
      title: 'Sidecar polling',
      lines,
      figures: {
        windowSeconds: seconds,
        cpuPerCheckMs: Number(fixed(perCheck)),
        netCpuPerCheckMs: Number(fixed(netPerCheck)),
        baselineCpuMs: base.cpuMs,
        pollingCpuMs: one.cpuMs,
        manyTotalCpuMs: crowdCpu,
        manyMedianPrivateEndMb: Number(mb(crowdEndKb)),
        maxPrivateEndMb: Number(mb(maxEndKb)),
      },
    };
  } finally {
    for (const run of runs) await run.cleanup().catch(() => undefined);
    await Promise.all([sidecarOn.close(), sidecarOff.close(), sidecarMany.close()]);
    siblings.stop();
  }
}
