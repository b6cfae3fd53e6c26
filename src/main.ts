// Entry point: `sidecar-executor` (under a Mesos agent), `sidecar-executor local ...` (one task
// against the local Docker engine), `doctor`, `--help`, `--version`. User errors are one clear
// line and exit 1; bugs keep their stack.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail, loadConfig, loadDocker, logDocker, output, startupLog, VERSION } from './cli/startup';
import { loadMesosEnv, type MesosEnv } from './config/mesos-env';
import { SettingsError } from './config/settings';
import { startExecutor } from './executor/start-executor';
import { createLogger } from './logging/logger';
import { HttpAgentApi } from './mesos/agent-api';

const HELP = `sidecar-executor ${VERSION}: a Mesos executor that runs each task as one Docker container,
tied to Sidecar's health checks; a drop-in replacement for the Go sidecar-executor.

Usage:
  sidecar-executor                    run as a Mesos executor (the agent sets MESOS_* variables)
  sidecar-executor local [--verbose] <task.json>
                                      run one TaskInfo against the local Docker engine as an agent
                                      would, printing every status update and the container's
                                      output; Ctrl-C sends KILL
  sidecar-executor local --dry-run <task.json>
                                      print the Docker create body the task would get; create nothing
  sidecar-executor doctor             check this host with the executor's environment (Docker,
                                      registry credentials, Sidecar, Vault, syslog, settings):
                                      one line each, exit 1 when one fails
  sidecar-executor --help | --version

Settings are EXECUTOR_* environment variables (EXECUTOR_SIDECAR_POLL_INTERVAL=30s ...); see the README.
`;

/**
 * The operator's commands, from sidecar-executor-tools.js beside this file (a release installs
 * both; the wrapper copies both into the sandbox).
 */
function loadTools(): typeof import('./tools') {
  const here = realpathSync(__filename);
  const tools = join(dirname(here), 'sidecar-executor-tools.js');
  if (!existsSync(tools)) fail(`${tools} is missing: it comes with the executor (dist/ of a build, or the release) and holds this command`);
  // Not bundled: the path is computed, so the bundler leaves this require to node at run time.
  return require(tools) as typeof import('./tools');
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
  const executor = startExecutor({
    mesos, settings, docker, agent: new HttpAgentApi(mesos.agentEndpoint, mesos.authToken), logger, output,
    exit: (code) => process.exit(code),
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      // Go's names for them, in the Go original's words.
      logger.warn(`Received signal '${signal === 'SIGTERM' ? 'terminated' : 'interrupt'}', attempting clean shutdown`);
      executor.stopTask({ reason: `${signal} to the executor`, budgetMs: mesos.shutdownGracePeriodMs });
    });
  }
}

/**
 * The arguments that mean something to us. Dropped: blank padding (the wrapper scripts pass a
 * long blank argument to make room for the process title) and glog-style flags the Go wrapper
 * passes to the Go binary (`-logtostderr=true`, `-v=2`, `--log_dir=x`), so that replacing only
 * the binary under the Go wrapper works. `-v` alone is our --version. A command's own options
 * (`local --dry-run`) are its own.
 */
function meaningfulArguments(args: string[]): string[] {
  const nonBlank = args.filter((a) => a.trim() !== '');
  const commandAt = nonBlank.findIndex((a) => !isGlogFlag(a));
  return commandAt < 0 ? [] : nonBlank.slice(commandAt);
}

function isGlogFlag(arg: string): boolean {
  if (arg === '-v' || arg === '-h' || arg.startsWith('--help') || arg.startsWith('--version')) return false;
  return /^--?[A-Za-z][\w.-]*(=.*)?$/s.test(arg);
}

const [command, ...rest] = meaningfulArguments(process.argv.slice(2));
if (command === '--help' || command === '-h' || command === 'help') process.stdout.write(HELP);
else if (command === '--version' || command === '-v') process.stdout.write(`${VERSION}\n`);
else if (command === 'local') loadTools().runLocal(rest.filter((a) => a.trim() !== ''));
else if (command === 'doctor') void loadTools().runDoctor(process.env, output.stdout).then((code) => process.exit(code));
else if (command === undefined) executorMode();
else fail(`unknown command ${JSON.stringify(command)}; see --help`);
