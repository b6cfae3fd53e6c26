// One task's life as one container (docs/status-updates.md): STARTING, launch (seeds, spec, Vault,
// pull, create, start), RUNNING, then the exit, noticed at once through the Engine API's wait,
// mapped to a terminal state. Kill, unhealthy verdicts and shutdown all end in the same place: the
// container stops, and the terminal update follows from its exit code. A Docker engine that
// restarts or hangs (docs/faults.md) changes none of that: the exit watch re-attaches, stops are
// retried, and the only update sent without a confirmed exit is the one a SHUTDOWN's grace
// period forces, which says the engine did not answer.
import { sleepLong, type Clock } from '../clock';
import type { Settings } from '../config/settings';
import { taskInfoToContainerSpec, type ContainerSpec } from '../docker/container-spec';
import type { ContainerAddress, EngineApi } from '../docker/engine-api';
import { ExitWatch } from '../docker/exit-watch';
import { stopPersistently } from '../docker/persistent-stop';
import { TaskInvalidError } from '../docker/task-invalid-error';
import type { Logger } from '../logging/logger';
import type { StatusFields } from '../mesos/status';
import type { ContainerStatus, KillPolicy, TaskInfo, TaskState } from '../mesos/types';
import { createTaskContainer, startTaskContainer } from './container-launch';
import { containerStatusFor, inspectAddresses } from './container-status';
import { maxCompletionMs, stopTimeoutSec } from './exit-status';
import { copyFailureLogsWithin, type TaskOutput } from './failure-logs';
import { readLastWordsWithin } from './last-words';
import { logContainerSettings } from './launch-log';
import { AWS_RELEASE_MS, TaskAwsCredentials } from './task-aws-credentials';
import { terminalStatus, type StopCause, type TaskEnd } from './task-ending';
import type { LogRelay, NativeHealthCheck, Stoppable, TaskServices } from './task-services';

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
  output: TaskOutput;
  /** Owner labels put on the container, so an orphan can be found and stopped (orphan-reaper.ts). */
  ownerLabels?: Record<string, string>;
  /** Exit watch timing; the defaults suit production, tests shorten them. */
  exitWatch?: { probeIntervalMs?: number; probeTimeoutMs?: number };
}

