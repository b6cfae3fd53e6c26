// Entry point: `sidecar-executor` (under a Mesos agent), `sidecar-executor local <task.json>`,
// `--help`, `--version`. User errors are one clear line and exit 1; bugs keep their stack.
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { systemClock } from './clock';
import { loadMesosEnv, type MesosEnv } from './config/mesos-env';
import { SettingsError, loadSettings, type Settings } from './config/settings';
import { environmentLines, isSecretVariable, settingsLines } from './config/startup-log';
import { DockerEngineClient } from './docker/engine-client';
import { DockerEnvError, dockerConnectionFromEnv, type DockerConnection } from './docker/docker-host';
import { Executor } from './executor/executor';
import { TaskRunner } from './executor/task-runner';
import { createTaskServices } from './executor/wire-services';
import { ownerLabels } from './docker/owner-labels';
import { ownIdentity } from './executor/orphan-reaper';
import { LocalAgent } from './local/local-agent';
import { processOutput } from './log/fd-writer';
import { createLogger, type Logger } from './log/logger';
import { AgentApi, HttpAgentApi } from './mesos/agent-api';
import { ExecutorDriver } from './mesos/driver';
import type { ExecutorInfo, TaskInfo } from './mesos/types';

declare const __VERSION__: string;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : 'dev';

const HELP = `sidecar-executor ${VERSION}: a Mesos executor that runs each task as one Docker container,
tied to Sidecar's health checks; a drop-in replacement for the Go sidecar-executor.

Usage:
  sidecar-executor                    run as a Mesos executor (the agent sets MESOS_* variables)
  sidecar-executor local <task.json>  run one TaskInfo against the local Docker engine, printing
                                      every status update; Ctrl-C sends KILL
  sidecar-executor --help | --version

Settings are EXECUTOR_* environment variables (EXECUTOR_SIDECAR_POLL_INTERVAL=30s ...); see the README.
`;

const ACK_TIMEOUT_MS = 5000;
/** When an executor looks for orphaned containers, after starting. */
const REAPER_DELAY_MS = 5000;
/** A crash stops the container first, but never waits longer than this to exit. */
const CRASH_EXIT_MS = 15_000;
// Never process.stdout/stderr: a sandbox file on a full disk must not crash us (fd-writer.ts).
const output = processOutput();

function fail(message: string): never {
  process.stderr.write(`sidecar-executor: ${message}\n`);
  process.exit(1);
}

function startupLog(logger: Logger, settings: Settings, env: NodeJS.ProcessEnv): void {
  // VAULT_USERNAME is kept out of the log by name (environmentLines), not redacted: a common word
  // (`executor`, `mesos`) would blank out image names and ids in every line (as vault-client.ts).
  for (const name of Object.keys(env)) if (isSecretVariable(name) && name !== 'VAULT_USERNAME') logger.redact(env[name]);
  // The node flags bound memory (scripts/build.mjs): a run without them is worth spotting.
  logger.info('Starting Sidecar Executor', { version: VERSION, node: process.version, nodeFlags: process.execArgv.join(' ') });
  // The Go original's banners, word for word: operators grep for them.
  logger.info('Executor Config -----------------------');
  for (const line of settingsLines(settings)) logger.info(line);
  logger.info('Environment ---------------------------');
  for (const line of environmentLines(env)) logger.info(line);
  logger.info('---------------------------------------');
}

/** DOCKER_HOST and the TLS variables (CONTRACT §11); a bad value ends the executor with one line. */
function loadDocker(): DockerConnection {
  try {
    return dockerConnectionFromEnv(process.env);
  } catch (err) {
    if (err instanceof DockerEnvError) fail(err.message);
    throw err;
  }
}

function logDocker(logger: Logger, docker: DockerConnection): void {
  logger.info('Docker engine', docker.fields);
  for (const warning of docker.warnings) logger.warn(warning);
}

