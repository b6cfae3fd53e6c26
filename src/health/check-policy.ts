// The verdict of a task's own health check (docs/health-checks.md) as a pure run-length counter,
// one step per check result, in the shape of Mesos's health checker
// (src/checks/health_checker.cpp):
//
// - Until the first passed check, a failure within grace_period_seconds of the start is ignored
//   (not counted, not reported): the service is still starting. A grace period of 0 ignores none.
//   Once a check has passed, the grace period no longer applies.
// - Each counted failure adds one; consecutive_failures of them in a row fail the task. A passed
//   check resets the count.
// - A check that could not be run for a reason that is not the task's (the Docker engine is
//   away) is not counted either way, as Mesos's checker discards its transient failures.
// - Reporting is on changes only: the first pass publishes healthy, the first counted failure
//   after that (or before any pass, once the grace period is over) publishes unhealthy, and
//   nothing is published while the verdict stays as it was. (Mesos's own executors repeat every
//   unhealthy verdict; a custom executor may choose, and the Sidecar verdicts beside these are
//   published the same way.)
//
// No clock, no I/O: the caller passes how long the checks have been running.

export interface CheckState {
  /** A check has passed: the grace period is over for good. */
  readonly passedOnce: boolean;
  /** Counted failures in a row. */
  readonly fails: number;
  /** The published verdict; undefined until the first counted result. */
  readonly healthy: boolean | undefined;
}

export const INITIAL_CHECK_STATE: CheckState = Object.freeze({ passedOnce: false, fails: 0, healthy: undefined });

export interface CheckLimits {
  readonly gracePeriodMs: number;
  /** The failures in a row that fail the task (0 behaves as 1, as in Mesos: `fails >= limit`). */
  readonly consecutiveFailures: number;
}

export interface CheckStep {
  readonly state: CheckState;
  /** 'ignored': a failure inside the grace period; 'unknown': the check could not be run. */
  readonly counted: 'passed' | 'failed' | 'ignored' | 'unknown';
  /** True when `state.healthy` differs from the verdict published before. */
  readonly healthChanged: boolean;
  /** True on the failure that makes consecutive_failures in a row: the task must fail. */
  readonly failTask: boolean;
}

/**
 * One check result's effect: `passed` is undefined when the check could not be run;
 * `sinceStartMs` is the time since checking began (TASK_RUNNING).
 */
export function stepCheck(prev: CheckState, passed: boolean | undefined, sinceStartMs: number, limits: CheckLimits): CheckStep {
  if (passed === undefined) return { state: prev, counted: 'unknown', healthChanged: false, failTask: false };
  if (passed) {
    const state: CheckState = { passedOnce: true, fails: 0, healthy: true };
    return { state, counted: 'passed', healthChanged: prev.healthy !== true, failTask: false };
  }
  if (!prev.passedOnce && limits.gracePeriodMs > 0 && sinceStartMs <= limits.gracePeriodMs) {
    return { state: prev, counted: 'ignored', healthChanged: false, failTask: false };
  }
  const fails = prev.fails + 1;
  const state: CheckState = { passedOnce: prev.passedOnce, fails, healthy: false };
  return { state, counted: 'failed', healthChanged: prev.healthy !== false, failTask: fails >= limits.consecutiveFailures };
}
