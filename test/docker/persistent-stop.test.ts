// Stopping a container through an engine that hangs (CONTRACT §12): bounded requests, retried,
// within the caller's deadline, SIGKILL after the grace period counted from the first attempt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopPersistently, type StopOutcome } from '../../src/docker/persistent-stop';
import { memoryLogger } from '../../src/log/logger';
import { FakeClock, realTurn } from '../support/fake-clock';
import { FaultyEngine } from './fake-engine-faults';

function stopping(graceSec: number, deadline?: number) {
  const clock = new FakeClock();
  const engine = new FaultyEngine(clock);
  const logger = memoryLogger();
  const exited = new AbortController();
  let outcome: StopOutcome | undefined;
  const run = (): Promise<StopOutcome> => stopPersistently({ engine, containerId: 'c0ffee', clock, logger, graceSec, deadline: () => deadline, exited: exited.signal })
    .then((o) => (outcome = o));
  return { clock, engine, logger, exited, run, outcome: () => outcome };
}

test('an answering engine: one stop with the whole grace period', async () => {
  const s = stopping(5);
  assert.equal(await s.run(), 'stopped');
  assert.deepEqual(s.engine.calls.map((c) => c.call), ['stop t=5']);
});

test('a hung engine: each stop request ends at its bound and is retried, asking only for what is left of the grace', async () => {
  const s = stopping(20);
  s.engine.hung = true;
  const done = s.run();
  // The first request's bound is the grace plus 10 s; the next asks for no grace at all.
  await s.clock.advance(30_000);
  assert.equal(s.outcome(), undefined, 'no outcome while the engine hangs');
  await s.clock.advance(1000);
  s.engine.hung = false;
  assert.equal(await s.clock.run(done), 'stopped');
  const stops = s.engine.calls.map((c) => `${c.call} bound=${c.timeoutMs}`);
  assert.equal(stops[0], 'stop t=20 bound=30000');
  assert.equal(stops.at(-1), 'stop t=0 bound=10000');
  assert.ok(s.logger.lines.some((l) => l.includes('Could not stop the container; retrying') && l.includes('attempt=1')));
});

test('with a deadline each request is bounded by it, retried in between, and the outcome is "deadline" when it passes', async () => {
  const s = stopping(30, 9000);
  s.engine.hung = true;
  const done = s.run();
  const outcome = await s.clock.run(done);
  assert.equal(outcome, 'deadline');
  assert.equal(s.clock.now(), 9000);
  const stops = s.engine.calls.filter((c) => c.call.startsWith('stop'));
  assert.equal(stops[0]?.call, 'stop t=30');
  assert.equal(stops[0]?.timeoutMs, 9000, 'the first request is bounded by the deadline');
  assert.ok(s.logger.lines.some((l) => l.includes('Could not stop the container; retrying')));
});

test('an engine away for a while: retried with backoff, the grace counted from the first attempt', async () => {
  const s = stopping(5);
  s.engine.away = true;
  const done = s.run();
  await s.clock.advance(3500);
  const attempts = s.engine.calls.length;
  assert.ok(attempts >= 3 && attempts <= 4, `${attempts} attempts in 3.5 s`);
  s.engine.away = false;
  assert.equal(await s.clock.run(done), 'stopped');
  const last = s.engine.calls.at(-1)!;
  assert.ok(last.call === 'stop t=2' || last.call === 'stop t=1' || last.call === 'stop t=0', `the last stop asked for what was left: ${last.call}`);
});

test('the container exiting meanwhile, or gone, ends the stop', async () => {
  const s = stopping(5);
  s.engine.hung = true;
  const done = s.run();
  await realTurn();
  s.exited.abort();
  assert.equal(await s.clock.run(done), 'exited');

  const g = stopping(5);
  g.engine.forgotten = true;
  assert.equal(await g.run(), 'gone');
});
