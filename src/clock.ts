// Time as an injected dependency, so policy tests (health checks, backoff) run in milliseconds.
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  }),
};

/** setTimeout's limit: a longer timer fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** clock.sleep for any length (a task's max_completion_time may be months), in steps. */
export async function sleepLong(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  const due = clock.now() + ms;
  while (!signal?.aborted && clock.now() < due) await clock.sleep(Math.min(due - clock.now(), MAX_TIMER_MS), signal);
}
