// The Sidecar health-check loop (docs/health-checks.md), the kubelet prober's worker: wait
// SidecarBackoff (the service needs time to start and pass Sidecar's own checks), then check every
// SidecarPollInterval, feeding each answer to the pure policy (health-policy.ts). It reports
// verdict changes and, once, the verdict that fails the task; it never kills on doubt.
//
// The interval is measured from the end of one check to the start of the next, as the Go
// original's looper does: a check slowed down by retries never overlaps the next one.
//
// (better) A restarted Sidecar answers UNHEALTHY for every service until its first health check
// has run (seen with the real Sidecar: 2 to 5 s; its checks run every 3 s). So once Sidecar comes
// back from being unreachable, a failed verdict within SIDECAR_SETTLE_MS counts as doubt, not as
// a failed check: a healthy task survives a Sidecar restart even at SidecarMaxFails=0, while a
// service that really is unhealthy is still failed by the checks after the window.
import type { Clock } from '../clock';
import type { Logger } from '../logging/logger';
import { INITIAL_HEALTH, isFailedStatus, stepHealth, type HealthState } from './health-policy';
import type { SidecarApi } from './sidecar-client';
import { serviceStatusIn, type ServiceLookup } from './sidecar-state';

/** How long after Sidecar comes back its failed verdicts are not trusted: two check rounds and margin. */
export const SIDECAR_SETTLE_MS = 10_000;

export interface SidecarHealthMonitorOptions {
  readonly client: Pick<SidecarApi, 'fetchState'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** TASK_HOST: the key of our host in Sidecar's state. */
  readonly hostname: string;
  /** The first 12 characters of the container id. */
  readonly serviceId: string;
  readonly backoffMs: number;
  readonly pollIntervalMs: number;
  readonly maxFails: number;
}

export interface SidecarHealthCallbacks {
  /** The published verdict changed (the first definite answer counts as a change). */
  onHealthChanged(healthy: boolean, detail: string): void;
  /** MaxFails+1 failed checks in a row: fail the task. Called at most once; the monitor stops. */
  onUnhealthy(detail: string): void;
}

export class SidecarHealthMonitor {
  readonly #options: SidecarHealthMonitorOptions;
  readonly #callbacks: SidecarHealthCallbacks;
  readonly #abort = new AbortController();
  #state: HealthState = INITIAL_HEALTH;
  /** The last fetch could not reach Sidecar: the next answer is from a Sidecar coming back. */
  #sidecarWasDown = false;
  /** When Sidecar answered again after being unreachable. */
  #backSince: number | undefined;
  #started = false;
  #finished: Promise<void> = Promise.resolve();

  constructor(options: SidecarHealthMonitorOptions, callbacks: SidecarHealthCallbacks) {
    this.#options = options;
    this.#callbacks = callbacks;
  }

  /** Starts the loop; a second call, or a call after stop(), does nothing. */
  start(): void {
    if (this.#started || this.#abort.signal.aborted) return;
    this.#started = true;
    const { logger, backoffMs, pollIntervalMs, maxFails, serviceId, hostname } = this.#options;
    logger.info('Monitoring service health in Sidecar', { service: serviceId, host: hostname, backoffMs, pollIntervalMs, maxFails });
    this.#finished = this.#run().catch((err: unknown) => {
      // A bug in here must not take the executor down with an unhandled rejection; the task
      // keeps running unmonitored, which is what "never kill on doubt" asks for.
      logger.error('Sidecar health monitor stopped on an unexpected error', { error: err instanceof Error ? err.message : String(err) });
    });
  }

  /** Stops at once, even mid-request or mid-retry; safe to call twice, or before start(). */
  stop(): void {
    this.#abort.abort();
  }

  /** Resolves when the loop has exited (at once when it never started). */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** The current policy state, for logs and tests. */
  get state(): HealthState {
    return this.#state;
  }

  async #run(): Promise<void> {
    const { clock, backoffMs, pollIntervalMs } = this.#options;
    const signal = this.#abort.signal;
    await clock.sleep(backoffMs, signal);
    while (!signal.aborted) {
      const check = await this.#check(signal);
      if (signal.aborted) return;
      if (this.#apply(check)) {
        this.#abort.abort();
        return;
      }
      await clock.sleep(pollIntervalMs, signal);
    }
  }

  async #check(signal: AbortSignal): Promise<ServiceLookup> {
    const { client, hostname, serviceId, clock } = this.#options;
    const fetched = await client.fetchState(signal);
    if (!fetched.ok) {
      if (fetched.unreachable) this.#sidecarWasDown = true;
      return { kind: 'unknown', why: `can't contact Sidecar (${fetched.why})` };
    }
    if (this.#sidecarWasDown || fetched.recovered) {
      this.#sidecarWasDown = false;
      this.#backSince = clock.now();
    }
    const lookup = serviceStatusIn(fetched.state, hostname, serviceId);
    const settling = this.#backSince === undefined ? 0 : SIDECAR_SETTLE_MS - (clock.now() - this.#backSince);
    if (lookup.kind === 'status' && isFailedStatus(lookup.name) && settling > 0) {
      return { kind: 'unknown', why: `Sidecar came back ${Math.round((SIDECAR_SETTLE_MS - settling) / 1000)} s ago and reports ${lookup.name} before its own checks have run` };
    }
    return lookup;
  }

  /** Feeds one check to the policy and reports; true when the task must be failed. */
  #apply(check: ServiceLookup): boolean {
    const { logger, maxFails, serviceId, hostname } = this.#options;
    const step = stepHealth(this.#state, check, maxFails);
    this.#state = step.state;
    const where = `service ${serviceId} on host ${hostname}`;

    if (check.kind === 'unknown') {
      logger.warn(`Sidecar health unknown: ${check.why}. Assuming healthy...`, { service: serviceId });
    } else if (step.counted === 'failed' && !step.failTask) {
      logger.warn(`Failed Sidecar health check (${check.name}), but below fail limit`, { service: serviceId, fails: step.failsInARow, maxFails });
    } else if (step.counted === 'healthy') {
      logger.debug(`Sidecar health check: ${check.name}`, { service: serviceId });
    }

    if (step.healthChanged && step.state.healthy !== undefined && check.kind === 'status') {
      const detail = `Sidecar reports ${where} as ${check.name}`;
      logger.info(`Health changed: ${step.state.healthy ? 'healthy' : 'unhealthy'}`, { service: serviceId, status: check.name });
      this.#notify(() => this.#callbacks.onHealthChanged(step.state.healthy === true, detail));
    }

    if (!step.failTask || check.kind !== 'status') return false;
    const detail = `Sidecar reports ${where} as ${check.name}: ${step.failsInARow} failed health checks in a row (SidecarMaxFails ${maxFails})`;
    logger.error(`Health failure count exceeded ${maxFails}`, { service: serviceId, status: check.name });
    this.#notify(() => this.#callbacks.onUnhealthy(detail));
    return true;
  }

  #notify(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.#options.logger.error('Sidecar health callback failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
