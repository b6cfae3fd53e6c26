// Stops a container even when the Docker engine hangs (docs/faults.md): each stop request is
// bounded, and one that fails or goes unanswered is retried with backoff until the engine
// answers, the container's exit is known, or the caller's deadline (a SHUTDOWN's grace period)
// passes. Each attempt asks for the whole grace period (capped by the deadline): an engine that
// was stuck, or restarted and lost the request, may never have sent the SIGTERM, and a service
// that is stopped deserves its grace period before the SIGKILL.
import type { Clock } from '../clock';
import type { Logger } from '../logging/logger';
import { EngineError, type EngineApi } from './engine-api';

export type StopOutcome = 'stopped' | 'gone' | 'exited' | 'deadline';

/** Kept back from a deadline for the SIGKILL and the engine's answer (~0.1 s measured). */
const KILL_CONFIRM_MS = 1000;

export interface PersistentStopOptions {
  engine: Pick<EngineApi, 'stopContainer'>;
  containerId: string;
  clock: Clock;
  logger: Logger;
  /** Seconds between SIGTERM and SIGKILL; less when a deadline comes first. */
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
  for (let attempt = 0; ; attempt++) {
    if (exited.aborted) return 'exited';
    const now = clock.now();
    const deadline = o.deadline();
    if (deadline !== undefined && now >= deadline) return 'deadline';
    // Within a deadline, SIGKILL comes early enough for the engine to confirm the exit in time.
    const timeoutSec = Math.max(0, deadline === undefined ? o.graceSec : Math.min(o.graceSec, Math.floor((deadline - now - KILL_CONFIRM_MS) / 1000)));
    if (attempt === 0) logger.info('Stopping the container', { timeout_s: timeoutSec });
    try {
      await engine.stopContainer(containerId, timeoutSec, { timeoutMs: deadline === undefined ? undefined : deadline - now, signal: exited });
      return 'stopped';
    } catch (err) {
      if (exited.aborted) return 'exited';
      if (err instanceof EngineError && err.code === 'E_NO_SUCH_CONTAINER') return 'gone';
      const last = o.deadline();
      if (last !== undefined && clock.now() >= last) return 'deadline';
      logger.warn('Could not stop the container; retrying', { attempt: attempt + 1, error: (err as Error).message });
    }
    const delay = Math.min(o.retryMaxMs ?? 5000, (o.retryBaseMs ?? 500) * 2 ** attempt);
    const left = o.deadline();
    await clock.sleep(left === undefined ? delay : Math.min(delay, Math.max(0, left - clock.now())), exited);
  }
}
