// The executor's side of the agent connection (docs/status-updates.md, and apache/mesos
// docs/executor-http-api.md): subscribe, dispatch events, deliver status updates reliably.
// - An update is kept as unacknowledged from BEFORE its POST until the agent's ACKNOWLEDGED, and
//   rides along with every re-SUBSCRIBE, so a crash of the agent cannot lose it.
// - A failed POST (connection refused, 5xx) is retried with backoff, never dropped (better than
//   the Go original, which logged and moved on).
// - With checkpointing, a broken subscription is retried with backoff capped at
//   MESOS_SUBSCRIPTION_BACKOFF_MAX until MESOS_RECOVERY_TIMEOUT; without it, the agent is lost.
import type { Logger } from '../logging/logger';
import { AgentApi, AgentCallError, Subscription } from './agent-api';
import { Notifier } from './notifier';
import { ExecutorIds, subscribeCall, updateCall } from './status';
import type { AgentEvent, FrameworkInfo, KillPolicy, TaskInfo, TaskStatus, Update } from './types';

export interface DriverOptions {
  checkpoint: boolean;
  recoveryTimeoutMs: number;
  subscriptionBackoffMaxMs: number;
  updateRetryBaseMs?: number;
  updateRetryMaxMs?: number;
}

export interface DriverHandlers {
  subscribed(info: { frameworkInfo: FrameworkInfo | undefined; reconnect: boolean }): void;
  launch(task: TaskInfo): void;
  kill(taskId: string, killPolicy: KillPolicy | undefined): void;
  shutdown(): void;
  /** The agent is gone for good: checkpointing is off, or MESOS_RECOVERY_TIMEOUT passed. */
  agentLost(reason: string): void;
}

const uuidKey = (base64: string): string => Buffer.from(base64, 'base64').toString('hex');

export class ExecutorDriver {
  readonly #unackedUpdates = new Map<string, Update>();
  readonly #unackedTasks = new Map<string, TaskInfo>();
  /** Updates the agent has taken (202, or carried by a SUBSCRIBE it answered): no more POSTs. */
  readonly #delivered = new Set<string>();
  readonly #changed = new Notifier();
  /** Updates not yet taken by the agent, oldest first; only the head is being sent. */
  readonly #outbox: Update[] = [];
  #sending = false;
  #subscription: Subscription | undefined;
  #connected = false;
  #everSubscribed = false;
  #stopped = false;

  constructor(
    readonly api: AgentApi,
    readonly ids: ExecutorIds,
    readonly options: DriverOptions,
    readonly logger: Logger,
  ) {}

