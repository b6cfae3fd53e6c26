// Watches one container until it exits, through Docker engine restarts and hangs (docs/faults.md).
// The Engine API's wait notices an exit at once, but its connection breaks when
// dockerd restarts, and a break is not an exit: with live-restore the container runs on. So a
// broken wait is followed by inspections, retried with backoff until the engine answers: still
// running means wait again (re-attached); exited means the real exit code; unknown to the engine
// means the container is gone. Meanwhile the container is also inspected every probe interval,
// as the Go original polled: that notices an exit a lost wait would miss, and tells the operator
// when the engine stops answering. Nothing here claims a fate the engine has not confirmed.
import type { Clock } from '../clock';
import type { Logger } from '../logging/logger';
import { EngineError, type ContainerState, type EngineApi } from './engine-api';

export type ContainerExit =
  | { readonly kind: 'exited'; readonly code: number; readonly oomKilled: boolean }
  /** The engine answers but no longer knows the container (removed, or its state was lost). */
  | { readonly kind: 'gone'; readonly detail: string };

export interface ExitWatchOptions {
  engine: Pick<EngineApi, 'waitContainer' | 'inspectContainer'>;
  containerId: string;
  clock: Clock;
  logger: Logger;
  /** Between inspections while the wait is pending; the Go original polled every 30 s. */
  probeIntervalMs?: number;
  /** Bound on one inspection: longer, and the engine counts as not answering. */
  probeTimeoutMs?: number;
  /** First and largest delay between inspections while the engine is away. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

type Probe = ContainerExit | 'running' | 'unanswered';

export class ExitWatch {
  readonly exit: Promise<ContainerExit>;
  readonly #o: Required<ExitWatchOptions>;
  readonly #stopped = new AbortController();
  /** Since when the engine has not answered, for the log; undefined while it answers. */
  #awaySince: number | undefined;

  constructor(options: ExitWatchOptions) {
    this.#o = { probeIntervalMs: 30_000, probeTimeoutMs: 10_000, retryBaseMs: 250, retryMaxMs: 5_000, ...options };
    this.exit = this.#run();
  }

  /** True while the engine does not answer. */
  get engineAway(): boolean { return this.#awaySince !== undefined; }

  /** Stops waiting and probing (the executor is exiting); `exit` then never settles. */
  stop(): void { this.#stopped.abort(); }

  async #run(): Promise<ContainerExit> {
    const { clock, retryBaseMs, retryMaxMs } = this.#o;
    // Waits that broke in a row soon after they started: an engine that answers inspections but
    // refuses waits must not make this loop spin.
    let brokenInARow = 0;
    for (;;) {
      const started = clock.now();
      const waited = await this.#waitOnce();
      if (waited !== undefined) return waited;
      brokenInARow = clock.now() - started >= retryMaxMs ? 1 : brokenInARow + 1;
      // The wait broke: the engine restarted or went away. Re-attach once it answers.
      for (let attempt = brokenInARow - 1; ; attempt++) {
        await clock.sleep(Math.min(retryMaxMs, retryBaseMs * 2 ** attempt), this.#stopped.signal);
        if (this.#stopped.signal.aborted) return new Promise<never>(() => undefined);
        const probe = await this.#probe();
        if (probe === 'running') { this.#o.logger.info('Re-attached to the container: it is still running'); break; }
        if (probe !== 'unanswered') return probe;
      }
    }
  }

  /**
   * One wait, raced against the periodic probe. Resolves with the exit, or undefined when the
   * wait broke without one (a transport error or an engine error: both are retried).
   */
  async #waitOnce(): Promise<ContainerExit | undefined> {
    const { engine, containerId, clock } = this.#o;
    const done = new AbortController();
    const stopped = this.#stopped.signal;
    const onStop = (): void => done.abort();
    stopped.addEventListener('abort', onStop, { once: true });
    const waited = engine.waitContainer(containerId, { signal: done.signal }).then(
      (code): Promise<ContainerExit> => this.#afterWait(code),
      (err: unknown): ContainerExit | undefined => {
        if (err instanceof EngineError && err.code === 'E_NO_SUCH_CONTAINER') return gone(err);
        if (!done.signal.aborted) this.#o.logger.warn('Lost the wait on the container; re-attaching once the Docker engine answers', { error: (err as Error).message });
        return undefined;
      },
    );
    const probed = (async (): Promise<ContainerExit | undefined> => {
      for (;;) {
        await clock.sleep(this.#o.probeIntervalMs, done.signal);
        if (done.signal.aborted) return new Promise<never>(() => undefined);
        const probe = await this.#probe();
        if (probe !== 'running' && probe !== 'unanswered') return probe;
      }
    })();
    try {
      const outcome = await Promise.race([waited, probed]);
      if (stopped.aborted) return new Promise<never>(() => undefined);
      return outcome;
    } finally {
      done.abort();
      stopped.removeEventListener('abort', onStop);
    }
  }

  /** Inspects the container once, bounded; logs when the engine stops or starts answering. */
  async #probe(): Promise<Probe> {
    const { engine, containerId, clock, logger, probeTimeoutMs } = this.#o;
    let state: ContainerState;
    try {
      state = await engine.inspectContainer(containerId, { timeoutMs: probeTimeoutMs, signal: this.#stopped.signal });
    } catch (err) {
      if (err instanceof EngineError && err.code === 'E_NO_SUCH_CONTAINER') return gone(err);
      if (this.#awaySince === undefined) {
        this.#awaySince = clock.now();
        logger.warn('The Docker engine does not answer; the task keeps its state until it does', { error: (err as Error).message });
      }
      return 'unanswered';
    }
    if (this.#awaySince !== undefined) {
      logger.info('The Docker engine answers again', { away_ms: clock.now() - this.#awaySince });
      this.#awaySince = undefined;
    }
    if (state.removing) return { kind: 'gone', detail: `it is being removed (exit status ${state.exitCode})` };
    return state.running ? 'running' : { kind: 'exited', code: state.exitCode, oomKilled: state.oomKilled };
  }

  /**
   * After a wait, one bounded inspection: whether the kernel killed it for its memory limit, or
   * whether it is gone: `docker rm -f` kills the container first, so the wait answers 137 for a
   * container that is being removed.
   */
  async #afterWait(code: number): Promise<ContainerExit> {
    try {
      const state = await this.#o.engine.inspectContainer(this.#o.containerId, { timeoutMs: this.#o.probeTimeoutMs });
      if (state.removing) return { kind: 'gone', detail: `it was removed (exit status ${code})` };
      return { kind: 'exited', code, oomKilled: state.oomKilled };
    } catch (err) {
      if (err instanceof EngineError && err.code === 'E_NO_SUCH_CONTAINER') return { kind: 'gone', detail: `it was removed (exit status ${code})` };
      return { kind: 'exited', code, oomKilled: false };
    }
  }
}

function gone(err: Error): ContainerExit {
  return { kind: 'gone', detail: err.message };
}
