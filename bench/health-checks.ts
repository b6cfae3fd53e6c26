// What the task's own health checks cost (docs/health-checks.md), beside the Sidecar polling
// section: the built executor running busybox httpd on a BRIDGE network, checked every second,
// measured over a fixed window in CPU time, against the same executor and task without a check;
// then the private memory of ten executors at once with HTTP checks, against ten without, sampled
// every second. Budgets: at most 2 ms CPU per check, at most 8.5 MB private per executor.
import type { HealthCheck } from '../src/mesos/types';
import { docker, startRun, type Run } from '../test/e2e/harness';
import { cpuTimeMs, mb, median, sleep, smapsKb, startSiblings, table, type BenchSection } from './bench-kit';

const MANY = 10;
/** httpd logs each request to stdout (-v), so the checks it answered can be counted. */
const HTTPD = 'sh -c "mkdir -p /www && echo ok > /www/health && exec httpd -f -v -p 8080 -h /www 2>&1"';
const EVERY_SECOND = { delay_seconds: 0, interval_seconds: 1, timeout_seconds: 5, grace_period_seconds: 10 };
const HTTP_CHECK: HealthCheck = { type: 'HTTP', http: { port: 8080, path: '/health' }, ...EVERY_SECOND };
/** Counted in the executor's debug log (a connect leaves nothing in httpd's). */
const TCP_CHECK: HealthCheck = { type: 'TCP', tcp: { port: 8080 }, ...EVERY_SECOND };
/** Each COMMAND check leaves a line behind, so they can be counted. */
const COMMAND_CHECK: HealthCheck = { type: 'COMMAND', command: { value: 'echo >> /tmp/checks' }, ...EVERY_SECOND };
const CHECKS: Record<Kind, HealthCheck | undefined> = { none: undefined, http: HTTP_CHECK, tcp: TCP_CHECK, command: COMMAND_CHECK };

