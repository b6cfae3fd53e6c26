import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_HEALTH, isFailedStatus, stepHealth, type HealthState, type HealthStep } from '../../src/sidecar/health-policy';
import { SIDECAR_STATUS_NAMES, type ServiceLookup, type SidecarStatusCode } from '../../src/sidecar/sidecar-state';

const status = (code: SidecarStatusCode): ServiceLookup => ({ kind: 'status', status: code, name: SIDECAR_STATUS_NAMES[code] });
const ALIVE = status(0), TOMBSTONE = status(1), UNHEALTHY = status(2), UNKNOWN = status(3), DRAINING = status(4);
const DOUBT: ServiceLookup = { kind: 'unknown', why: 'Sidecar unreachable' };
const ALL: readonly ServiceLookup[] = [ALIVE, TOMBSTONE, UNHEALTHY, UNKNOWN, DRAINING, DOUBT];

function run(checks: readonly ServiceLookup[], maxFails: number): HealthStep[] {
  let state: HealthState = INITIAL_HEALTH;
  return checks.map((check) => {
    const step = stepHealth(state, check, maxFails);
    state = step.state;
    return step;
  });
}

const isFail = (c: ServiceLookup): boolean => c.kind === 'status' && (c.name === 'UNHEALTHY' || c.name === 'TOMBSTONE');

/** Written independently of the implementation: the rule in docs/health-checks.md, directly. */
function reference(checks: readonly ServiceLookup[], maxFails: number): { failTask: boolean[]; healthy: (boolean | undefined)[]; changed: boolean[] } {
  const failTask: boolean[] = [];
  const healthy: (boolean | undefined)[] = [];
  const changed: boolean[] = [];
  let runLength = 0;
  let published: boolean | undefined;
  for (const c of checks) {
    if (isFail(c)) {
      runLength++;
      failTask.push(runLength === maxFails + 1);
      if (runLength === maxFails + 1) runLength = 0;
    } else {
      runLength = 0;
      failTask.push(false);
    }
    let verdict: boolean | undefined;
    if (c.kind === 'status' && (c.name === 'ALIVE' || c.name === 'DRAINING')) verdict = true;
    if (isFail(c)) verdict = false;
    changed.push(verdict !== undefined && verdict !== published);
    if (verdict !== undefined) published = verdict;
    healthy.push(published);
  }
  return { failTask, healthy, changed };
}

function* sequences(length: number): Generator<ServiceLookup[]> {
  if (length === 0) { yield []; return; }
  for (const rest of sequences(length - 1)) for (const c of ALL) yield [...rest, c];
}

describe('stepHealth', () => {
  it('counts only UNHEALTHY and TOMBSTONE as failed checks', () => {
    assert.deepEqual(SIDECAR_STATUS_NAMES.filter(isFailedStatus), ['TOMBSTONE', 'UNHEALTHY']);
    for (const check of ALL) {
      const step = stepHealth({ fails: 2, healthy: true }, check, 3);
      assert.equal(step.counted, isFail(check) ? 'failed' : check.kind === 'status' ? 'healthy' : 'doubt');
      assert.equal(step.state.fails, isFail(check) ? 3 : 0, 'a non-failure resets the counter');
    }
  });

  it('fails the task on exactly the MaxFails+1-th failure in a row (default MaxFails 3)', () => {
    const steps = run([UNHEALTHY, UNHEALTHY, TOMBSTONE, UNHEALTHY], 3);
    assert.deepEqual(steps.map((s) => s.failTask), [false, false, false, true]);
    assert.deepEqual(steps.map((s) => s.failsInARow), [1, 2, 3, 4]);
  });

  it('with MaxFails 0 the first failed check fails the task', () => {
    assert.equal(run([UNHEALTHY], 0)[0]?.failTask, true);
    assert.equal(run([TOMBSTONE], 0)[0]?.failTask, true);
  });

  it('a healthy answer or a doubt anywhere in the run starts it again', () => {
    for (const reset of [ALIVE, UNKNOWN, DRAINING, DOUBT]) {
      const steps = run([UNHEALTHY, UNHEALTHY, UNHEALTHY, reset, UNHEALTHY, UNHEALTHY, UNHEALTHY], 3);
      assert.ok(steps.every((s) => !s.failTask), `reset by ${JSON.stringify(reset)}`);
      assert.equal(steps.at(-1)?.state.fails, 3);
    }
  });

  it('flapping forever never fails the task', () => {
    const flapping = Array.from({ length: 400 }, (_, i) => (i % 4 === 3 ? ALIVE : UNHEALTHY));
    assert.ok(run(flapping, 3).every((s) => !s.failTask));
  });

  it('doubt alone never fails the task and never publishes a verdict', () => {
    const steps = run(Array.from({ length: 50 }, () => DOUBT), 0);
    assert.ok(steps.every((s) => !s.failTask && !s.healthChanged && s.state.healthy === undefined && s.counted === 'doubt'));
  });

  it('publishes the first definite verdict, then only flips', () => {
    const steps = run([DOUBT, UNKNOWN, ALIVE, ALIVE, DRAINING, UNHEALTHY, DOUBT, TOMBSTONE, UNKNOWN, ALIVE], 9);
    assert.deepEqual(steps.map((s) => s.healthChanged), [false, false, true, false, false, true, false, false, false, true]);
    assert.deepEqual(steps.map((s) => s.state.healthy), [undefined, undefined, true, true, true, false, false, false, false, true]);
  });

  it('resets the counter after failing the task, as the Go original does', () => {
    const steps = run([UNHEALTHY, UNHEALTHY, UNHEALTHY], 1);
    assert.deepEqual(steps.map((s) => s.failTask), [false, true, false]);
    assert.equal(steps[1]?.state.fails, 0);
  });

  it('does not mutate the state it is given', () => {
    const prev = Object.freeze({ fails: 1, healthy: true });
    stepHealth(prev, UNHEALTHY, 3);
    assert.deepEqual(prev, { fails: 1, healthy: true });
    assert.ok(Object.isFrozen(INITIAL_HEALTH));
  });

  it('agrees with the documented rule on every sequence of up to 6 checks, MaxFails 0 to 4', () => {
    let compared = 0;
    for (let maxFails = 0; maxFails <= 4; maxFails++) {
      for (let length = 1; length <= 6; length++) {
        for (const checks of sequences(length)) {
          const steps = run(checks, maxFails);
          const want = reference(checks, maxFails);
          for (let i = 0; i < checks.length; i++) {
            const step = steps[i]!;
            if (step.failTask !== want.failTask[i] || step.state.healthy !== want.healthy[i] || step.healthChanged !== want.changed[i]) {
              assert.fail(`maxFails ${maxFails}, checks ${JSON.stringify(checks.map((c) => (c.kind === 'status' ? c.name : 'doubt')))} differ at ${i}`);
            }
          }
          compared++;
        }
      }
    }
    assert.equal(compared, 5 * (6 + 36 + 216 + 1296 + 7776 + 46656));
  });
});
