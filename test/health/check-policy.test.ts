import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_CHECK_STATE, stepCheck, type CheckState, type CheckStep } from '../../src/health/check-policy';

const LIMITS = { gracePeriodMs: 10_000, consecutiveFailures: 3 };

/** Steps through results given as [passed, ms since start]; returns every step. */
function run(results: [boolean | undefined, number][], limits = LIMITS): CheckStep[] {
  let state: CheckState = INITIAL_CHECK_STATE;
  return results.map(([passed, at]) => {
    const step = stepCheck(state, passed, at, limits);
    state = step.state;
    return step;
  });
}

describe('stepCheck', () => {
  it('a pass publishes healthy once; more passes change nothing', () => {
    const steps = run([[true, 0], [true, 10], [true, 20]]);
    assert.deepEqual(steps.map((s) => s.healthChanged), [true, false, false]);
    assert.deepEqual(steps.at(-1)!.state, { passedOnce: true, fails: 0, healthy: true });
  });

  it('failures inside the grace period, before any pass, are ignored: not counted, not published', () => {
    const steps = run([[false, 0], [false, 5000], [false, 10_000]]);
    assert.deepEqual(steps.map((s) => s.counted), ['ignored', 'ignored', 'ignored']);
    assert.deepEqual(steps.at(-1)!.state, INITIAL_CHECK_STATE);
    assert.ok(steps.every((s) => !s.healthChanged && !s.failTask));
  });

  it('after the grace period failures count, and the first one publishes unhealthy', () => {
    const steps = run([[false, 9000], [false, 10_001], [false, 20_000], [false, 30_000]]);
    assert.deepEqual(steps.map((s) => s.counted), ['ignored', 'failed', 'failed', 'failed']);
    assert.deepEqual(steps.map((s) => s.healthChanged), [false, true, false, false]);
    assert.deepEqual(steps.map((s) => s.failTask), [false, false, false, true]);
  });

  it('once a check has passed, the grace period no longer applies', () => {
    const steps = run([[true, 0], [false, 100], [false, 200], [false, 300]]);
    assert.deepEqual(steps.map((s) => s.counted), ['passed', 'failed', 'failed', 'failed']);
    assert.deepEqual(steps.map((s) => s.failTask), [false, false, false, true]);
    assert.deepEqual(steps.map((s) => s.healthChanged), [true, true, false, false]);
  });

  it('a pass resets the count: failures must be consecutive', () => {
    const steps = run([[true, 0], [false, 1], [false, 2], [true, 3], [false, 4], [false, 5], [false, 6]]);
    assert.deepEqual(steps.map((s) => s.state.fails), [0, 1, 2, 0, 1, 2, 3]);
    assert.deepEqual(steps.map((s) => s.failTask), [false, false, false, false, false, false, true]);
    assert.deepEqual(steps.map((s) => s.healthChanged), [true, true, false, true, true, false, false]);
  });

  it('a check that could not be run counts neither way: no change, no reset of the run', () => {
    const steps = run([[true, 0], [false, 1], [undefined, 2], [false, 3], [undefined, 4], [false, 5]]);
    assert.deepEqual(steps.map((s) => s.counted), ['passed', 'failed', 'unknown', 'failed', 'unknown', 'failed']);
    assert.deepEqual(steps.map((s) => s.state.fails), [0, 1, 1, 2, 2, 3]);
    assert.deepEqual(steps.map((s) => s.failTask), [false, false, false, false, false, true]);
    assert.equal(run([[undefined, 20_000]])[0]!.healthChanged, false);
  });

  it('a grace period of 0 ignores nothing', () => {
    const steps = run([[false, 0]], { gracePeriodMs: 0, consecutiveFailures: 2 });
    assert.equal(steps[0]!.counted, 'failed');
    assert.equal(steps[0]!.healthChanged, true);
  });

  it('consecutive_failures 1 (or 0, as Mesos: fails >= limit) fails the task on the first counted failure', () => {
    for (const consecutiveFailures of [0, 1]) {
      const [step] = run([[false, 0]], { gracePeriodMs: 0, consecutiveFailures });
      assert.equal(step!.failTask, true);
      assert.equal(step!.healthChanged, true);
    }
  });

  it('every sequence: the task fails exactly when the counted failures in a row reach the limit', () => {
    for (let bits = 0; bits < 1 << 8; bits++) {
      const results: [boolean, number][] = Array.from({ length: 8 }, (_, i) => [((bits >> i) & 1) === 1, 20_000 + i]);
      const steps = run(results);
      let inARow = 0;
      steps.forEach((step, i) => {
        inARow = results[i]![0] ? 0 : inARow + 1;
        assert.equal(step.failTask, inARow >= 3, `sequence ${bits.toString(2)} at ${i}`);
        assert.equal(step.state.fails, inARow);
      });
    }
  });
});
