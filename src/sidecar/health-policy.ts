// The Sidecar health verdict as a pure run-length counter (docs/health-checks.md), the kubelet
// prober's failure-threshold shape: one step per check, no clock, no I/O, so every sequence of
// checks can be tested exhaustively.
//
// Killing (as the Go original's sidecarStatus): only UNHEALTHY or TOMBSTONE count as
// a failed check; anything else (ALIVE, DRAINING, Sidecar's own UNKNOWN) and every doubt
// (Sidecar unreachable, unparsable, our host or service missing) count as healthy and reset the
// counter. A check that fails while the counter already equals maxFails fails the task: that is
// maxFails+1 failed checks in a row. Without the reset on doubt a Sidecar outage in the middle of
// a bad patch would carry stale failures across it; without the strict run, a flapping service
// would be shot for failures spread over hours.
//
// Reporting (the `healthy` field of status updates; our choice, docs/health-checks.md):
// the published verdict follows the latest check in which Sidecar gave a definite answer about
// our service. ALIVE or DRAINING means healthy; UNHEALTHY or TOMBSTONE means unhealthy. Sidecar's
// own UNKNOWN status (it has not finished checking yet) and every doubt leave the verdict as it
// was: we neither claim health we have not seen nor report sickness because Sidecar is down. The
// first definite answer is a change (from "not yet known"), so a healthy task is reported healthy
// once; after that only real flips are published, as the kubelet's results cache does.
import type { ServiceLookup, SidecarStatusName } from './sidecar-state';

export interface HealthState {
  /** Failed checks in a row so far. */
  readonly fails: number;
  /** The published verdict; undefined until Sidecar has given a definite answer. */
  readonly healthy: boolean | undefined;
}

export const INITIAL_HEALTH: HealthState = Object.freeze({ fails: 0, healthy: undefined });

/** How one check was counted: a failure, a healthy answer, or a doubt (counted as healthy). */
export type CheckCount = 'failed' | 'healthy' | 'doubt';

export interface HealthStep {
  readonly state: HealthState;
  readonly counted: CheckCount;
  /** Failed checks in a row including this one (0 unless this check failed). */
  readonly failsInARow: number;
  /** True on the maxFails+1-th failed check in a row: the task must be failed. */
  readonly failTask: boolean;
  /** True when `state.healthy` differs from the previous published verdict. */
  readonly healthChanged: boolean;
}

const FAILED: ReadonlySet<SidecarStatusName> = new Set<SidecarStatusName>(['UNHEALTHY', 'TOMBSTONE']);
const DEFINITELY_HEALTHY: ReadonlySet<SidecarStatusName> = new Set<SidecarStatusName>(['ALIVE', 'DRAINING']);

/** True for the statuses that count as a failed check. */
export function isFailedStatus(name: SidecarStatusName): boolean {
  return FAILED.has(name);
}

/** The published verdict a check implies, or undefined when it leaves the verdict unchanged. */
function verdictOf(check: ServiceLookup): boolean | undefined {
  if (check.kind !== 'status') return undefined;
  if (FAILED.has(check.name)) return false;
  return DEFINITELY_HEALTHY.has(check.name) ? true : undefined;
}

/** One check's effect on the health state; `maxFails` is SidecarMaxFails (0 or more). */
export function stepHealth(prev: HealthState, check: ServiceLookup, maxFails: number): HealthStep {
  const verdict = verdictOf(check);
  const healthy = verdict ?? prev.healthy;
  const healthChanged = verdict !== undefined && verdict !== prev.healthy;

  if (check.kind === 'status' && FAILED.has(check.name)) {
    const failsInARow = prev.fails + 1;
    const failTask = prev.fails >= maxFails;
    // After the verdict the counter starts again from zero, as in the Go original; the monitor
    // stops at that point anyway, so this only matters to a caller that keeps stepping.
    return { state: { fails: failTask ? 0 : failsInARow, healthy }, counted: 'failed', failsInARow, failTask, healthChanged };
  }
  return {
    state: { fails: 0, healthy },
    counted: check.kind === 'status' ? 'healthy' : 'doubt',
    failsInARow: 0,
    failTask: false,
    healthChanged,
  };
}
