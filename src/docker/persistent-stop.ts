// Stops a container even when the Docker engine hangs (CONTRACT §12): each stop request is
// bounded, and one that fails or goes unanswered is retried with backoff until the engine
// answers, the container's exit is known, or the caller's deadline (a SHUTDOWN's grace period)
// passes. SIGKILL follows SIGTERM after the grace period counted from the first attempt: a retry
// asks only for what is left of it, so an engine that was stuck does not stretch a kill.
import type { Clock } from '../clock';
import type { Logger } from '../log/logger';
import { EngineError, type EngineApi } from './engine-api';

export type StopOutcome = 'stopped' | 'gone' | 'exited' | 'deadline';

export interface PersistentStopOptions {
  engine: Pick<EngineApi, 'stopContainer'>;
  containerId: string;
  clock: Clock;
  logger: Logger;
  /** Seconds between SIGTERM and SIGKILL. */
  graceSec: number;
  /** Clock time by which to give up, read at every attempt (a SHUTDOWN may set it later). */
  deadline(): number | undefined;
  /** Aborted once the container's exit is known: nothing left to stop. */
  exited: AbortSignal;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export async function stopPersistently(o: PersistentStopOptions): Promise<StopOutcome> {
  const { engine, containerId, clock, logger, exited } = o;
  const graceEnd = clock.now() + Math.max(0, o.graceSec) * 1000;
  for (let attempt = 0; ; attempt++) {
    if (exited.aborted) return 'exited';
    const now = clock.now();
    const deadline = o.deadline();
    if (deadline !== undefined && now >= deadline) return 'deadline';
    const timeoutSec = Math.max(0, Math.ceil((graceEnd - now) / 1000));
    try {
      await engine.stopContainer(containerId, timeoutSec, { timeoutMs: deadline === undefined ? undefined : deadline - now, signal: exited });
      return 'stopped';
    } catch (err) {
      if (exited.aborted) return 'exited';
      if (err instanceof EngineError && err.code === 'E_NO_SUCH_CONTAINER') return 'gone';
      logger.warn('Could not stop the container; retrying', { attempt: attempt + 1, error: (err as Error).message });
    }
    const delay = Math.min(o.retryMaxMs ?? 5000, (o.retryBaseMs ?? 500) * 2 ** attempt);
    const left = o.deadline();
    await clock.sleep(left === undefined ? delay : Math.min(delay, Math.max(0, left - clock.now())), exited);
  }
}