/** How long stopping the container may take when the executor must exit (agent lost, crash). */
const STOP_NOW_MS = 10_000;
/** How long reading the container's last words for the terminal message may take. */
const LAST_WORDS_MS = 5000;

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
  /** Why the executor was asked to stop the container (KILL, SHUTDOWN, a signal). */
  #stopReason: string | undefined;
  /** The grace period asked for by a stop that came before the container ran. */
  #pendingStopSec: number | undefined;
  /** A stop the executor decided on itself (health, max_completion_time, the AWS lease). */
  #cause: StopCause | undefined;
  /** The AwsRole credentials (docs/vault-and-aws.md). */
  readonly #aws: TaskAwsCredentials;
  /** Aborted once the container's exit (or disappearance) is known: ends stops and the drain. */
  readonly #exit = new AbortController();
  #terminalUuid: string | undefined;
  #health: Stoppable | undefined;
  #relay: LogRelay | undefined;
  #watch: ExitWatch | undefined;
  /** When a SHUTDOWN's budget runs out: the stop, the relay's drain and the run end by then. */
  #deadline: number | undefined;
  #deadlinePassed!: () => void;
  readonly #deadlineReached = new Promise<void>((resolve) => { this.#deadlinePassed = resolve; });
  // ---- Native health checks, max_completion_time, addresses (docs/health-checks.md) ----
  #nativeCheck: NativeHealthCheck | undefined;
  #nativeHealth: Stoppable | undefined;
  /** The container's addresses, carried by every TASK_RUNNING update. */
  #containerStatus: ContainerStatus | undefined;

  constructor(task: TaskInfo, deps: TaskRunnerDeps) {
    this.#task = task;
    this.taskId = task.task_id.value;
    this.#deps = deps;
    this.#log = deps.logger.child({ task: this.taskId });
    this.#aws = new TaskAwsCredentials(deps.services, deps.clock, this.#log);
  }

  get containerId(): string | undefined { return this.#containerId; }

  /**
   * Runs the task to its end; resolves with the terminal update's uuid. A SHUTDOWN whose grace
   * period passes before the engine confirms the exit ends the run with an update that says so.
   */
  async run(): Promise<string> {
    const ended = await Promise.race([this.#lifecycle(), this.#deadlineReached.then(() => undefined)]);
    return ended ?? this.#terminalUuid ?? this.#engineDidNotAnswer();
  }

  async #lifecycle(): Promise<string> {
    const { engine, services, settings } = this.#deps;
    // The Go original's words: operators' searches and alerts look for them (README: Logs).
    this.#log.info(`Launching task ${this.#task.name ?? ''} with command '${this.#task.command?.value ?? ''}'`);
    this.#log.info(`Task ID ${this.taskId}`);
    this.#send('TASK_STARTING');
    this.#startCompletionTimer();
    try {
      const seeds = settings.seedSidecar ? await services.sidecarSeeds() : undefined;
      this.#spec = taskInfoToContainerSpec(this.#task, {
        forceCpuLimit: settings.forceCpuLimit, forceMemoryLimit: settings.forceMemoryLimit,
        useCpuShares: settings.useCpuShares, hostCpus: this.#deps.hostCpus,
        taskHost: this.#deps.taskHost, sidecarSeeds: seeds, shellCommandQuoting: settings.shellCommandQuoting,
      });
      this.#nativeCheck = services.nativeHealthCheck(this.#task);
    } catch (err) {
      if (err instanceof TaskInvalidError) return this.#terminal('TASK_FAILED', { reason: 'REASON_TASK_INVALID', message: `Invalid task: ${err.message}` });
      throw err;
    }
    const spec = this.#spec;
    for (const warning of spec.warnings) this.#log.warn(warning);
    this.#log.info(`Using image '${spec.image}'`, { name: spec.name });
    logContainerSettings(this.#log, this.#task, spec);

    const created = await createTaskContainer(spec, {
      engine, services, logger: this.#log, clock: this.#deps.clock, aws: this.#aws, awsRole: settings.awsRole,
      onAwsLeaseEnding: () => this.#stopForAwsLease(), ownerLabels: this.#deps.ownerLabels,
    }, () => this.#stopReason !== undefined);
    if (created.kind === 'stopped') return this.#killedBeforeStart();
    if (created.kind === 'failed') return this.#terminal('TASK_FAILED', { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: created.message });
    this.#containerId = created.id;
    if (this.#terminalUuid !== undefined) {
      // A SHUTDOWN's grace period ran out while the engine was creating it: never start it.
      await engine.removeContainer(created.id).catch((e: Error) => this.#log.error('Could not remove the container of a task that already ended', { error: e.message }));
      return this.#terminalUuid;
    }
    const started = await startTaskContainer(engine, created.id, this.#log);
    if (!started.ok) {
      this.#containerId = undefined;
      return this.#terminal('TASK_FAILED', { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: started.message });
    }
    return this.#supervise(created.id, spec);
  }

  async #supervise(id: string, spec: ContainerSpec): Promise<string> {
    const { engine, services, settings } = this.#deps;
    const serviceId = id.slice(0, 12);
    this.#log = this.#log.child({ container: serviceId });
    const watch = new ExitWatch({ engine, containerId: id, clock: this.#deps.clock, logger: this.#log, ...this.#deps.exitWatch });
    this.#watch = watch;
    this.#deps.setTitle(`sidecar-executor ${serviceId} (${spec.image})`);
    const addresses = await inspectAddresses(engine, id, spec.body.HostConfig.NetworkMode, this.#log);
    this.#containerStatus = containerStatusFor(this.#task, addresses);
    if (this.#stopReason !== undefined) {
      // Killed while it was being created or started: stopped at once, never reported running
      // (the scheduler already has TASK_KILLING).
      void this.#stop(this.#pendingStopSec ?? settings.killTaskTimeoutSec);
    } else {
      this.#send('TASK_RUNNING', { message: `Container ${serviceId} running` });
    }
    this.#log.info(`Monitoring Mesos task ${this.taskId} for container ${serviceId} [checkSidecar: ${spec.sidecarDiscover}]`);
    if (spec.sidecarDiscover && this.#stopReason === undefined) {
      this.#health = services.watchHealth(serviceId, {
        onHealthChanged: (healthy, detail) => {
          if (!this.#exit.signal.aborted) this.#send('TASK_RUNNING', { healthy, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', message: detail });
        },
        onUnhealthy: (detail) => {
          this.#cause ??= { kind: 'sidecar-unhealthy', detail };
          this.#log.error('Sidecar found the service unhealthy; stopping the container', { detail });
          void this.#stop(settings.killTaskTimeoutSec);
        },
      });
    }
    this.#watchNativeHealth(id, spec, addresses);
    this.#relay = services.startLogRelay(id, spec.labels, this.#log);
    this.#log.info('Launched Sidecar tasks... ready for Mesos instructions');

    const exit = await watch.exit;
    this.#exit.abort();
    await this.#health?.stop();
    this.#nativeHealth?.stop();
    if (exit.kind === 'gone') {
      this.#log.error('The container is gone: the Docker engine no longer knows it', { detail: exit.detail });
      void this.#relay?.stop();
      return this.#terminal(...terminalStatus({ kind: 'gone', container: serviceId }, this.#cause, this.#stopReason));
    }
    const code = exit.code;
    this.#log.info(`Container ${id} not running! - ExitCode: ${code}`, { oom_killed: exit.oomKilled || undefined });
    const { clock } = this.#deps;
    const left = (): number => (this.#deadline ?? Infinity) - clock.now();
    if (code !== 0) await copyFailureLogsWithin(engine, id, settings.logsSinceMs, this.#deps.output, this.#log, clock, left());
    const lastWords = code !== 0 ? await readLastWordsWithin(engine, id, Math.min(LAST_WORDS_MS, left()), clock, this.#log) : undefined;
    const end: TaskEnd = { kind: 'exited', code, oomKilled: exit.oomKilled, memoryLimit: spec.body.HostConfig.Memory };
    const [state, fields] = terminalStatus(end, this.#cause, this.#stopReason);
    if (lastWords !== undefined) fields.message = `${fields.message ?? ''}; its last output:\n${lastWords}`;
    if (state === 'TASK_FINISHED') this.#log.info(`Task completed: ${this.#task.name ?? this.taskId}`);
    else if (state === 'TASK_KILLED') this.#log.error('Task was killed, notifying Mesos');
    else this.#log.error('Task failed, notifying Mesos');
    return this.#terminal(state, fields);
  }

  /** KILL, SHUTDOWN or a signal: TASK_KILLING, drain in Sidecar, then stop (docs/status-updates.md). */
  async kill(request: KillRequest): Promise<void> {
    if (this.#terminalUuid !== undefined || this.#exit.signal.aborted) return;
    const { settings, services, clock } = this.#deps;
    if (request.budgetMs !== undefined) this.#setDeadline(clock.now() + request.budgetMs);
    const deadline = this.#deadline;
    const timeoutSec = stopTimeoutSec(request.killPolicy?.grace_period?.nanoseconds ?? this.#task.kill_policy?.grace_period?.nanoseconds, settings.killTaskTimeoutSec);
    if (this.#stopReason) {
      // A second KILL may carry a shorter grace period to force the kill (executor.proto Kill).
      if (request.killPolicy && this.#containerId) await this.#stop(timeoutSec);
      return;
    }
    this.#stopReason = request.reason;
    this.#log.info(`Killing task: ${this.taskId}`, { reason: request.reason });
    if (this.#deps.killingCapable()) this.#send('TASK_KILLING', { message: `Stopping: ${request.reason}` });
    const id = this.#containerId;
    if (!id) {
      // The launch sees #stopReason: before the create it ends with TASK_KILLED; after it, the
      // container is stopped with this grace period as soon as it runs.
      this.#pendingStopSec = timeoutSec;
      return;
    }
    this.#health?.stop();
    this.#nativeHealth?.stop();
    const drainMs = this.#spec?.sidecarDiscover ? settings.sidecarDrainingDurationMs : 0;
    if (drainMs > 0) {
      // Within a budget, draining may take half of it; the stop gets the rest.
      const drainBudget = deadline === undefined ? Infinity : (deadline - clock.now()) / 2;
      const started = clock.now();
      const accepted = await withTimeout(services.drain(id.slice(0, 12)), drainBudget, false);
      this.#log.info(accepted ? 'Draining in Sidecar' : 'Sidecar did not accept the drain; waiting anyway', { duration_ms: drainMs });
      const left = Math.min(drainMs, drainBudget) - (clock.now() - started);
      if (left > 0) await clock.sleep(left, this.#exit.signal);
    }
    await this.#stop(timeoutSec);
  }

  /**
   * After the terminal update: lets the log relay reach the end of the container's output, then
   * stops it. Docker ends the follow stream once it has delivered all of an exited container's
   * output; one that printed a flood and exited leaves seconds of it unread, and each line is to
   * be relayed (docs/log-relay.md). So the relay gets RELAY_DRAIN_MS, or what is left of a
   * SHUTDOWN's budget, without holding back the terminal update.
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
    const until = this.#deps.clock.now() + STOP_NOW_MS;
    await this.#stop(Math.min(this.#deps.settings.killTaskTimeoutSec, 2), () => Math.min(until, this.#deadline ?? Infinity));
    this.#watch?.stop();
    await this.releaseCredentials();
  }

  // ---- AwsRole credentials (docs/vault-and-aws.md)

  /** Revokes the AwsRole credentials, once, within AWS_RELEASE_MS or what is left of a SHUTDOWN's budget. */
  releaseCredentials(): Promise<void> {
    const left = this.#deadline === undefined ? Infinity : this.#deadline - this.#deps.clock.now();
    return this.#aws.release(Math.min(AWS_RELEASE_MS, left));
  }

  /** The lease nears its end: stopped as a KILL is (drained first), ending in TASK_FAILED. */
  #stopForAwsLease(): void {
    if (this.#stopReason !== undefined || this.#terminalUuid !== undefined || this.#exit.signal.aborted) return;
    const role = this.#deps.settings.awsRole;
    this.#cause ??= { kind: 'aws-lease', detail: `Stopped as its AWS credentials lease (role ${role}) nears its end, for the scheduler to replace it with fresh credentials` };
    this.#log.warn('The AWS credentials lease nears its end; stopping the task', { role });
    void this.kill({ reason: `the AWS credentials lease of role ${role} nears its end` });
  }

  async #stop(timeoutSec: number, deadline = (): number | undefined => this.#deadline): Promise<void> {
    const id = this.#containerId;
    if (!id || this.#exit.signal.aborted) return;
    const { engine, clock } = this.#deps;
    // A deadline that passes is reported once, by #engineDidNotAnswer, with the terminal update.
    await stopPersistently({ engine, containerId: id, clock, logger: this.#log, graceSec: timeoutSec, deadline, exited: this.#exit.signal });
  }

  /** The earliest deadline wins: a second SHUTDOWN cannot extend the first one's. */
  #setDeadline(at: number): void {
    if (this.#deadline !== undefined && this.#deadline <= at) return;
    this.#deadline = at;
    void this.#deps.clock.sleep(at - this.#deps.clock.now()).then(() => {
      if (this.#deadline === at) this.#deadlinePassed();
    });
  }

  /** The grace period of a SHUTDOWN passed before the engine confirmed the container's exit. */
  #engineDidNotAnswer(): string {
    this.#watch?.stop();
    void this.#relay?.stop();
    const reason = this.#stopReason ?? 'SHUTDOWN';
    const id = this.#containerId;
    if (id === undefined) return this.#terminal(...terminalStatus({ kind: 'not-started', unfinished: true }, this.#cause, this.#stopReason));
    this.#log.error('The shutdown grace period passed before the Docker engine confirmed the container stopped');
    return this.#terminal('TASK_FAILED', {
      message: `The Docker engine did not answer within the shutdown grace period: container ${id.slice(0, 12)} could not be confirmed stopped (${reason}) and may still be running`,
    });
  }

  #killedBeforeStart(): string {
    return this.#terminal(...terminalStatus({ kind: 'not-started', unfinished: false }, this.#cause, this.#stopReason));
  }

  // ---- Native health checks, max_completion_time, last words, addresses (docs/status-updates.md) ----

  /** The task's own health check, beside Sidecar's: either can fail the task, the first one does. */
  #watchNativeHealth(id: string, spec: ContainerSpec, addresses: ContainerAddress[]): void {
    if (this.#nativeCheck === undefined || this.#stopReason !== undefined) return;
    const stopped = (): boolean => this.#exit.signal.aborted || this.#stopReason !== undefined || this.#cause !== undefined;
    this.#nativeHealth = this.#nativeCheck.watch({ containerId: id, networkMode: spec.body.HostConfig.NetworkMode, addresses }, this.#log, {
      onHealthChanged: (healthy, detail) => {
        if (!stopped()) this.#send('TASK_RUNNING', { healthy, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', message: detail });
      },
      onUnhealthy: (detail) => {
        if (stopped()) return;
        this.#cause = { kind: 'check-failed', detail };
        this.#stopReason = 'its health check failed';
        this.#log.error('The health check failed; stopping the container', { detail });
        void this.#health?.stop();
        void this.#stop(stopTimeoutSec(this.#task.kill_policy?.grace_period?.nanoseconds, this.#deps.settings.killTaskTimeoutSec));
      },
    });
  }

  /**
   * max_completion_time runs from the launch; when it passes, the container is killed at once,
   * without TASK_KILLING or a grace period, as the Mesos Docker executor kills it. A task still
   * launching (pulling) ends at the launch's next step, before its container starts.
   */
  #startCompletionTimer(): void {
    const ms = maxCompletionMs(this.#task.max_completion_time?.nanoseconds);
    if (ms === undefined) return;
    void (async () => {
      await sleepLong(this.#deps.clock, ms, this.#exit.signal);
      if (this.#exit.signal.aborted || this.#terminalUuid !== undefined || this.#stopReason !== undefined || this.#cause !== undefined) return;
      const detail = `The task ran past its max_completion_time (${ms / 1000} s)`;
      this.#cause = { kind: 'overdue', detail };
      this.#stopReason = 'max_completion_time reached';
      this.#log.error(`${detail}; killing it`);
      this.#health?.stop();
      this.#nativeHealth?.stop();
      await this.#stop(0);
    })();
  }

  #send(state: TaskState, fields?: StatusFields): string {
    if (state === 'TASK_RUNNING' && this.#containerStatus) fields = { ...fields, containerStatus: this.#containerStatus };
    const uuid = this.#deps.sendStatus(state, fields);
    this.#log.info('Sending status update', { state, message: fields?.message, healthy: fields?.healthy, reason: fields?.reason, uuid });
    return uuid;
  }

  /** The one terminal update of the task; a later call returns the first one's uuid. */
  #terminal(state: TaskState, fields: StatusFields): string {
    this.#terminalUuid ??= this.#send(state, fields);
    return this.#terminalUuid;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  if (!Number.isFinite(ms)) return promise;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), Math.max(0, ms));
    promise.then((v) => { clearTimeout(timer); resolve(v); }, () => { clearTimeout(timer); resolve(fallback); });
  });
}
