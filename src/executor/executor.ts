// Wires the agent's events to the one task this executor runs (docs/status-updates.md): one task
// per executor, a second LAUNCH failed without touching the first, KILL/SHUTDOWN/signals stop the
// container, and after the terminal update the executor waits for its ACKNOWLEDGED and exits,
// instead of sleeping a fixed 2 s as the Go original did. With checkpointing the agent may be
// away (restarting) right when the container exits (docs/faults.md): the executor then stays,
// re-subscribing as the driver does, until the update is acknowledged or MESOS_RECOVERY_TIMEOUT
// passes; no fixed wait may drop the terminal update.
import type { Logger } from '../logging/logger';
import type { DriverHandlers, ExecutorDriver } from '../mesos/driver';
import { buildStatus, type StatusFields } from '../mesos/status';
import type { FrameworkInfo, KillPolicy, TaskInfo, TaskState } from '../mesos/types';
import type { KillRequest, TaskRunner } from './task-runner';

export interface ExecutorDeps {
  driver: ExecutorDriver;
  logger: Logger;
  createRunner(task: TaskInfo, executor: Executor): TaskRunner;
  shutdownGracePeriodMs: number;
  /** Without checkpointing: how long to wait for the terminal update's ACKNOWLEDGED. */
  ackTimeoutMs: number;
  /** MESOS_CHECKPOINT: the agent recovers, so the terminal update is worth waiting for. */
  checkpoint: boolean;
  /** MESOS_RECOVERY_TIMEOUT: with checkpointing, the longest wait for that ACKNOWLEDGED. */
  recoveryTimeoutMs: number;
  exit(code: number): void;
}

// Kept back from the SHUTDOWN grace period for the terminal update and its acknowledgement.
const SHUTDOWN_MARGIN_MS = 1000;

export class Executor {
  #runner: TaskRunner | undefined;
  #framework: FrameworkInfo | undefined;
  #finishing = false;
  readonly #deps: ExecutorDeps;

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
  }

  get runner(): TaskRunner | undefined { return this.#runner; }

  killingCapable(): boolean {
    return (this.#framework?.capabilities ?? []).some((c) => c.type === 'TASK_KILLING_STATE');
  }

  sendStatus(taskId: string, state: TaskState, fields?: StatusFields): string {
    const status = buildStatus(this.#deps.driver.ids, taskId, state, fields);
    this.#deps.driver.sendStatus(status);
    return status.uuid;
  }

  handlers(): DriverHandlers {
    return {
      subscribed: ({ frameworkInfo }) => { this.#framework = frameworkInfo ?? this.#framework; },
      launch: (task) => this.#launch(task),
      kill: (taskId, killPolicy) => this.#kill(taskId, killPolicy),
      shutdown: () => this.stopTask({ reason: 'SHUTDOWN from the agent', budgetMs: Math.max(1000, this.#deps.shutdownGracePeriodMs - SHUTDOWN_MARGIN_MS) }),
      agentLost: (reason) => void this.#agentLost(reason),
    };
  }

  /** SHUTDOWN, SIGTERM, SIGINT: stop the task (or exit at once when there is none). */
  stopTask(request: KillRequest): void {
    if (!this.#runner) {
      this.#deps.logger.info('No task to stop; exiting', { reason: request.reason });
      this.#deps.driver.stop();
      this.#deps.exit(0);
      return;
    }
    void this.#runner.kill(request);
  }

  #launch(task: TaskInfo): void {
    const taskId = task.task_id.value;
    if (this.#runner) {
      this.#deps.logger.error('Refusing a second task: this executor runs one task', { task: taskId, running: this.#runner.taskId });
      this.sendStatus(taskId, 'TASK_FAILED', {
        reason: 'REASON_TASK_INVALID',
        message: `This executor already runs task ${this.#runner.taskId} and runs only one task; launch ${taskId} with its own executor`,
      });
      return;
    }
    const runner = this.#deps.createRunner(task, this);
    this.#runner = runner;
    runner.run().then(
      (uuid) => this.#finish(uuid),
      (err: Error) => {
        // A bug, not bad input: report it as a failure rather than crash with the container up.
        this.#deps.logger.error('Unexpected error while running the task', { error: err.stack ?? err.message });
        void runner.stopNow().then(() => this.#finish(this.sendStatus(taskId, 'TASK_FAILED', { message: `Executor error: ${err.message}` })));
      },
    );
  }

  #kill(taskId: string, killPolicy: KillPolicy | undefined): void {
    if (!this.#runner || this.#runner.taskId !== taskId) {
      // Not ours: say so with a terminal update, as the agent does for tasks it does not know.
      this.#deps.logger.warn('KILL for a task this executor does not run', { task: taskId });
      this.sendStatus(taskId, 'TASK_LOST', { reason: 'REASON_TASK_UNKNOWN', message: `Task ${taskId} is not running in this executor` });
      return;
    }
    void this.#runner.kill({ reason: 'KILL from the scheduler', killPolicy });
  }

  async #finish(terminalUuid: string): Promise<void> {
    if (this.#finishing) return;
    this.#finishing = true;
    const { driver, logger, checkpoint } = this.#deps;
    const waitMs = checkpoint ? this.#deps.recoveryTimeoutMs : this.#deps.ackTimeoutMs;
    if (!driver.connected) logger.warn('The agent is away; waiting for it to acknowledge the terminal update', { checkpoint, timeout_ms: waitMs });
    // The log relay may still be reading the container's last output meanwhile (bounded).
    // The AwsRole credentials are revoked meanwhile too (bounded).
    const [acked] = await Promise.all([driver.waitForAcknowledgement(terminalUuid, waitMs), this.#runner?.finishRelay(), this.#runner?.releaseCredentials()]);
    if (!acked) logger.warn('The terminal update was not acknowledged in time; exiting anyway', { timeout_ms: waitMs });
    logger.info('Executor exiting');
    driver.stop();
    this.#deps.exit(0);
  }

  async #agentLost(reason: string): Promise<void> {
    if (this.#finishing) {
      this.#deps.logger.error(`Giving up on the agent: ${reason}; the terminal update was not acknowledged`);
      this.#deps.exit(1);
      return;
    }
    this.#deps.logger.error(`Giving up on the agent: ${reason}; stopping the task`);
    // No container outlives its executor.
    await this.#runner?.stopNow();
    this.#deps.exit(1);
  }
}
