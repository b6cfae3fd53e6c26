// One task's life as one container (CONTRACT §5): STARTING, launch (seeds, spec, Vault, pull,
// create, start), RUNNING, then the exit, noticed at once through the Engine API's wait, mapped
// to a terminal state. Kill, unhealthy verdicts and shutdown all end in the same place: the
// container stops, and the terminal update follows from its exit code.
import type { Clock } from '../clock';
import type { Settings } from '../config/settings';
import { taskInfoToContainerSpec, type ContainerSpec } from '../docker/container-spec';
import type { EngineApi, EngineError } from '../docker/engine-api';
import { TaskInvalidError } from '../docker/task-invalid-error';
import type { Logger } from '../log/logger';
import type { StatusFields } from '../mesos/status';
import type { KillPolicy, TaskInfo, TaskState } from '../mesos/types';
import { exitCodeToState, exitMessage, stopTimeoutSec } from './exit-status';
import { copyFailureLogs } from './failure-logs';
import { pullWithRetries } from './image-pull';
import type { LogRelay, Stoppable, TaskServices } from './task-services';

/**
 * How long the executor may stay, after the terminal update, for the log relay to reach the end
 * of the container's output: at ~130k lines/s (BENCHMARKS.md), 650k lines of a flood.
 */
export const RELAY_DRAIN_MS = 5000;

export interface TaskRunnerDeps {
  engine: EngineApi;
  services: TaskServices;
  settings: Settings;
  hostCpus: number;
  taskHost: string | undefined;
  logger: Logger;
  clock: Clock;
  /** Sends a status update for this task; returns its uuid. */
  sendStatus(state: TaskState, fields?: StatusFields): string;
  /** Whether the framework understands TASK_KILLING (its TASK_KILLING_STATE capability). */
  killingCapable(): boolean;
  setTitle(title: string): void;
  output: { stdout: { write(b: Buffer | string): unknown }; stderr: { write(b: Buffer | string): unknown } };
}

export interface KillRequest {
  /** Why, for the terminal message: "KILL from the scheduler", "SHUTDOWN from the agent"... */
  reason: string;
  killPolicy?: KillPolicy;
  /** Everything (drain and stop) must fit in this many ms: the SHUTDOWN grace period. */
  budgetMs?: number;
}

export class TaskRunner {
  readonly taskId: string;
  readonly #task: TaskInfo;
  readonly #deps: TaskRunnerDeps;
  #log: Logger;
  #spec: ContainerSpec | undefined;
  #containerId: string | undefined;
  #stopReason: string | undefined;
  #unhealthy: string | undefined;
  #exited = false;
  /** Aborted when the container exits: cuts short the waits that end with it (the drain). */
  readonly #exit = new AbortController();
  #terminalSent = false;
  #health: Stoppable | undefined;
  #relay: LogRelay | undefined;
  /** When a SHUTDOWN's budget runs out: the relay's drain must end by then too. */
  #deadline: number | undefined;

  constructor(task: TaskInfo, deps: TaskRunnerDeps) {
    this.#task = task;
    this.taskId = task.task_id.value;
    this.#deps = deps;
    this.#log = deps.logger.child({ task: this.taskId });
  }

  get containerId(): string | undefined { return this.#containerId; }

  /** Runs the task to its end; resolves with the terminal update's uuid. */
  async run(): Promise<string> {
    const { engine, services, settings } = this.#deps;
    this.#send('TASK_STARTING');
    try {
      const seeds = settings.seedSidecar ? await services.sidecarSeeds() : undefined;
      this.#spec = taskInfoToContainerSpec(this.#task, {
        forceCpuLimit: settings.forceCpuLimit, forceMemoryLimit: settings.forceMemoryLimit,
        useCpuShares: settings.useCpuShares, hostCpus: this.#deps.hostCpus,
        taskHost: this.#deps.taskHost, sidecarSeeds: seeds,
      });
    } catch (err) {
      if (err instanceof TaskInvalidError) return this.#terminal('TASK_FAILED', { reason: 'REASON_TASK_INVALID', message: `Invalid task: ${err.message}` });
      throw err;
    }
    const spec = this.#spec;
    for (const warning of spec.warnings) this.#log.warn(warning);
    this.#log.info('Launching container', { image: spec.image, name: spec.name });
    this.#log.info('Docker environment', { env: spec.body.Env.map((e) => e.split('=')[0]).join(',') });

