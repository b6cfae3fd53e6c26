// Stopping a container through an engine that hangs (docs/faults.md): bounded requests, retried,
// within the caller's deadline, SIGKILL after the grace period counted from the first attempt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopPersistently, type StopOutcome } from '../../src/docker/persistent-stop';
import { memoryLogger } from '../../src/logging/logger';
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

test('a hung engine: each stop request ends at its bound and is retried with the whole grace period', async () => {
  const s = stopping(20);
  s.engine.hung = true;
  const done = s.run();
  // Each request's bound is the grace plus 10 s: the engine may never have sent the SIGTERM.
  await s.clock.advance(30_000);
  assert.equal(s.outcome(), undefined, 'no outcome while the engine hangs');
  await s.clock.advance(1000);
  s.engine.hung = false;
  assert.equal(await s.clock.run(done), 'stopped');
  const stops = s.engine.calls.map((c) => `${c.call} bound=${c.timeoutMs}`);
  assert.equal(stops[0], 'stop t=20 bound=30000');
  assert.equal(stops.at(-1), 'stop t=20 bound=30000');
  assert.ok(s.logger.lines.some((l) => l.includes('Stopping the container') && l.includes('timeout_s=20')));
  assert.ok(s.logger.lines.some((l) => l.includes('Could not stop the container; retrying') && l.includes('attempt=1')));
});

test('with a deadline: a hung engine gets one request bounded by it, then the outcome is "deadline", without a "retrying"', async () => {
  const s = stopping(30, 9000);
  s.engine.hung = true;
  assert.equal(await s.clock.run(s.run()), 'deadline');
  assert.equal(s.clock.now(), 9000);
  assert.deepEqual(s.engine.calls.map((c) => `${c.call} bound=${c.timeoutMs}`), ['stop t=8 bound=9000'], 'SIGKILL early enough for the engine to confirm in time');
  assert.ok(!s.logger.lines.some((l) => l.includes('retrying')));
});

test('with a deadline: an engine that refuses is retried, each attempt asking for less as the deadline nears', async () => {
  const s = stopping(30, 9000);
  s.engine.away = true;
  assert.equal(await s.clock.run(s.run()), 'deadline');
  const grace = s.engine.calls.map((c) => Number(c.call.slice('stop t='.length)));
  assert.ok(grace.length >= 4, `${grace.length} attempts`);
  assert.equal(grace[0], 8);
  assert.ok(grace.every((t, i) => i === 0 || t <= grace[i - 1]!), `grace asked: ${grace.join(', ')}`);
  assert.ok(s.engine.calls.every((c) => c.at + (c.timeoutMs ?? Infinity) <= 9000), 'no request outlives the deadline');
});

test('an engine away for a while: retried with backoff, each time with the whole grace period', async () => {
  const s = stopping(5);
  s.engine.away = true;
  const done = s.run();
  await s.clock.advance(3500);
  const attempts = s.engine.calls.length;
  assert.ok(attempts >= 3 && attempts <= 4, `${attempts} attempts in 3.5 s`);
  s.engine.away = false;
  assert.equal(await s.clock.run(done), 'stopped');
  assert.equal(s.engine.calls.at(-1)!.call, 'stop t=5');
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