/** The measured window: BENCH_HEALTH_SECONDS (default 60) for a quick run. */
function windowSeconds(): number {
  const raw = process.env.BENCH_HEALTH_SECONDS;
  const n = raw === undefined || raw === '' ? 60 : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_HEALTH_SECONDS=${JSON.stringify(raw)} is not a positive number of seconds`);
  return n;
}

type Kind = 'none' | 'http' | 'tcp' | 'command';

function pidOf(run: Run): number {
  const pid = run.executor.child.pid;
  if (pid === undefined || run.executor.child.exitCode !== null) throw new Error(`the executor of ${run.taskId} is not running:\n${run.executor.stderr.slice(-2000)}`);
  return pid;
}

/** The checks the task has answered so far. */
function checksOf(run: Run, kind: Kind): number {
  if (kind === 'http') return docker('logs', run.containerName).split('\n').filter((l) => l.includes('response:')).length;
  if (kind === 'command') return Number(docker('exec', run.containerName, 'sh', '-c', 'cat /tmp/checks 2>/dev/null | wc -l'));
  if (kind === 'tcp') return run.executor.stdout.split('Health check passed').length - 1;
  return 0;
}

async function startExecutors(label: string, count: number, kind: Kind, settleMs = 2000): Promise<Run[]> {
  const healthCheck = CHECKS[kind];
  const runs = await Promise.all(Array.from({ length: count }, (_, i) => startRun(`${label}-${i}`, {
    task: { cmd: HTTPD, network: 'BRIDGE', healthCheck },
    env: kind === 'tcp' ? { EXECUTOR_DEBUG: 'true' } : {},
  })));
  await Promise.all(runs.map((run) => run.update('TASK_RUNNING', 60_000)));
  // The window opens once every check has reported the task healthy.
  if (healthCheck) await Promise.all(runs.map((run) => run.agent.waitForUpdate((s) => s.healthy === true, 30_000)));
  await sleep(settleMs);
  return runs;
}

interface Window { cpuMs: number; checks: number; startKb: number; endKb: number }

async function measure(runs: { run: Run; kind: Kind }[], seconds: number): Promise<Window[]> {
  const start = runs.map(({ run, kind }) => ({ cpu: cpuTimeMs(pidOf(run)), kb: smapsKb(pidOf(run)).privateKb, checks: checksOf(run, kind) }));
  await sleep(seconds * 1000);
  return runs.map(({ run, kind }, i) => ({
    cpuMs: cpuTimeMs(pidOf(run)) - start[i]!.cpu,
    checks: checksOf(run, kind) - start[i]!.checks,
    startKb: start[i]!.kb,
    endKb: smapsKb(pidOf(run)).privateKb,
  }));
}

interface Memory { at2sKb: number[]; steadyMedianKb: number; steadyMaxKb: number; maxKb: number }
const EMPTY: Memory = { at2sKb: [], steadyMedianKb: NaN, steadyMaxKb: NaN, maxKb: NaN };
/** V8's first memory-reducing GC comes some 8 s after start-up; "steady" is from then on. */
const STEADY_AFTER_S = 10;

/**
 * Private memory of every executor every second, from TASK_RUNNING on: at 2 s (where the
 * executor section samples), then the median and the highest sample once start-up garbage is gone.
 */
async function sampleMemory(runs: Run[], seconds: number): Promise<Memory> {
  const steady: number[] = [];
  let at2sKb: number[] = [];
  let maxKb = 0;
  for (let s = 1; s <= STEADY_AFTER_S + seconds; s++) {
    await sleep(1000);
    const kb = runs.map((run) => smapsKb(pidOf(run)).privateKb);
    if (s === 2) at2sKb = kb;
    if (s > STEADY_AFTER_S) steady.push(...kb);
    maxKb = Math.max(maxKb, ...kb);
  }
  return { at2sKb, steadyMedianKb: median(steady), steadyMaxKb: Math.max(...steady), maxKb };
}

const fixed = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');

export async function healthChecksBench(): Promise<BenchSection> {
  const seconds = windowSeconds();
  const siblings = startSiblings();
  const runs: Run[] = [];
  try {
    // One executor per kind, measured over the same window.
    const kinds: Kind[] = ['none', 'http', 'tcp', 'command'];
    const single = (await Promise.all(kinds.map((kind) => startExecutors(`bench-hc-${kind}`, 1, kind)))).map(([run], i) => ({ run: run!, kind: kinds[i]! }));
    runs.push(...single.map((s) => s.run));
    const [off, http, tcp, command] = await measure(single, seconds);
    for (const run of runs.splice(0)) await run.cleanup();

    // Ten at once, without checks and then with HTTP checks: private memory per executor, every second.
    const crowd: Record<'none' | 'http', Memory> = { none: EMPTY, http: EMPTY };
    for (const kind of ['none', 'http'] as const) {
      const many = await startExecutors(`bench-hc-many-${kind}`, MANY, kind, 0);
      runs.push(...many);
      crowd[kind] = await sampleMemory(many, seconds);
      for (const run of runs.splice(0)) await run.cleanup();
    }

    const perCheck = (w: Window): number => w.cpuMs / w.checks;
    const netPerCheck = (w: Window): number => (w.cpuMs - off!.cpuMs) / w.checks;
    const lines = [
      `CPU time (user + system, /proc/<pid>/stat) of the built executor running busybox \`httpd\` (image \`sidecar-executor-test:latest\`, BRIDGE network) while it checks the task every second (\`interval_seconds: 1\`), over a ${seconds} s window opened after the first healthy check, beside the same executor and task without a health_check over the same window; the net cost of a check is the difference. HTTP: GET /health on the container's address (checks counted in httpd's log); TCP: a connect to httpd's port (counted in the executor's log, so that executor runs with EXECUTOR_DEBUG, whose lines count in its CPU); COMMAND: \`echo >> /tmp/checks\` through the Engine API's exec (create, start, inspect; counted in the file). Then private memory (Private_Clean + Private_Dirty of smaps_rollup) of ${MANY} executors at once, each with its own task, without checks and then with HTTP checks every second, sampled every second from when all ten run, for ${STEADY_AFTER_S} s plus a window of the same length: at 2 s (where the executor section samples; start-up garbage is still there, and each executor is at one of two levels about 0.75 MB apart, as V8 has grown its young generation or not), then from ${STEADY_AFTER_S} s on, once V8's first memory-reducing GC has run. CPU is counted in 10 ms ticks. Reproduce with \`npm run bench\` (\`BENCH_ONLY=health BENCH_HEALTH_SECONDS=20\` for a quick run).`,
      '',
      ...table(
        ['Executor', 'Checks', `CPU in ${seconds} s (ms)`, 'CPU per check (ms)', 'Net CPU per check (ms)', 'Private end (MB)'],
        [
          ['1, no health_check', 0, off!.cpuMs, '—', '—', mb(off!.endKb)],
          ['1, HTTP check every 1 s', http!.checks, http!.cpuMs, fixed(perCheck(http!)), fixed(netPerCheck(http!)), mb(http!.endKb)],
          ['1, TCP check every 1 s (debug log on)', tcp!.checks, tcp!.cpuMs, fixed(perCheck(tcp!)), fixed(netPerCheck(tcp!)), mb(tcp!.endKb)],
          ['1, COMMAND check every 1 s', command!.checks, command!.cpuMs, fixed(perCheck(command!)), fixed(netPerCheck(command!)), mb(command!.endKb)],
        ],
      ),
      '',
      ...table(
        [`${MANY} executors at once`, 'At 2 s, median / max (MB)', `From ${STEADY_AFTER_S} s, median (MB)`, `From ${STEADY_AFTER_S} s, max (MB)`, 'Highest sample (MB)', 'budget'],
        (['none', 'http'] as const).map((kind) => [
          kind === 'none' ? 'no health_check' : 'HTTP check every 1 s',
          `${mb(median(crowd[kind].at2sKb))} / ${mb(Math.max(...crowd[kind].at2sKb))}`,
          mb(crowd[kind].steadyMedianKb), mb(crowd[kind].steadyMaxKb), mb(crowd[kind].maxKb), '≤ 8.5 MB',
        ]),
      ),
    ];
    return {
      title: 'Native health checks',
      lines,
      figures: {
        windowSeconds: seconds,
        httpChecks: http!.checks,
        httpCpuPerCheckMs: Number(fixed(perCheck(http!))),
        httpNetCpuPerCheckMs: Number(fixed(netPerCheck(http!))),
        tcpChecks: tcp!.checks,
        tcpNetCpuPerCheckMs: Number(fixed(netPerCheck(tcp!))),
        commandChecks: command!.checks,
        commandCpuPerCheckMs: Number(fixed(perCheck(command!))),
        commandNetCpuPerCheckMs: Number(fixed(netPerCheck(command!))),
        tenNoCheckSteadyMedianMb: Number(mb(crowd.none.steadyMedianKb)),
        tenHttpAt2sMedianMb: Number(mb(median(crowd.http.at2sKb))),
        tenHttpSteadyMedianMb: Number(mb(crowd.http.steadyMedianKb)),
        tenHttpSteadyMaxMb: Number(mb(crowd.http.steadyMaxKb)),
        tenHttpHighestMb: Number(mb(crowd.http.maxKb)),
      },
    };
  } finally {
    for (const run of runs) await run.cleanup().catch(() => undefined);
    siblings.stop();
  }
}