function run(mesos: MesosEnv, settings: Settings, docker: DockerConnection, agent: AgentApi, logger: Logger, exit: (code: number) => void): Executor {
  const engine = new DockerEngineClient(docker.target);
  const ids = { executorId: mesos.executorId, frameworkId: mesos.frameworkId };
  const driver = new ExecutorDriver(agent, ids, {
    checkpoint: mesos.checkpoint, recoveryTimeoutMs: mesos.recoveryTimeoutMs, subscriptionBackoffMaxMs: mesos.subscriptionBackoffMaxMs,
  }, logger);
  const services = createTaskServices({ settings, mesos, env: process.env, engine, logger, clock: systemClock, stdout: output.stdout });
  const me = ownIdentity();
  const executor: Executor = new Executor({
    driver, logger, shutdownGracePeriodMs: mesos.shutdownGracePeriodMs, ackTimeoutMs: ACK_TIMEOUT_MS, exit,
    checkpoint: mesos.checkpoint, recoveryTimeoutMs: mesos.recoveryTimeoutMs,
    createRunner: (task) => new TaskRunner(task, {
      engine, services, settings, hostCpus: availableParallelism(), taskHost: mesos.taskHost, logger, clock: systemClock,
      sendStatus: (state, fields) => executor.sendStatus(task.task_id.value, state, fields),
      killingCapable: () => executor.killingCapable(),
      setTitle: (title) => { process.title = title; },
      output,
      ownerLabels: me && ownerLabels(ids, me),
    }),
  });
  // A crash must not leave the container running (CONTRACT §5). Logging cannot throw (fd-writer),
  // and a second crash while stopping does not start another stop: no loop, bounded exit.
  let crashed = false;
  process.on('uncaughtException', (err) => {
    if (crashed) return;
    crashed = true;
    logger.error('Executor crashed', { error: err.stack ?? err.message });
    setTimeout(() => process.exit(1), CRASH_EXIT_MS).unref();
    void (executor.runner?.stopNow() ?? Promise.resolve()).finally(() => process.exit(1));
  });
  void driver.run(executor.handlers());
  // Containers of executors that died with their process group (CONTRACT §12), looked for once
  // the launch is over: not on its path, nor adding to its peak memory (BENCHMARKS.md).
  if (me) {
    setTimeout(() => {
      const { reapOrphans } = require('./executor/orphan-reaper') as typeof import('./executor/orphan-reaper');
      void reapOrphans({ engine, me, logger, killTaskTimeoutSec: settings.killTaskTimeoutSec });
    }, REAPER_DELAY_MS).unref();
  }
  return executor;
}

function loadConfig(env: NodeJS.ProcessEnv): Settings {
  try {
    return loadSettings(env, hostname());
  } catch (err) {
    if (err instanceof SettingsError) fail(err.message);
    throw err;
  }
}

function executorMode(): void {
  const settings = loadConfig(process.env);
  let mesos: MesosEnv;
  try { mesos = loadMesosEnv(process.env); } catch (err) {
    if (err instanceof SettingsError) fail(err.message);
    throw err;
  }
  const docker = loadDocker();
  // The Go original logs to stdout: operators' log shipping reads the sandbox's stdout file.
  const logger = createLogger({ sink: output.stdout, debug: settings.debug, format: settings.logFormat });
  logger.redact(mesos.authToken);
  startupLog(logger, settings, process.env);
  logDocker(logger, docker);
  const executor = run(mesos, settings, docker, new HttpAgentApi(mesos.agentEndpoint, mesos.authToken), logger, (code) => process.exit(code));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      // Go's names for them, in the Go original's words.
      logger.warn(`Received signal '${signal === 'SIGTERM' ? 'terminated' : 'interrupt'}', attempting clean shutdown`);
      executor.stopTask({ reason: `${signal} to the executor`, budgetMs: mesos.shutdownGracePeriodMs });
    });
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

function localMode(path: string | undefined): void {
  if (!path) fail('usage: sidecar-executor local <taskinfo.json>');
  const task = readTaskFile(path);
  const settings = loadConfig(executorEnvironmentOf(task));
  const mesos: MesosEnv = {
    agentEndpoint: 'local', frameworkId: 'local-framework', executorId: `local-executor-${task.task_id.value}`,
    directory: undefined, sandbox: undefined, checkpoint: false, recoveryTimeoutMs: 0, subscriptionBackoffMaxMs: 0,
    shutdownGracePeriodMs: 10_000, authToken: undefined, taskHost: process.env.TASK_HOST || hostname(),
  };
  const docker = loadDocker();
  const logger = createLogger({ sink: output.stderr, debug: settings.debug, format: settings.logFormat });
  startupLog(logger, settings, process.env);
  logDocker(logger, docker);
  const agent = new LocalAgent(task, (line) => output.stdout.write(line + '\n'));
  const exit = (): void => {
    const state = agent.lastTerminal?.state;
    process.exit(state === 'TASK_FINISHED' || state === 'TASK_KILLED' ? 0 : 1);
  };
  const executor = run(mesos, settings, docker, agent, logger, exit);
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
 * The arguments that mean something to us. Dropped: blank padding (the wrapper scripts pass a
 * long blank argument to make room for the process title) and glog-style flags the Go wrapper
 * passes to the Go binary (`-logtostderr=true`, `-v=2`, `--log_dir=x`), so that replacing only
 * the binary under the Go wrapper works. `-v` alone is our --version.
 */
function meaningfulArguments(args: string[]): string[] {
  return args.filter((a) => a.trim() !== '' && (a === '-v' || a === '-h' || a.startsWith('--help') || a.startsWith('--version') || !/^--?[A-Za-z][\w.-]*(=.*)?$/s.test(a)));
}

const [command, arg] = meaningfulArguments(process.argv.slice(2));
if (command === '--help' || command === '-h' || command === 'help') process.stdout.write(HELP);
else if (command === '--version' || command === '-v') process.stdout.write(`${VERSION}\n`);
else if (command === 'local') localMode(arg);
else if (command === undefined) executorMode();
else fail(`unknown command ${JSON.stringify(command)}; see --help`);
