// `sidecar-executor local [--dry-run] [--verbose] <task.json>`: one TaskInfo run as an agent would
// run it, against the local Docker engine, for an operator trying a task definition. The task's
// executor environment applies (per-task EXECUTOR_* settings), every status update is printed,
// the container's output is shown as it runs, and Ctrl-C sends a KILL. Quiet for a person: only
// warnings and errors are logged unless --verbose (which adds the start-up banners). --dry-run
// prints the Docker create body it would use (secret values redacted) and creates nothing.
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { fail, loadConfig, loadDocker, logDocker, output, startupLog } from '../cli/startup';
import type { MesosEnv } from '../config/mesos-env';
import { taskInfoToContainerSpec } from '../docker/container-spec';
import { TaskInvalidError } from '../docker/task-invalid-error';
import { redactedCreateBody } from '../executor/launch-log';
import { startExecutor } from '../executor/start-executor';
import { createLogger } from '../logging/logger';
import type { ExecutorInfo, TaskInfo } from '../mesos/types';
import { followToConsole } from './console-follower';
import { LocalAgent } from './local-agent';

const USAGE = 'usage: sidecar-executor local [--dry-run] [--verbose] <task.json>';

/** Nothing written: in local mode the container's output is shown as it runs, not copied after. */
const DISCARD = { write: (): boolean => true };

export function runLocal(args: string[]): void {
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const paths = args.filter((a) => !a.startsWith('--'));
  for (const flag of flags) if (flag !== '--dry-run' && flag !== '--verbose') fail(`unknown option ${flag}; ${USAGE}`);
  if (paths.length !== 1) fail(USAGE);
  const task = readTaskFile(paths[0]!);
  const env = executorEnvironmentOf(task);
  if (flags.has('--dry-run')) dryRun(task, env);
  else run(task, env, flags.has('--verbose'));
}

function run(task: TaskInfo, env: NodeJS.ProcessEnv, verbose: boolean): void {
  const settings = loadConfig(env);
  const docker = loadDocker(env);
  const mesos: MesosEnv = {
    agentEndpoint: 'local', frameworkId: 'local-framework', executorId: `local-executor-${task.task_id.value}`,
    directory: undefined, sandbox: undefined, checkpoint: false, recoveryTimeoutMs: 0, subscriptionBackoffMaxMs: 0,
    shutdownGracePeriodMs: 10_000, authToken: undefined, taskHost: env.TASK_HOST || hostname(),
  };
  // Status updates and the container's output on stdout and stderr; the executor's log on
  // stderr, quiet unless asked for.
  const logger = createLogger({ sink: output.stderr, debug: settings.debug, quiet: !verbose && !settings.debug, format: settings.logFormat });
  startupLog(logger, settings, env, verbose);
  logDocker(logger, docker);
  const agent = new LocalAgent(task, (line) => output.stdout.write(line + '\n'));
  const executor = startExecutor({
    mesos, settings, docker, agent, logger, output: { stdout: DISCARD, stderr: DISCARD },
    followToConsole: (engine, containerId, taskLogger) => followToConsole(engine, containerId, output, taskLogger),
    exit: () => {
      const state = agent.lastTerminal?.state;
      process.exit(state === 'TASK_FINISHED' || state === 'TASK_KILLED' ? 0 : 1);
    },
  });
  let interrupts = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupts += 1;
      if (interrupts === 1) { output.stderr.write('Stopping the task (Ctrl-C again to stop at once)\n'); agent.kill(); }
      else void (executor.runner?.stopNow() ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
}

/**
 * The create body the launch would send, as JSON on stdout: the same translation with the same
 * settings. Not in it: SIDECAR_SEEDS (asked of the cluster at launch), resolved vault:// values
 * (shown as the references they are) and the owner labels of the executor process.
 */
function dryRun(task: TaskInfo, env: NodeJS.ProcessEnv): void {
  const settings = loadConfig(env);
  try {
    const spec = taskInfoToContainerSpec(task, {
      forceCpuLimit: settings.forceCpuLimit, forceMemoryLimit: settings.forceMemoryLimit, useCpuShares: settings.useCpuShares,
      hostCpus: availableParallelism(), taskHost: env.TASK_HOST || hostname(), sidecarSeeds: undefined,
      shellCommandQuoting: settings.shellCommandQuoting,
    });
    for (const warning of spec.warnings) output.stderr.write(`warning: ${warning}\n`);
    output.stdout.write(`${JSON.stringify({ name: spec.name, body: redactedCreateBody(spec.body) }, null, 2)}\n`);
  } catch (err) {
    if (err instanceof TaskInvalidError) fail(`invalid task: ${err.message}`);
    throw err;
  }
}

function readTaskFile(path: string): TaskInfo {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (err) { fail(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`); }
  let task: unknown;
  try { task = JSON.parse(text); } catch (err) { fail(`${path} is not valid JSON: ${(err as Error).message}`); }
  const t = task as TaskInfo;
  if (!t || typeof t !== 'object' || typeof t.task_id?.value !== 'string' || t.task_id.value === '') {
    fail(`${path} is not a Mesos TaskInfo: it needs "task_id": {"value": "..."}`);
  }
  return t;
}

/**
 * The environment an agent would give the task's executor: ours, plus the ExecutorInfo command
 * environment (where per-task EXECUTOR_* settings live), which wins.
 */
function executorEnvironmentOf(task: TaskInfo): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const variable of (task.executor as ExecutorInfo | undefined)?.command?.environment?.variables ?? []) {
    if (typeof variable?.name === 'string' && typeof variable.value === 'string') env[variable.name] = variable.value;
  }
  return env;
}
