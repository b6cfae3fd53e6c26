// Container exit code to terminal task state (docs/status-updates.md). Pure.
import type { TaskState } from '../mesos/types';

export function exitCodeToState(code: number | undefined): TaskState {
  if (code === 0) return 'TASK_FINISHED';
  // 128 + signal number: the process was killed by a signal (SIGTERM 143, SIGKILL 137).
  if (code !== undefined && code >= 129 && code <= 165) return 'TASK_KILLED';
  return 'TASK_FAILED';
}

export function exitMessage(code: number | undefined, stopReason: string | undefined): string {
  const base = code === undefined ? 'Container exit status could not be read' : `Container exited with status ${code}`;
  return stopReason ? `${base} after the executor stopped it (${stopReason})` : base;
}

/** Seconds for Docker's stop timeout from a kill_policy grace period, else KillTaskTimeout. */
export function stopTimeoutSec(gracePeriodNanos: number | string | undefined, killTaskTimeoutSec: number): number {
  if (gracePeriodNanos === undefined) return killTaskTimeoutSec;
  const ns = Number(gracePeriodNanos);
  if (!Number.isFinite(ns) || ns < 0) return killTaskTimeoutSec;
  return Math.ceil(ns / 1e9);
}

/** TaskInfo.max_completion_time in ms; undefined when unset or not positive (Mesos: `> 0`). */
export function maxCompletionMs(nanos: number | string | undefined): number | undefined {
  if (nanos === undefined) return undefined;
  const ns = Number(nanos);
  return Number.isFinite(ns) && ns > 0 ? ns / 1e6 : undefined;
}
