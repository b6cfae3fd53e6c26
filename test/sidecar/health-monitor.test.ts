import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { memoryLogger } from '../../src/logging/logger';
import { SIDECAR_SETTLE_MS, SidecarHealthMonitor } from '../../src/sidecar/health-monitor';
import { SidecarClient, type FetchStateResult, type SidecarApi } from '../../src/sidecar/sidecar-client';
import { SidecarDouble, UNHEALTHY } from '../doubles/sidecar';
import { FakeClock } from '../support/fake-clock';

const HOST = 'agent-1.example.com';
const ID = 'deadbeef0123';
const BACKOFF = 60_000;
const POLL = 30_000;

type Answer = number | 'down' | 'http-500' | 'recovered-unhealthy' | 'no-host' | 'no-service' | 'garbage';

function answer(a: Answer): FetchStateResult {
  if (a === 'down') return { ok: false, why: 'Sidecar unreachable: ECONNREFUSED', unreachable: true };
  if (a === 'http-500') return { ok: false, why: 'Sidecar answered HTTP 500' };
  if (a === 'recovered-unhealthy') return { ok: true, recovered: true, state: { Servers: { [HOST]: { Name: HOST, Services: { [ID]: { ID, Status: UNHEALTHY } } } } } };
  if (a === 'garbage') return { ok: true, state: ['not', 'sidecar'] };
  if (a === 'no-host') return { ok: true, state: { Servers: { 'elsewhere': { Services: {} } } } };
  if (a === 'no-service') return { ok: true, state: { Servers: { [HOST]: { Services: {} } } } };
  return { ok: true, state: { Servers: { [HOST]: { Name: HOST, Services: { [ID]: { ID, Status: a } } } } } };
}

/** A Sidecar that answers from a script (the last answer repeats), noting when it was asked. */
class ScriptedSidecar implements Pick<SidecarApi, 'fetchState'> {
  readonly askedAt: number[] = [];
  constructor(private readonly clock: FakeClock, private readonly script: readonly Answer[]) {}
  async fetchState(): Promise<FetchStateResult> {
    this.askedAt.push(this.clock.now());
    const a = this.script[Math.min(this.askedAt.length - 1, this.script.length - 1)];
    return answer(a ?? 0);
  }
}

function setup(script: readonly Answer[], maxFails = 3, poll = POLL) {
  const clock = new FakeClock();
  const sidecar = new ScriptedSidecar(clock, script);
  const logger = memoryLogger();
  const changes: [boolean, string][] = [];
  const unhealthy: string[] = [];
  const monitor = new SidecarHealthMonitor(
    { client: sidecar, clock, logger, hostname: HOST, serviceId: ID, backoffMs: BACKOFF, pollIntervalMs: poll, maxFails },
    { onHealthChanged: (h, d) => changes.push([h, d]), onUnhealthy: (d) => unhealthy.push(d) },
  );
  /** Lets `n` checks happen: the backoff, then n-1 poll intervals. */
  const checks = async (n: number): Promise<void> => {
    const target = BACKOFF + (n - 1) * poll;
    await clock.advance(target - clock.now());
  };
  return { clock, sidecar, logger, changes, unhealthy, monitor, checks };
}

async function within<T>(promise: Promise<T>, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms); });
  try { return await Promise.race([promise, timeout]); } finally { clearTimeout(timer); }
}