    let step = 'Resolving Vault secrets';
    try {
      const env = await services.resolveSecrets(spec.body.Env);
      if (this.#stopReason) return this.#killedBeforeStart();
      step = `Pulling image ${spec.image}`;
      if (spec.forcePull || !(await engine.imageExists(spec.image))) {
        await pullWithRetries(engine, spec.image, services.registryAuth(), this.#log, this.#deps.clock);
      }
      if (this.#stopReason) return this.#killedBeforeStart();
      step = 'Creating the container';
      const id = await this.#create(spec, env);
      this.#containerId = id;
      step = 'Starting the container';
      try {
        await engine.startContainer(id);
      } catch (err) {
        // Nothing is left behind after a failed launch (CONTRACT §5).
        await engine.removeContainer(id).catch((e: Error) => this.#log.error('Could not remove the container that failed to start', { error: e.message }));
        this.#containerId = undefined;
        throw err;
      }
    } catch (err) {
      return this.#terminal('TASK_FAILED', { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: launchFailure(step, err as Error) });
    }
    return this.#supervise(this.#containerId, spec);
  }

  /**
   * Creates the container. Task ids are unique in Mesos, so a container already bearing the
   * name is a finished earlier run of the same task id (local mode re-runs, a retried launch):
   * an exited one is replaced, a running one is never touched.
   */
  async #create(spec: ContainerSpec, env: string[]): Promise<string> {
    const { engine } = this.#deps;
    try {
      return await engine.createContainer(spec.name, { ...spec.body, Env: env });
    } catch (err) {
      if ((err as EngineError).status !== 409) throw err;
      const existing = await engine.inspectContainer(spec.name);
      if (existing.running) throw new Error(`a container named ${spec.name} is already running for this task id`);
      this.#log.warn('Replacing the exited container of an earlier run of this task id', { name: spec.name });
      await engine.removeContainer(existing.id);
      return engine.createContainer(spec.name, { ...spec.body, Env: env });
    }
  }

  async #supervise(id: string, spec: ContainerSpec): Promise<string> {
    const { engine, services, settings } = this.#deps;
    const serviceId = id.slice(0, 12);
    this.#log = this.#log.child({ container: serviceId });
    const exit = engine.waitContainer(id).then((code) => code, (err: Error) => {
      this.#log.error('Could not read the container exit status', { error: err.message });
      return undefined;
    });
    this.#deps.setTitle(`sidecar-executor ${serviceId} (${spec.image})`);
    this.#send('TASK_RUNNING', { message: `Container ${serviceId} running` });
    this.#log.info('Container running');
    if (this.#stopReason) void this.#stop(stopTimeoutSec(undefined, settings.killTaskTimeoutSec));
    if (spec.sidecarDiscover) {
      this.#health = services.watchHealth(serviceId, {
        onHealthChanged: (healthy, detail) => {
          if (!this.#exited) this.#send('TASK_RUNNING', { healthy, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', message: detail });
        },
        onUnhealthy: (detail) => {
          this.#unhealthy = detail;
          this.#log.error('Sidecar found the service unhealthy; stopping the container', { detail });
          void this.#stop(settings.killTaskTimeoutSec);
        },
      });
    }
    this.#relay = services.startLogRelay(id, spec.labels);

    const code = await exit;
    this.#exited = true;
    this.#exit.abort();
    await this.#health?.stop();
    this.#log.info('Container exited', { status: code ?? 'unknown' });
    if (code !== 0) await copyFailureLogs(engine, id, settings.logsSinceMs, this.#deps.output, this.#log);
    if (this.#unhealthy) {
      return this.#terminal('TASK_FAILED', { message: `Sidecar found the service unhealthy (${this.#unhealthy}); ${exitMessage(code, undefined).toLowerCase()}` });
    }
    return this.#terminal(exitCodeToState(code), { message: exitMessage(code, this.#stopReason) });
  }

  /** KILL, SHUTDOWN or a signal: TASK_KILLING, drain in Sidecar, then stop (CONTRACT §5, §6). */
  async kill(request: KillRequest): Promise<void> {
    if (this.#terminalSent || this.#exited) return;
    const { settings, services } = this.#deps;
    const deadline = request.budgetMs === undefined ? undefined : this.#deps.clock.now() + request.budgetMs;
    this.#deadline ??= deadline;
    let timeoutSec = stopTimeoutSec(request.killPolicy?.grace_period?.nanoseconds ?? this.#task.kill_policy?.grace_period?.nanoseconds, settings.killTaskTimeoutSec);
    if (this.#stopReason) {
      // A second KILL may carry a shorter grace period to force the kill (executor.proto Kill).
      if (request.killPolicy && this.#containerId) await this.#stop(timeoutSec);
      return;
    }
    this.#stopReason = request.reason;
    this.#log.info('Stopping the task', { reason: request.reason });
    if (this.#deps.killingCapable()) this.#send('TASK_KILLING', { message: `Stopping: ${request.reason}` });
    const id = this.#containerId;
    if (!id) return; // the launch sees #stopReason and ends with TASK_KILLED
    this.#health?.stop();
    const drainMs = this.#spec?.sidecarDiscover ? settings.sidecarDrainingDurationMs : 0;
    if (drainMs > 0) {
      // Within a budget, draining may take half of it; the stop gets the rest.
      const drainBudget = deadline === undefined ? Infinity : (deadline - this.#deps.clock.now()) / 2;
      const started = this.#deps.clock.now();
      const accepted = await withTimeout(services.drain(id.slice(0, 12)), drainBudget, false);
      this.#log.info(accepted ? 'Draining in Sidecar' : 'Sidecar did not accept the drain; waiting anyway', { duration_ms: drainMs });
      const left = Math.min(drainMs, drainBudget) - (this.#deps.clock.now() - started);
      if (left > 0) await this.#deps.clock.sleep(left, this.#exit.signal);
    }
    if (deadline !== undefined) timeoutSec = Math.max(0, Math.min(timeoutSec, Math.floor((deadline - this.#deps.clock.now()) / 1000)));
    await this.#stop(timeoutSec);
  }

  /**
   * After the terminal update: lets the log relay reach the end of the container's output, then
   * stops it. Docker ends the follow stream once it has delivered all of an exited container's
   * output; one that printed a flood and exited leaves seconds of it unread, and each line is to
   * be relayed (CONTRACT §9). So the relay gets RELAY_DRAIN_MS, or what is left of a SHUTDOWN's
   * budget, without holding back the terminal update.
   */
  async finishRelay(): Promise<void> {
    const relay = this.#relay;
    if (!relay) return;
    const now = this.#deps.clock.now();
    const ms = Math.min(RELAY_DRAIN_MS, this.#deadline === undefined ? Infinity : this.#deadline - now);
    const ended = new AbortController();
    void relay.done.then(() => ended.abort());
    if (ms > 0) await this.#deps.clock.sleep(ms, ended.signal);
    await relay.stop();
  }

  /** Stops the container at once, for when the executor must exit (agent lost, crash). */
  async stopNow(): Promise<void> {
    this.#stopReason ??= 'the executor is exiting';
    if (this.#containerId && !this.#exited) await this.#stop(Math.min(this.#deps.settings.killTaskTimeoutSec, 2));
  }

  async #stop(timeoutSec: number): Promise<void> {
    const id = this.#containerId;
    if (!id || this.#exited) return;
    try {
      await this.#deps.engine.stopContainer(id, timeoutSec);
    } catch (err) {
      this.#log.error('Could not stop the container', { error: (err as Error).message });
    }
  }

  #killedBeforeStart(): string {
    return this.#terminal('TASK_KILLED', { message: `Task killed before its container started (${this.#stopReason})` });
  }

  #send(state: TaskState, fields?: StatusFields): string {
    this.#log.info('Sending status update', { state, message: fields?.message, healthy: fields?.healthy });
    return this.#deps.sendStatus(state, fields);
  }

  #terminal(state: TaskState, fields: StatusFields): string {
    this.#terminalSent = true;
    return this.#send(state, fields);
  }
}

/** "<step> failed: <why>", without repeating the step when the error already names it. */
function launchFailure(step: string, err: Error): string {
  const detail = err.message;
  if (!detail.toLowerCase().startsWith(`${step.toLowerCase()} failed`)) return `${step} failed: ${detail}`;
  return detail.charAt(0).toUpperCase() + detail.slice(1);
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  if (!Number.isFinite(ms)) return promise;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), Math.max(0, ms));
    promise.then((v) => { clearTimeout(timer); resolve(v); }, () => { clearTimeout(timer); resolve(fallback); });
  });
}
