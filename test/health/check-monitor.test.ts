import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthCheckMonitor, type HealthProbe, type ProbeOutcome } from '../../src/health/check-monitor';
import type { CheckTiming } from '../../src/health/health-check-spec';
import { memoryLogger } from '../../src/logging/logger';
import { FakeClock } from '../support/fake-clock';

const TIMING: CheckTiming = { delayMs: 15_000, intervalMs: 10_000, timeoutMs: 20_000, consecutiveFailures: 3, gracePeriodMs: 10_000 };

type Answer = boolean | 'hang' | 'throw' | 'unknown' | { after: number; healthy: boolean };

/** A probe answering from a script (the last answer repeats), noting when each check started and ended. */
class ScriptedProbe implements HealthProbe {
  readonly label = 'TEST probe';
  readonly started: number[] = [];
  readonly ended: number[] = [];
  readonly aborted: number[] = [];
  inFlight = 0;
  mostInFlight = 0;
  constructor(private readonly clock: FakeClock, private readonly script: readonly Answer[]) {}

  async check(signal: AbortSignal): Promise<ProbeOutcome> {
    const answer = this.script[Math.min(this.started.length, this.script.length - 1)]!;
    this.started.push(this.clock.now());
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    signal.addEventListener('abort', () => this.aborted.push(this.clock.now()), { once: true });
    try {
      if (answer === 'throw') throw new Error('exploded');
      if (answer === 'unknown') return { healthy: undefined, detail: 'could not be run' };
      if (answer === 'hang') {
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        return { healthy: false, detail: 'abandoned' };
      }
      const [after, healthy] = typeof answer === 'object' ? [answer.after, answer.healthy] : [0, answer];
      if (after > 0) await this.clock.sleep(after, signal);
      return { healthy, detail: healthy ? 'passed' : 'failed' };
    } finally {
      this.inFlight -= 1;
      this.ended.push(this.clock.now());
    }
  }
}

function setup(script: readonly Answer[], timing: Partial<CheckTiming> = {}) {
  const clock = new FakeClock();
  const probe = new ScriptedProbe(clock, script);
  const changes: [boolean, string][] = [];
  const unhealthy: string[] = [];
  const logger = memoryLogger();
  const monitor = new HealthCheckMonitor({ probe, timing: { ...TIMING, ...timing }, clock, logger }, {
    onHealthChanged: (healthy, detail) => changes.push([healthy, detail]),
    onUnhealthy: (detail) => unhealthy.push(detail),
  });
  return { clock, probe, changes, unhealthy, monitor, logger };
}