describe('SidecarHealthMonitor', () => {
  it('checks first after SidecarBackoff, then every SidecarPollInterval; a healthy task keeps running', async () => {
    const t = setup([0]);
    t.monitor.start();
    await t.clock.advance(BACKOFF - 1);
    assert.deepEqual(t.sidecar.askedAt, []);
    await t.clock.advance(1);
    assert.deepEqual(t.sidecar.askedAt, [BACKOFF]);
    await t.clock.advance(POLL);
    assert.deepEqual(t.sidecar.askedAt, [BACKOFF, BACKOFF + POLL]);
    await t.checks(200);
    assert.equal(t.sidecar.askedAt.length, 200);
    assert.deepEqual(t.unhealthy, []);
    assert.deepEqual(t.changes.map(([h]) => h), [true], 'healthy published once');
    assert.match(t.changes[0]![1], /deadbeef0123 on host agent-1.example.com as ALIVE/);
    t.monitor.stop();
    await within(t.monitor.finished);
  });

  it('fails the task on exactly MaxFails+1 failed checks in a row, once, then stops', async () => {
    const t = setup([UNHEALTHY], 3);
    t.monitor.start();
    await t.checks(3);
    assert.equal(t.sidecar.askedAt.length, 3);
    assert.deepEqual(t.unhealthy, []);
    await t.checks(4);
    assert.equal(t.unhealthy.length, 1);
    assert.match(t.unhealthy[0]!, /UNHEALTHY: 4 failed health checks in a row \(SidecarMaxFails 3\)/);
    await within(t.monitor.finished);
    await t.clock.advance(10 * POLL);
    assert.equal(t.sidecar.askedAt.length, 4, 'no check after the verdict');
    assert.equal(t.clock.pending, 0);
    assert.ok(t.logger.lines.some((l) => l.includes('Health failure count exceeded 3')));
  });

  it('counts TOMBSTONE as a failure too, and MaxFails 0 fails on the first', async () => {
    const t = setup([1], 0);
    t.monitor.start();
    await t.checks(1);
    assert.equal(t.unhealthy.length, 1);
    assert.match(t.unhealthy[0]!, /TOMBSTONE/);
    assert.deepEqual(t.changes.map(([h]) => h), [false], 'the unhealthy verdict is published before the failure');
  });

  it('a flapping service is never failed', async () => {
    const script: Answer[] = [];
    for (let i = 0; i < 50; i++) script.push(UNHEALTHY, UNHEALTHY, UNHEALTHY, 0);
    const t = setup(script, 3);
    t.monitor.start();
    await t.checks(script.length);
    assert.equal(t.sidecar.askedAt.length, 200);
    assert.deepEqual(t.unhealthy, []);
    assert.equal(t.changes.length, 100, 'each flip published');
    t.monitor.stop();
  });

  it('doubt never fails the task and is logged as a warning', async () => {
    const doubts: Answer[] = ['down', 'no-host', 'no-service', 'garbage'];
    const script: Answer[] = [];
    for (let i = 0; i < 20; i++) script.push(UNHEALTHY, UNHEALTHY, UNHEALTHY, doubts[i % doubts.length]!);
    const t = setup(script, 3);
    t.monitor.start();
    await t.checks(script.length);
    assert.deepEqual(t.unhealthy, []);
    const warnings = t.logger.lines.filter((l) => l.includes('level=warning') && l.includes('Assuming healthy'));
    // 20 doubts, and the UNHEALTHY right after each of the 5 outages: Sidecar was just back.
    assert.equal(warnings.length, 25);
    assert.ok(warnings.some((l) => l.includes('ECONNREFUSED')));
    assert.ok(warnings.some((l) => l.includes('host') && l.includes('not found')));
    t.monitor.stop();
  });

  it('only doubt, even with MaxFails 0: no verdict, no failure', async () => {
    const t = setup(['down'], 0);
    t.monitor.start();
    await t.checks(30);
    assert.deepEqual(t.unhealthy, []);
    assert.deepEqual(t.changes, []);
    t.monitor.stop();
  });

  it('after Sidecar comes back from being unreachable, failed verdicts are doubt for SIDECAR_SETTLE_MS; a real failure counts after it', async () => {
    // Checks every 2 s: ALIVE, Sidecar down (a restart), then UNHEALTHY from the moment it is back.
    const t = setup([0, 'down', UNHEALTHY], 0, 2000);
    t.monitor.start();
    await t.checks(3);
    const backAt = t.clock.now();
    // Every check in the window is doubt, even at MaxFails 0.
    while (t.clock.now() + 2000 - backAt < SIDECAR_SETTLE_MS) {
      await t.clock.advance(2000);
      assert.deepEqual(t.unhealthy, [], `no verdict ${t.clock.now() - backAt} ms after Sidecar came back`);
    }
    assert.deepEqual(t.changes.map(([h]) => h), [true], 'the window publishes no unhealthy flip');
    assert.ok(t.logger.lines.some((l) => l.includes('Sidecar came back') && l.includes('reports UNHEALTHY before its own checks have run')));
    // The first check at or after the window counts.
    await t.clock.advance(2000);
    assert.equal(t.unhealthy.length, 1);
    assert.ok(t.sidecar.askedAt.at(-1)! - backAt >= SIDECAR_SETTLE_MS);
    t.monitor.stop();
  });

  it('a fetch that reached Sidecar only on a retry opens the window too; an HTTP error is no outage', async () => {
    const recovered = setup(['recovered-unhealthy', UNHEALTHY], 0, 2000);
    recovered.monitor.start();
    await recovered.checks(5);
    assert.deepEqual(recovered.unhealthy, [], 'within 8 s of the recovery');
    await recovered.clock.advance(2000);
    assert.equal(recovered.unhealthy.length, 1, '10 s after it');
    recovered.monitor.stop();

    const answering = setup(['http-500', UNHEALTHY], 0, 2000);
    answering.monitor.start();
    await answering.checks(2);
    assert.equal(answering.unhealthy.length, 1, 'Sidecar answered all along: its verdict counts at once');
    answering.monitor.stop();
  });

  it('reports health changes: first verdict, then flips; doubt and UNKNOWN change nothing', async () => {
    const t = setup([3, 0, 0, UNHEALTHY, 'down', 3, UNHEALTHY, 4, 0], 5);
    t.monitor.start();
    await t.checks(9);
    assert.deepEqual(t.changes.map(([h]) => h), [true, false, true]);
    assert.match(t.changes[1]![1], /as UNHEALTHY/);
    assert.match(t.changes[2]![1], /as DRAINING/);
    t.monitor.stop();
  });

  it('start() twice runs one loop; stop() is idempotent; start() after stop() does nothing', async () => {
    const t = setup([0]);
    t.monitor.start();
    t.monitor.start();
    await t.checks(3);
    assert.equal(t.sidecar.askedAt.length, 3);
    t.monitor.stop();
    t.monitor.stop();
    await within(t.monitor.finished);
    t.monitor.start();
    await t.clock.advance(10 * POLL);
    assert.equal(t.sidecar.askedAt.length, 3);
  });

  it('stop() during the backoff ends the loop at once, without a check', async () => {
    const t = setup([UNHEALTHY], 0);
    t.monitor.start();
    await t.clock.advance(BACKOFF / 2);
    t.monitor.stop();
    await within(t.monitor.finished);
    assert.equal(t.clock.pending, 0);
    await t.clock.advance(BACKOFF);
    assert.deepEqual(t.sidecar.askedAt, []);
  });

  it('a callback that throws is logged and does not stop the checks', async () => {
    const clock = new FakeClock();
    const logger = memoryLogger();
    const sidecar = new ScriptedSidecar(clock, [0, UNHEALTHY, 0]);
    const monitor = new SidecarHealthMonitor(
      { client: sidecar, clock, logger, hostname: HOST, serviceId: ID, backoffMs: BACKOFF, pollIntervalMs: POLL, maxFails: 3 },
      { onHealthChanged: () => { throw new Error('boom'); }, onUnhealthy: () => undefined },
    );
    monitor.start();
    await clock.advance(BACKOFF + 4 * POLL);
    assert.equal(sidecar.askedAt.length, 5);
    assert.equal(logger.lines.filter((l) => l.includes('Sidecar health callback failed')).length, 3);
    monitor.stop();
  });

  describe('with the real client against SidecarDouble', () => {
    const doubles: SidecarDouble[] = [];
    after(async () => { for (const d of doubles) await d.close(); });

    async function realSetup() {
      const clock = new FakeClock();
      // No Docker engine: the service is a static one, its checks sped up so it is UNHEALTHY in milliseconds.
      const double = await SidecarDouble.start({ hostname: HOST, now: () => clock.now(), dockerSocket: null, discoveryIntervalMs: 2, checkIntervalMs: 5 });
      doubles.push(double);
      const makeServiceUnhealthy = async (): Promise<void> => {
        double.addStaticService(ID);
        double.failChecks(ID);
        await double.untilStatus(ID, UNHEALTHY);
      };
      const logger = memoryLogger();
      const client = new SidecarClient({ sidecarUrl: double.url, httpTimeoutMs: 5000, retryCount: 5, retryDelayMs: 3000, clock, logger });
      const unhealthy: string[] = [];
      const monitor = new SidecarHealthMonitor(
        { client, clock, logger, hostname: HOST, serviceId: ID, backoffMs: BACKOFF, pollIntervalMs: POLL, maxFails: 1 },
        { onHealthChanged: () => undefined, onUnhealthy: (d) => unhealthy.push(d) },
      );
      return { clock, double, monitor, unhealthy, logger, makeServiceUnhealthy };
    }

    it('fails the task after MaxFails+1 real UNHEALTHY answers', async () => {
      const t = await realSetup();
      await t.makeServiceUnhealthy();
      t.monitor.start();
      await t.clock.run(t.monitor.finished);
      assert.equal(t.unhealthy.length, 1);
      assert.equal(t.double.calls.length, 2);
      assert.deepEqual(t.double.calls.map((c) => c.at), [BACKOFF, BACKOFF + POLL]);
    });

    it('stop() mid-retry returns at once and makes no further request', async () => {
      const t = await realSetup();
      await t.makeServiceUnhealthy();
      t.double.failWith(500);
      t.monitor.start();
      await t.clock.advance(BACKOFF);
      await t.clock.untilSleeping();
      assert.equal(t.double.calls.length, 1);
      assert.deepEqual(t.clock.sleeps.map((s) => s.ms), [BACKOFF, 3000], 'sleeping between retries');
      t.monitor.stop();
      await within(t.monitor.finished, 500);
      assert.equal(t.clock.pending, 0);
      await t.clock.advance(POLL * 10);
      assert.equal(t.double.calls.length, 1);
      assert.deepEqual(t.unhealthy, []);
    });

    it('stop() mid-request aborts the request', async () => {
      const t = await realSetup();
      await t.makeServiceUnhealthy();
      t.double.slow(10_000);
      t.monitor.start();
      await t.clock.advance(BACKOFF);
      while (t.double.calls.length === 0) await new Promise((r) => setTimeout(r, 1));
      t.monitor.stop();
      await within(t.monitor.finished, 500);
      assert.deepEqual(t.unhealthy, []);
      assert.ok(!t.logger.lines.some((l) => l.includes('Assuming healthy')), 'a stop is not a doubt');
    });

    it('Sidecar down for hours never fails the task', async () => {
      const t = await realSetup();
      await t.double.down();
      t.monitor.start();
      await t.clock.advance(BACKOFF);
      for (let i = 0; i < 4; i++) {
        // Each check: 6 refused tries, 5 retry sleeps, then the poll sleep.
        for (let s = 0; s < 6; s++) { await t.clock.untilSleeping(); await t.clock.wakeNext(); }
      }
      assert.deepEqual(t.unhealthy, []);
      assert.equal(t.logger.lines.filter((l) => l.includes('Assuming healthy')).length, 4);
      t.monitor.stop();
      await within(t.monitor.finished);
    });
  });
});
