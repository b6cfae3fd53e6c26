// The exit watch through Docker engine restarts and hangs (docs/faults.md), on a fake engine and
// the fake clock: nothing here may claim an exit the engine has not confirmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitWatch, type ContainerExit } from '../../src/docker/exit-watch';
import { memoryLogger } from '../../src/logging/logger';
import { FakeClock, realTurn } from '../support/fake-clock';
import { FaultyEngine } from './fake-engine-faults';

const PROBE_MS = 30_000;

function watching() {
  const clock = new FakeClock();
  const engine = new FaultyEngine(clock);
  const logger = memoryLogger();
  const watch = new ExitWatch({ engine, containerId: 'c0ffee', clock, logger });
  let exit: ContainerExit | undefined;
  void watch.exit.then((e) => { exit = e; });
  const settled = async (): Promise<ContainerExit | undefined> => { await realTurn(); await realTurn(); return exit; };
  const waits = (): number => engine.calls.filter((c) => c.call === 'wait').length;
  return { clock, engine, logger, watch, settled, waits };
}

test('an exit is noticed at once through the wait, with the OOM flag from an inspection', async () => {
  const w = watching();
  await realTurn();
  w.engine.oomKilled = true;
  w.engine.exit(137);
  assert.deepEqual(await w.settled(), { kind: 'exited', code: 137, oomKilled: true });
  assert.equal(w.clock.now(), 0, 'no waiting on the clock');
});

test('live-restore restart: a broken wait is no exit; the watch re-attaches once the engine answers and sees the later exit', async () => {
  const w = watching();
  await realTurn();
  w.engine.away = true;
  w.engine.breakWaits();
  await w.clock.advance(20_000); // the engine is down for 20 s: inspections keep failing
  assert.equal(await w.settled(), undefined, 'no fate claimed while the engine is away');
  const probesWhileAway = w.engine.calls.filter((c) => c.call === 'inspect').length;
  assert.ok(probesWhileAway >= 5 && probesWhileAway <= 12, `${probesWhileAway} inspections in 20 s: backoff, not a spin`);
  assert.ok(w.engine.calls.filter((c) => c.call === 'inspect').every((c) => c.timeoutMs === 10_000), 'each inspection is bounded');
  w.engine.away = false;
  await w.clock.advance(5_000);
  assert.equal(w.waits(), 2, 'waiting again');
  assert.ok(w.logger.lines.some((l) => l.includes('Re-attached to the container')));
  assert.ok(w.logger.lines.some((l) => l.includes('answers again')));
  assert.equal(w.logger.lines.filter((l) => l.includes('does not answer')).length, 1, 'one warning per outage');
  w.engine.exit(7);
  assert.deepEqual(await w.settled(), { kind: 'exited', code: 7, oomKilled: false });
});

test('restart without live-restore: the engine stopped the container while away; its real status comes from the inspection', async () => {
  const w = watching();
  await realTurn();
  w.engine.away = true;
  w.engine.breakWaits();
  w.engine.running = false;
  w.engine.exitCode = 143;
  await w.clock.advance(3000);
  assert.equal(await w.settled(), undefined);
  w.engine.away = false;
  await w.clock.advance(5000);
  assert.deepEqual(await w.settled(), { kind: 'exited', code: 143, oomKilled: false });
});

test('docker rm -f: the wait answers 137 for a container being removed; that is gone, not an exit', async () => {
  const w = watching();
  await realTurn();
  w.engine.removing = true;
  w.engine.exit(137);
  assert.deepEqual(await w.settled(), { kind: 'gone', detail: 'it was removed (exit status 137)' });
});

test('a container the engine no longer knows is gone, whether the wait or an inspection finds out', async () => {
  const byWait = watching();
  await realTurn();
  byWait.engine.forgotten = true;
  byWait.engine.breakWaits();
  await byWait.clock.advance(1000);
  assert.equal((await byWait.settled())?.kind, 'gone');

  const byProbe = watching();
  await realTurn();
  byProbe.engine.forgotten = true;
  await byProbe.clock.advance(PROBE_MS);
  assert.equal((await byProbe.settled())?.kind, 'gone');
});

test('a hung engine: the wait stays, probes time out and say so once; an exit the wait missed is found by the next probe', async () => {
  const w = watching();
  await realTurn();
  w.engine.hung = true;
  await w.clock.advance(3 * (PROBE_MS + 10_000));
  assert.equal(await w.settled(), undefined);
  assert.equal(w.waits(), 1, 'the one wait is kept');
  assert.equal(w.logger.lines.filter((l) => l.includes('does not answer')).length, 1);
  w.engine.hung = false;
  w.engine.running = false; // it exited, and the engine never told the old wait
  w.engine.exitCode = 3;
  await w.clock.advance(PROBE_MS + 10_000);
  assert.deepEqual(await w.settled(), { kind: 'exited', code: 3, oomKilled: false });
  assert.ok(w.logger.lines.some((l) => l.includes('answers again')));
});

test('an engine that refuses every wait but says the container runs does not make the watch spin', async () => {
  const w = watching();
  await realTurn();
  w.engine.waitFailsWith = 500;
  w.engine.breakWaits();
  await w.clock.advance(60_000);
  assert.ok(w.waits() <= 16, `${w.waits()} waits in a minute`);
  assert.equal(await w.settled(), undefined);
  w.engine.waitFailsWith = undefined;
  await w.clock.advance(10_000);
  w.engine.exit(0);
  assert.deepEqual(await w.settled(), { kind: 'exited', code: 0, oomKilled: false });
});

test('stop() ends waiting and probing; exit never settles', async () => {
  const w = watching();
  await realTurn();
  w.watch.stop();
  await w.clock.advance(5 * PROBE_MS);
  w.engine.exit(0);
  assert.equal(await w.settled(), undefined);
  assert.equal(w.engine.calls.filter((c) => c.call === 'inspect').length, 0);
});