describe('HealthCheckMonitor', () => {
  it('checks first after delay_seconds, then interval_seconds after each check ends', async () => {
    const t = setup([true, { after: 3000, healthy: true }, true]);
    t.monitor.start();
    await t.clock.advance(14_999);
    assert.deepEqual(t.probe.started, []);
    await t.clock.advance(1);
    assert.deepEqual(t.probe.started, [15_000]);
    await t.clock.advance(60_000);
    // The second check took 3 s: the third starts 10 s after it ended, not after it started.
    assert.deepEqual(t.probe.started.slice(0, 4), [15_000, 25_000, 38_000, 48_000]);
    assert.deepEqual(t.changes.map(([h]) => h), [true], 'healthy published once');
    assert.equal(t.changes[0]![1], 'Health check passed: TEST probe passed');
    t.monitor.stop();
    await t.monitor.finished;
  });

  it('a check that outlasts timeout_seconds fails, is aborted, and the next one waits for the interval: one in flight at a time', async () => {
    const t = setup(['hang'], { delayMs: 0, gracePeriodMs: 0, consecutiveFailures: 3 });
    t.monitor.start();
    await t.clock.advance(100_000);
    assert.deepEqual(t.probe.started, [0, 30_000, 60_000]);
    assert.deepEqual(t.probe.aborted, [20_000, 50_000, 80_000]);
    assert.equal(t.probe.mostInFlight, 1);
    assert.deepEqual(t.changes, [[false, 'Health check failed (1 of 3 in a row): TEST probe did not finish within the 20 s timeout']]);
    assert.deepEqual(t.unhealthy, ['Health check failed 3 times in a row (consecutive_failures 3): TEST probe did not finish within the 20 s timeout']);
    await t.monitor.finished;
  });

  it('failures inside the grace period (before any pass) are ignored; after it they count', async () => {
    const t = setup([false], { delayMs: 0, intervalMs: 1000, gracePeriodMs: 2500 });
    t.monitor.start();
    await t.clock.advance(2500);
    assert.equal(t.probe.started.length, 3);
    assert.equal(t.changes.length, 0);
    await t.clock.advance(500);
    assert.deepEqual(t.changes.map(([h]) => h), [false]);
    await t.clock.advance(2000);
    assert.equal(t.unhealthy.length, 1);
    assert.deepEqual(t.probe.started, [0, 1000, 2000, 3000, 4000, 5000]);
    assert.match(t.logger.lines.join('\n'), /inside the grace period \(ignored\)/);
  });

  it('consecutive_failures in a row fail the task once; then checking stops', async () => {
    const t = setup([true, false, false, true, false, false, false], { delayMs: 0, intervalMs: 1000 });
    t.monitor.start();
    await t.clock.advance(60_000);
    assert.equal(t.probe.started.length, 7);
    assert.deepEqual(t.changes.map(([h]) => h), [true, false, true, false], 'changes only');
    assert.equal(t.unhealthy.length, 1);
    await t.monitor.finished;
  });

  it('a check that could not be run is logged and not counted', async () => {
    const t = setup(['unknown'], { delayMs: 0, intervalMs: 1000, gracePeriodMs: 0, consecutiveFailures: 1 });
    t.monitor.start();
    await t.clock.advance(10_000);
    assert.equal(t.probe.started.length, 11);
    assert.equal(t.changes.length, 0);
    assert.equal(t.unhealthy.length, 0);
    assert.match(t.logger.lines.join('\n'), /Health check not counted: TEST probe could not be run/);
    t.monitor.stop();
  });

  it('a probe that throws has failed, with its error in the message', async () => {
    const t = setup(['throw'], { delayMs: 0, gracePeriodMs: 0, consecutiveFailures: 1 });
    t.monitor.start();
    await t.clock.advance(1);
    assert.deepEqual(t.unhealthy, ['Health check failed once (consecutive_failures 1): TEST probe exploded']);
  });

  it("the task's secrets never leave in a message", async () => {
    const t = setup(['throw'], { delayMs: 0, gracePeriodMs: 0, consecutiveFailures: 1 });
    t.logger.redact('exploded');
    t.monitor.start();
    await t.clock.advance(1);
    assert.deepEqual(t.unhealthy, ['Health check failed once (consecutive_failures 1): TEST probe [REDACTED]']);
  });

  it('stop() mid-check aborts it; nothing is reported after', async () => {
    const t = setup(['hang'], { delayMs: 0, gracePeriodMs: 0 });
    t.monitor.start();
    await t.clock.advance(5000);
    t.monitor.stop();
    await t.monitor.finished;
    assert.deepEqual(t.probe.aborted, [5000]);
    await t.clock.advance(100_000);
    assert.deepEqual(t.probe.started, [0]);
    assert.equal(t.changes.length, 0);
    assert.equal(t.clock.pending, 0);
  });

  it('no timeout (timeout_seconds 0) waits for the check however long it takes', async () => {
    const t = setup([{ after: 1_000_000, healthy: true }], { delayMs: 0, timeoutMs: Infinity });
    t.monitor.start();
    await t.clock.advance(1_000_000);
    assert.deepEqual(t.changes.map(([h]) => h), [true]);
    t.monitor.stop();
  });
});
