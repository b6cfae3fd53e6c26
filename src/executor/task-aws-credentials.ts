// The task's AWS credentials (AwsRole, docs/vault-and-aws.md) across its life: got just before the
// container is created, the task stopped ahead of the lease's end (so the scheduler replaces it
// with fresh credentials), and given back when the task ends, whatever happened, within a bound
// so that a hung Vault cannot hold up the executor's exit. Only types come from the Vault side:
// that code loads when a task has an AwsRole (wire-services.ts).
import type { Clock } from '../clock';
import type { Logger } from '../logging/logger';
import type { AwsCredentialsGrant, TaskServices } from './task-services';

/** How long giving the credentials back may take when the task ends. */
export const AWS_RELEASE_MS = 10_000;
/** Timers are slept in steps: node's setTimeout fires at once past 2^31-1 ms (24.8 days). */
const MAX_SLEEP_MS = 86_400_000;

/** `NAME` of `NAME=value`; a bare `NAME` (Docker: from the daemon's env) is its own name. */
const nameOf = (entry: string): string => (entry.includes('=') ? entry.slice(0, entry.indexOf('=')) : entry);

export class TaskAwsCredentials {
  readonly #services: TaskServices;
  readonly #clock: Clock;
  readonly #log: Logger;
  #grant: Promise<AwsCredentialsGrant | undefined> | undefined;
  #released: Promise<void> | undefined;
  /** Aborted at release: the expiry timer must not stop a task that has already ended. */
  readonly #ended = new AbortController();

  constructor(services: TaskServices, clock: Clock, log: Logger) {
    this.#services = services;
    this.#clock = clock;
    this.#log = log;
  }

  /**
   * `env` with the credentials added, replacing variables of the same name the task set itself;
   * `env` unchanged without an AwsRole. `onExpiring` runs when the task must be stopped.
   */
  async addTo(env: string[], onExpiring: () => void): Promise<string[]> {
    if (this.#ended.signal.aborted) return env; // the task already ended: nothing to get
    this.#grant = this.#services.awsCredentials();
    const grant = await this.#grant;
    if (grant === undefined) return env;
    void this.#expireAt(grant.expiresAt, onExpiring);
    const names = new Set(grant.env.map(nameOf));
    const replaced = env.filter((entry) => names.has(nameOf(entry)));
    if (replaced.length > 0) this.#log.warn('The AwsRole credentials replace variables the task set itself', { variables: replaced.map(nameOf).join(',') });
    return [...env.filter((entry) => !names.has(nameOf(entry))), ...grant.env];
  }

  async #expireAt(at: number, onExpiring: () => void): Promise<void> {
    const signal = this.#ended.signal;
    while (!signal.aborted && this.#clock.now() < at) await this.#clock.sleep(Math.min(MAX_SLEEP_MS, at - this.#clock.now()), signal);
    if (!signal.aborted) onExpiring();
  }

  /**
   * Revokes what was granted (waiting for a grant still on its way), once. Resolves when done or
   * after `withinMs`, whichever comes first; never rejects.
   */
  release(withinMs: number): Promise<void> {
    this.#ended.abort();
    this.#released ??= (async () => {
      const grant = await this.#grant?.catch(() => undefined);
      await grant?.release();
    })();
    if (this.#grant === undefined) return this.#released;
    const bound = new AbortController();
    return Promise.race([this.#released, this.#clock.sleep(Math.max(0, withinMs), bound.signal)]).finally(() => bound.abort());
  }
}