  get connected(): boolean { return this.#connected; }

  /** Runs the subscription until stop() or until the agent is lost. */
  async run(handlers: DriverHandlers): Promise<void> {
    let lostSince: number | undefined;
    let attempt = 0;
    while (!this.#stopped) {
      const carried = [...this.#unackedUpdates.keys()];
      const call = subscribeCall(this.ids, [...this.#unackedTasks.values()], [...this.#unackedUpdates.values()]);
      let subscribedThisTime = false;
      try {
        this.logger.debug('Subscribing to the agent', { unacknowledged_updates: carried.length, unacknowledged_tasks: this.#unackedTasks.size });
        this.#subscription = await this.api.subscribe(call, (event) => {
          if (event.type === 'SUBSCRIBED') {
            subscribedThisTime = true;
            for (const key of carried) this.#delivered.add(key);
          }
          this.#dispatch(event, handlers);
        });
        if (this.#stopped) this.#subscription.close();
        const why = await this.#subscription.closed;
        if (!this.#stopped) this.logger.warn('Disconnected from the agent', { error: why?.message ?? 'stream ended' });
      } catch (err) {
        if (!this.#stopped) this.logger.warn('Could not subscribe to the agent', { error: (err as Error).message });
      }
      this.#subscription = undefined;
      this.#connected = false;
      if (this.#stopped) return;
      if (!this.options.checkpoint) {
        handlers.agentLost(this.#everSubscribed
          ? 'the connection to the agent broke, and without checkpointing the executor does not reconnect'
          : 'could not subscribe to the agent');
        return;
      }
      if (subscribedThisTime || lostSince === undefined) { lostSince = Date.now(); attempt = 0; }
      const elapsed = Date.now() - lostSince;
      if (elapsed >= this.options.recoveryTimeoutMs) {
        handlers.agentLost(`could not re-subscribe to the agent within MESOS_RECOVERY_TIMEOUT (${this.options.recoveryTimeoutMs} ms)`);
        return;
      }
      attempt += 1;
      // Exponential from 100 ms with jitter, each interval capped at MESOS_SUBSCRIPTION_BACKOFF_MAX.
      const cap = Math.min(this.options.subscriptionBackoffMaxMs, 100 * 2 ** Math.min(attempt, 16));
      const delay = Math.min(cap * (0.5 + Math.random() * 0.5), this.options.recoveryTimeoutMs - elapsed);
      await this.#changed.wait(delay);
    }
  }

  /** Queues a status update; it is delivered (retried as needed) until acknowledged. */
  sendStatus(status: TaskStatus): void {
    const update: Update = { status };
    this.#unackedUpdates.set(uuidKey(status.uuid), update);
    this.#outbox.push(update);
    if (!this.#sending) void this.#sendLoop();
  }

  isAcknowledged(uuid: string): boolean {
    return !this.#unackedUpdates.has(uuidKey(uuid));
  }

  /** True once the agent acknowledged the update, false when timeoutMs passed first. */
  async waitForAcknowledgement(uuid: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isAcknowledged(uuid) && Date.now() < deadline && !this.#stopped) {
      await this.#changed.wait(deadline - Date.now());
    }
    return this.isAcknowledged(uuid);
  }

  stop(): void {
    this.#stopped = true;
    this.#subscription?.close();
    this.#changed.notify();
  }

  /**
   * Delivers queued updates one at a time, in order: a later update never overtakes one being
   * retried, or the scheduler would see a task go from RUNNING back to STARTING.
   */
  async #sendLoop(): Promise<void> {
    this.#sending = true;
    try {
      while (this.#outbox.length > 0 && !this.#stopped) {
        await this.#deliver(this.#outbox[0]);
        this.#outbox.shift();
      }
    } finally {
      this.#sending = false;
    }
  }

  async #deliver(update: Update): Promise<void> {
    const key = uuidKey(update.status.uuid);
    const base = this.options.updateRetryBaseMs ?? 250;
    const max = this.options.updateRetryMaxMs ?? 5000;
    let failures = 0;
    const pending = (): boolean => !this.#stopped && this.#unackedUpdates.has(key) && !this.#delivered.has(key);
    while (pending()) {
      if (!this.#connected) {
        // Not subscribed: the next SUBSCRIBE carries it (then it counts as delivered).
        await this.#changed.wait(max);
        continue;
      }
      try {
        await this.api.post(updateCall(this.ids, update.status));
        this.#delivered.add(key);
        this.logger.debug('Status update accepted by the agent', { state: update.status.state });
        return;
      } catch (err) {
        const e = err as AgentCallError;
        // 403 is what the agent answers while it does not (yet) know us as subscribed.
        const retryable = e.status === undefined || e.status >= 500 || e.status === 403;
        if (!retryable) {
          this.logger.error('The agent refused a status update; it will not accept it as it is', { state: update.status.state, error: e.message });
          this.#unackedUpdates.delete(key);
          this.#changed.notify();
          return;
        }
        failures += 1;
        this.logger.warn('Status update not delivered, retrying', { state: update.status.state, attempt: failures, error: e.message });
        await this.#changed.wait(Math.min(max, base * 2 ** (failures - 1)));
      }
    }
  }

  #dispatch(event: AgentEvent, handlers: DriverHandlers): void {
    switch (event.type) {
      case 'SUBSCRIBED': {
        const reconnect = this.#everSubscribed;
        this.#connected = true;
        this.#everSubscribed = true;
        this.logger.info(reconnect ? 'Re-subscribed to the agent' : 'Subscribed to the agent');
        this.#changed.notify();
        handlers.subscribed({ frameworkInfo: event.subscribed?.framework_info, reconnect });
        return;
      }
      case 'LAUNCH': {
        const task = event.launch?.task;
        if (!task?.task_id?.value) { this.logger.error('LAUNCH event without a task id; ignored'); return; }
        this.#unackedTasks.set(task.task_id.value, task);
        handlers.launch(task);
        return;
      }
      case 'KILL':
        if (!event.kill?.task_id?.value) { this.logger.error('KILL event without a task id; ignored'); return; }
        handlers.kill(event.kill.task_id.value, event.kill.kill_policy);
        return;
      case 'ACKNOWLEDGED': {
        const ack = event.acknowledged;
        if (!ack?.uuid) return;
        this.#unackedUpdates.delete(uuidKey(ack.uuid));
        // A task counts as acknowledged once any of its updates is (executor-http-api.md).
        if (ack.task_id?.value) this.#unackedTasks.delete(ack.task_id.value);
        this.logger.debug('Status update acknowledged', { task: ack.task_id?.value });
        this.#changed.notify();
        return;
      }
      case 'MESSAGE':
        this.logger.info('Message from the framework (ignored)', { bytes: Buffer.from(event.message?.data ?? '', 'base64').length });
        return;
      case 'SHUTDOWN':
        this.logger.info('The agent asked the executor to shut down');
        handlers.shutdown();
        return;
      case 'ERROR':
        // The docs recommend aborting the subscription and subscribing again.
        this.logger.error('The agent reported an error', { error: event.error?.message });
        this.#subscription?.close();
        return;
      case 'HEARTBEAT':
        this.logger.debug('Heartbeat from the agent');
        return;
      default:
        this.logger.warn('Ignoring an event of unknown type', { type: String((event as { type?: unknown }).type) });
    }
  }
}
