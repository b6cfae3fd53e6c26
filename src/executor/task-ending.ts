// The terminal update a task ends with (docs/status-updates.md), from how it ended and why it
// was stopped. Pure: one place for every combination, so a container that vanished while the
// executor stopped it for its health still says so.
import type { StatusFields } from '../mesos/status';
import type { TaskState } from '../mesos/types';
import { exitCodeToState, exitMessage } from './exit-status';

/** A stop the executor decided on itself: the task is failed whatever its exit code. */
export type StopCause =
  | { readonly kind: 'sidecar-unhealthy'; readonly detail: string }
  | { readonly kind: 'check-failed'; readonly detail: string }
  | { readonly kind: 'overdue'; readonly detail: string }
  | { readonly kind: 'aws-lease'; readonly detail: string };

export type TaskEnd =
  | { readonly kind: 'exited'; readonly code: number; readonly oomKilled: boolean; readonly memoryLimit: number | undefined }
  /** The engine no longer knows the container (removed behind the executor's back). */
  | { readonly kind: 'gone'; readonly container: string }
  /** Stopped during the launch; `unfinished` when a SHUTDOWN's grace period ended it. */
  | { readonly kind: 'not-started'; readonly unfinished: boolean };

/**
 * `stopReason`: why the executor stopped the container, for a stop it was asked for (KILL,
 * SHUTDOWN, a signal); `cause`: a stop it decided on itself, which wins.
 */
export function terminalStatus(end: TaskEnd, cause: StopCause | undefined, stopReason: string | undefined): [TaskState, StatusFields] {
  if (end.kind === 'not-started') {
    if (cause?.kind === 'overdue') return ['TASK_FAILED', { reason: 'REASON_MAX_COMPLETION_TIME_REACHED', message: `${cause.detail} before its container started` }];
    const unfinished = end.unfinished ? ': the launch did not finish within the shutdown grace period' : '';
    return ['TASK_KILLED', { message: `Task killed before its container started (${stopReason ?? 'SHUTDOWN'})${unfinished}` }];
  }
  const what = end.kind === 'gone'
    ? `container ${end.container} is gone: the Docker engine no longer knows it (removed, or its state was lost)`
    : exitMessage(end.code, undefined).toLowerCase();
  if (cause !== undefined) return failedFor(cause, what);
  if (end.kind === 'gone') {
    const base = what.charAt(0).toUpperCase() + what.slice(1);
    return stopReason === undefined ? ['TASK_FAILED', { message: base }] : ['TASK_KILLED', { message: `${base} while the executor stopped it (${stopReason})` }];
  }
  if (end.oomKilled) {
    const limit = end.memoryLimit ? `its memory limit (${Math.round(end.memoryLimit / 1048576)} MB)` : 'the memory available to it';
    return ['TASK_FAILED', { reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: `Container used more than ${limit} and was killed by the kernel; ${what}` }];
  }
  return [exitCodeToState(end.code), { message: exitMessage(end.code, stopReason) }];
}

function failedFor(cause: StopCause, what: string): [TaskState, StatusFields] {
  switch (cause.kind) {
    case 'sidecar-unhealthy': return ['TASK_FAILED', { healthy: false, message: `Sidecar found the service unhealthy (${cause.detail}); ${what}` }];
    case 'check-failed': return ['TASK_FAILED', { healthy: false, message: `${cause.detail}; ${what}` }];
    case 'overdue': return ['TASK_FAILED', { reason: 'REASON_MAX_COMPLETION_TIME_REACHED', message: `${cause.detail} and was killed; ${what}` }];
    case 'aws-lease': return ['TASK_FAILED', { message: `${cause.detail}; ${what}` }];
  }
}
