// The task's own health check loop (docs/health-checks.md), the kubelet prober's worker and Mesos's
// health checker in one: wait delay_seconds, then check, each check bounded by timeout_seconds,
// interval_seconds from the end of one check to the start of the next, so exactly one check is
// in flight at a time, however slow the probe. Each result goes to the pure policy
// (check-policy.ts); verdict changes and the verdict that fails the task are reported.
import { sleepLong, type Clock } from '../clock';
import type { Logger } from '../logging/logger';
import { INITIAL_CHECK_STATE, stepCheck, type CheckState } from './check-policy';
import type { CheckTiming } from './health-check-spec';

/**
 * What one check saw: `detail` completes a sentence after the probe's label ("answered 404").
 * `healthy` is undefined when the check could not be run for a reason that is not the task's.
 */
export interface ProbeOutcome { healthy: boolean | undefined; detail: string }

/** One kind of check (HTTP, TCP, COMMAND): the I/O, behind this interface. */
export interface HealthProbe {
  /** What is checked, for messages: `HTTP GET http://172.17.0.2:8080/health`. */
  readonly label: string;
  /** Runs one check; `signal` aborts it when its time is up or checking stops. */
  check(signal: AbortSignal): Promise<ProbeOutcome>;
}

export interface CheckCallbacks {
  /** The published verdict changed (the first counted result counts as a change). */
  onHealthChanged(healthy: boolean, detail: string): void;
  /** consecutive_failures in a row: fail the task. Called at most once; the monitor stops. */
  onUnhealthy(detail: string): void;
}

/** A timeout beyond setTimeout's limit (24.8 days) is no timeout. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export class HealthCheckMonitor {
  readonly #probe: HealthProbe;
  readonly #timing: CheckTiming;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #callbacks: CheckCallbacks;
  readonly #abort = new AbortController();
  #state: CheckState = INITIAL_CHECK_STATE;
  #started = false;
  #finished: Promise<void> = Promise.resolve();

  constructor(options: { probe: HealthProbe; timing: CheckTiming; clock: Clock; logger: Logger }, callbacks: CheckCallbacks) {
    this.#probe = options.probe;
    this.#timing = options.timing;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#callbacks = callbacks;
  }

  /** Starts checking; a second call, or a call after stop(), does nothing. */
  start(): void {
    if (this.#started || this.#abort.signal.aborted) return;
    this.#started = true;
    const { delayMs, intervalMs, timeoutMs, consecutiveFailures, gracePeriodMs } = this.#timing;
    this.#logger.info('Health checking the task', { check: this.#probe.label, delayMs, intervalMs, timeoutMs, consecutiveFailures, gracePeriodMs });
    this.#finished = this.#run().catch((err: unknown) => {
      // A bug in here must not take the executor down; the task keeps running unchecked.
      this.#logger.error('Health checking stopped on an unexpected error', { error: err instanceof Error ? err.message : String(err) });
    });
  }

  /** Stops at once, even mid-check; safe to call twice, or before start(). */
  stop(): void {
    this.#abort.abort();
  }

  /** Resolves when the loop has exited (at once when it never started). */
  get finished(): Promise<void> { return this.#finished; }

  get state(): CheckState { return this.#state; }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const startedAt = this.#clock.now();
    await sleepLong(this.#clock, this.#timing.delayMs, signal);
    while (!signal.aborted) {
      const outcome = await this.#checkOnce(signal);
      if (signal.aborted) return;
      if (this.#apply(outcome, this.#clock.now() - startedAt)) {
        this.#abort.abort();
        return;
      }
      await sleepLong(this.#clock, this.#timing.intervalMs, signal);
    }
  }

  /** One check, bounded by the timeout; a probe that throws has failed. */
  async #checkOnce(signal: AbortSignal): Promise<ProbeOutcome> {
    const bound = new AbortController();
    const stop = (): void => bound.abort();
    signal.addEventListener('abort', stop, { once: true });
    const checked = this.#probe.check(bound.signal).catch((err: unknown): ProbeOutcome => ({ healthy: false, detail: err instanceof Error ? err.message : String(err) }));
    const { timeoutMs } = this.#timing;
    try {
      if (timeoutMs >= MAX_TIMEOUT_MS) return await checked;
      const timedOut = this.#clock.sleep(timeoutMs, bound.signal).then((): ProbeOutcome => ({ healthy: false, detail: `did not finish within the ${timeoutMs / 1000} s timeout` }));
      return await Promise.race([checked, timedOut]);
    } finally {
      // Ends the probe's I/O (a check that outlasted its timeout) and the timeout's sleep.
      bound.abort();
      signal.removeEventListener('abort', stop);
    }
  }

  /** Feeds one result to the policy and reports; true when the task must be failed. */
  #apply(outcome: ProbeOutcome, sinceStartMs: number): boolean {
    const { consecutiveFailures, gracePeriodMs } = this.#timing;
    const step = stepCheck(this.#state, outcome.healthy, sinceStartMs, { consecutiveFailures, gracePeriodMs });
    this.#state = step.state;
    // A check command's output may carry the task's secrets; the detail leaves in status updates.
    const saw = this.#logger.scrub(`${this.#probe.label} ${outcome.detail}`);
    const limit = Math.max(1, consecutiveFailures);
    if (step.counted === 'unknown') {
      this.#logger.warn(`Health check not counted: ${saw}`);
    } else if (step.counted === 'ignored') {
      this.#logger.info(`Health check failed inside the grace period (ignored): ${saw}`, { grace_period_ms: gracePeriodMs });
    } else if (step.counted === 'failed') {
      this.#logger.warn(`Health check failed: ${saw}`, { fails: step.state.fails, consecutive_failures: consecutiveFailures });
    } else {
      this.#logger.debug(`Health check passed: ${saw}`);
    }
    if (step.healthChanged) {
      const detail = step.state.healthy
        ? `Health check passed: ${saw}`
        : `Health check failed (${step.state.fails} of ${limit} in a row): ${saw}`;
      this.#logger.info(`Health changed: ${step.state.healthy ? 'healthy' : 'unhealthy'}`, { check: this.#probe.label });
      this.#notify(() => this.#callbacks.onHealthChanged(step.state.healthy === true, detail));
    }
    if (!step.failTask) return false;
    const times = step.state.fails === 1 ? 'once' : `${step.state.fails} times in a row`;
    const detail = `Health check failed ${times} (consecutive_failures ${consecutiveFailures}): ${saw}`;
    this.#logger.error(detail);
    this.#notify(() => this.#callbacks.onUnhealthy(detail));
    return true;
  }

  #notify(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.#logger.error('Health check callback failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
