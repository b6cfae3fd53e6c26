// Runs the BUILT executor (dist/sidecar-executor.js) as a child process, the way the Mesos agent
// does, against the agent double and the real dockerd. Everything it prints is kept, so tests
// can assert on logs and grep for secrets.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MesosAgentDouble, type MesosAgentDoubleOptions } from '../doubles/mesos-agent';
import { dockerTaskInfo, type DockerTaskOptions } from '../doubles/task-fixtures';
import type { TaskStatus } from '../../src/mesos/types';
import { containerNameForTask } from '../../src/docker/container-name';

export const EXECUTOR = join(__dirname, '..', '..', '..', 'dist', 'sidecar-executor.js');
export const TEST_IMAGE = 'sidecar-executor-test:latest';

/**
 * What every e2e executor gets, as a site's executor environment would set it: the tasks'
 * commands are shell scripts with quoted arguments (`sh -c "trap ... TERM; ..."`), which the Go
 * original's split on single spaces would break; that default split has tests of its own.
 */
export const TEST_EXECUTOR_ENV: Readonly<Record<string, string>> = { EXECUTOR_SHELL_COMMAND_QUOTING: 'true' };

/** Fails loudly when there is no Docker: these tests never skip. */
export function requireDocker(): void {
  try {
    execFileSync('docker', ['image', 'inspect', TEST_IMAGE], { stdio: 'ignore' });
  } catch {
    throw new Error(`Docker with the image ${TEST_IMAGE} is required: run \`bash scripts/setup.sh\` (dockerd running, test image built)`);
  }
  if (!existsSync(EXECUTOR)) throw new Error(`${EXECUTOR} is missing: run \`npm run build\``);
}

/**
 * An agent host's layout under `dir`, as the wrapper script expects it: the built executor
 * installed at `installed` (SIDECAR_EXECUTOR_PATH) and an empty task sandbox (MESOS_SANDBOX).
 */
export function installForWrapper(dir: string): { installed: string; sandbox: string } {
  const installed = join(dir, 'opt', 'sidecar-executor');
  mkdirSync(dirname(installed), { recursive: true });
  copyFileSync(EXECUTOR, installed);
  chmodSync(installed, 0o755);
  const sandbox = join(dir, 'sandbox');
  mkdirSync(sandbox);
  return { installed, sandbox };
}

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function inspect(nameOrId: string): any {
  return JSON.parse(docker('inspect', nameOrId))[0];
}

export function uniqueTaskId(label: string): string {
  return `e2e-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export class ExecutorProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  signal: NodeJS.Signals | null = null;

  constructor(env: Record<string, string>, args: string[] = []) {
    // The file itself, as executor.sh runs it: its shebang carries the node flags.
    this.child = spawn(EXECUTOR, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...TEST_EXECUTOR_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => { this.stdout += d.toString(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => { this.signal = signal; resolve(code); }));
  }

  get output(): string { return this.stdout + this.stderr; }

  async waitForExit(timeoutMs = 30_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`executor did not exit within ${timeoutMs} ms\n--- stderr ---\n${this.stderr.slice(-4000)}`)), timeoutMs);
    });
    try { return await Promise.race([this.exited, timeout]); } finally { clearTimeout(timer); }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void { this.child.kill(signal); }
}

export interface Run {
  agent: MesosAgentDouble;
  executor: ExecutorProcess;
  taskId: string;
  containerName: string;
  /** States of the accepted updates, in order. */
  states(): string[];
  update(state: string, timeoutMs?: number): Promise<TaskStatus>;
  /** Stops everything and removes the task's containers. */
  cleanup(): Promise<void>;
}

export interface RunOptions {
  task?: Partial<DockerTaskOptions>;
  env?: Record<string, string>;
  agent?: MesosAgentDoubleOptions;
  /** Do not send the LAUNCH (tests that send their own). */
  noLaunch?: boolean;
  /** The docker CLI of the engine the task runs on, for cleanup; the main engine by default. */
  docker?: (...args: string[]) => string;
}

const running = new Set<Run>();

/** Starts an agent double and the executor, and launches one Docker task. */
export async function startRun(label: string, options: RunOptions = {}): Promise<Run> {
  requireDocker();
  const taskId = options.task?.taskId ?? uniqueTaskId(label);
  const agent = await MesosAgentDouble.start(options.agent);
  if (!options.noLaunch) {
    // The e2e.task label lets cleanup find the container whatever happened to the executor.
    const labels = { SidecarDiscover: 'false', ...options.task?.labels, 'e2e.task': taskId };
    agent.launch(dockerTaskInfo({ image: TEST_IMAGE, ...options.task, labels, taskId }));
  }
  const executor = new ExecutorProcess({ ...agent.executorEnvironment(), ...options.env });
  const run: Run = {
    agent, executor, taskId, containerName: containerNameForTask(taskId),
    states: () => agent.updates().filter((s) => s.task_id.value === taskId).map((s) => s.state),
    update: (state, timeoutMs = 20_000) => agent.waitForUpdate((s) => s.task_id.value === taskId && s.state === state, timeoutMs),
    cleanup: async () => {
      running.delete(run);
      executor.kill();
      await agent.stop().catch(() => undefined);
      removeTaskContainers(taskId, options.docker);
    },
  };
  running.add(run);
  return run;
}

/** Removes every container whose env carries this task's TASK_ID or whose name is the task's. */
export function removeTaskContainers(taskId: string, engine: (...args: string[]) => string = docker): void {
  const ids = engine('ps', '-aq', '--filter', `label=e2e.task=${taskId}`).split('\n').filter(Boolean);
  if (ids.length > 0) engine('rm', '-f', ...ids);
}

export async function cleanupAll(): Promise<void> {
  for (const run of [...running]) await run.cleanup();
}
