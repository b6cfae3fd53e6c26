import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { systemClock, type Clock } from '../../src/clock';
import { memoryLogger } from '../../src/logging/logger';
import { SidecarClient } from '../../src/sidecar/sidecar-client';
import { serviceStatusIn } from '../../src/sidecar/sidecar-state';
import { ALIVE, DRAINING, SidecarDouble, UNHEALTHY } from '../doubles/sidecar';
import { FakeClock } from '../support/fake-clock';

const HOST = 'agent-1.example.com';
const ID = 'deadbeef0123';
const DELAY = 3000;
/** A Sidecar without a Docker engine, its discovery and checks sped up so a service is ALIVE in milliseconds. */
const NO_ENGINE = { hostname: HOST, dockerSocket: null, discoveryIntervalMs: 2, checkIntervalMs: 5 };

function clientFor(double: SidecarDouble, clock: Clock, overrides: Partial<{ retryCount: number; httpTimeoutMs: number; retryDelayMs: number; url: string }> = {}) {
  const logger = memoryLogger();
  const client = new SidecarClient({
    sidecarUrl: overrides.url ?? double.url,
    httpTimeoutMs: overrides.httpTimeoutMs ?? 2000,
    retryCount: overrides.retryCount ?? 2,
    retryDelayMs: overrides.retryDelayMs ?? DELAY,
    clock,
    logger,
  });
  return { client, logger };
}

describe('SidecarClient', () => {
  let clock: FakeClock;
  let double: SidecarDouble;
  const doubles: SidecarDouble[] = [];

  beforeEach(async () => {
    clock = new FakeClock(1_000_000);
    double = await SidecarDouble.start({ ...NO_ENGINE, now: () => clock.now() });
    doubles.push(double);
    double.addStaticService(ID);
    await double.untilStatus(ID, ALIVE);
  });
  after(async () => { for (const d of doubles) await d.close(); });

  describe('fetchState', () => {
    it('returns the parsed state in one call', async () => {
      const { client } = clientFor(double, clock);
      const result = await client.fetchState();
      assert.ok(result.ok);
      assert.deepEqual(serviceStatusIn(result.ok ? result.state : undefined, HOST, ID), { kind: 'status', status: 0, name: 'ALIVE' });
      assert.deepEqual(double.calls.map((c) => `${c.method} ${c.path}`), ['GET /state.json']);
      assert.deepEqual(clock.sleeps, []);
    });

    it('tries 1 + SidecarRetryCount times, SidecarRetryDelay apart, on 500', async () => {
      double.failWith(500);
      const { client, logger } = clientFor(double, clock, { retryCount: 5 });
      const result = await clock.run(client.fetchState());
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.why, /HTTP 500/);
      assert.equal(double.calls.length, 6);
      const gaps = double.calls.slice(1).map((c, i) => c.at - double.calls[i]!.at);
      assert.deepEqual(gaps, [DELAY, DELAY, DELAY, DELAY, DELAY]);
      assert.equal(clock.sleeps.length, 5, 'no pointless sleep after the last try');
      assert.equal(logger.lines.filter((l) => l.includes('attempts to fetch state from Sidecar')).length, 6);
    });

    it('recovers when Sidecar answers on a retry', async () => {
      double.failWith(503, 2);
      const { client } = clientFor(double, clock);
      const result = await clock.run(client.fetchState());
      assert.ok(result.ok);
      assert.deepEqual(double.calls.map((c) => c.status), [503, 503, 200]);
    });

    it('retries an answer that is not JSON, and reports it', async () => {
      double.garbage();
      const { client } = clientFor(double, clock);
      const result = await clock.run(client.fetchState());
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.why, /not JSON/);
      assert.equal(double.calls.length, 3);

      double.normal();
      double.garbage(1);
      const again = await clock.run(client.fetchState());
      assert.ok(again.ok);
    });

    it('does not retry a 4xx: a wrong SidecarUrl will not heal in 3 s', async () => {
      const { client } = clientFor(double, clock, { url: `${double.baseUrl}/nope.json` });
      const result = await clock.run(client.fetchState());
      assert.match(result.ok ? '' : result.why, /HTTP 404/);
      assert.equal(double.calls.length, 1);
    });

    it('bounds each try by HttpTimeout', async () => {
      double.slow(400);
      const { client } = clientFor(double, clock, { httpTimeoutMs: 50 });
      const started = Date.now();
      const result = await clock.run(client.fetchState());
      assert.match(result.ok ? '' : result.why, /timed out/);
      assert.equal(double.calls.length, 3);
      assert.ok(Date.now() - started < 1000, 'three 50 ms tries, not three 400 ms answers');
    });

    it('reports Sidecar down as unreachable, and finds it again when it comes back', async () => {
      await double.down();
      const { client } = clientFor(double, clock);
      const result = await clock.run(client.fetchState());
      assert.match(result.ok ? '' : result.why, /unreachable.*ECONNREFUSED/);
      assert.equal(clock.sleeps.length, 2);

      const pending = client.fetchState();
      await clock.untilSleeping();
      await double.up();
      const recovered = await clock.run(pending);
      assert.ok(recovered.ok);
      assert.equal(double.calls.length, 1, 'the first try never reached the double');
      // What the health monitor's restart window keys on (docs/health-checks.md).
      assert.equal(result.ok ? undefined : result.unreachable, true);
      assert.equal(recovered.ok && recovered.recovered, true, 'an earlier try of this fetch could not reach Sidecar');
    });

    it('an answering Sidecar is neither unreachable nor recovered, even when it answers 5xx first', async () => {
      double.failWith(503, 1);
      const { client } = clientFor(double, clock);
      const result = await clock.run(client.fetchState());
      assert.equal(result.ok && result.recovered, false);
      double.failWith(500);
      const failed = await clock.run(client.fetchState());
      assert.equal(failed.ok ? undefined : failed.unreachable, false);
    });

    it('spaces tries in real time with the system clock', async () => {
      const real = await SidecarDouble.start(NO_ENGINE);
      doubles.push(real);
      real.failWith(500);
      const { client } = clientFor(real, systemClock, { retryCount: 2, retryDelayMs: 40 });
      await client.fetchState();
      assert.equal(real.calls.length, 3);
      for (let i = 1; i < 3; i++) assert.ok(real.calls[i]!.at - real.calls[i - 1]!.at >= 35, 'at least the retry delay apart');
    });

    it('stops at once when aborted mid-retry', async () => {
      double.failWith(500);
      const { client } = clientFor(double, clock, { retryCount: 5 });
      const abort = new AbortController();
      const pending = client.fetchState(abort.signal);
      await clock.untilSleeping();
      abort.abort();
      const result = await pending;
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.why, /stopped/);
      assert.equal(double.calls.length, 1);
      assert.equal(clock.pending, 0);
    });

    it('stops at once when aborted mid-request', async () => {
      double.slow(5000);
      const { client } = clientFor(double, clock, { httpTimeoutMs: 10_000 });
      const abort = new AbortController();
      const pending = client.fetchState(abort.signal);
      while (double.calls.length === 0) await new Promise((r) => setTimeout(r, 1));
      const started = Date.now();
      abort.abort();
      const result = await pending;
      assert.match(result.ok ? '' : result.why, /stopped/);
      assert.ok(Date.now() - started < 500);
      assert.deepEqual(clock.sleeps, []);
    });
  });

  describe('drain', () => {
    it('POSTs /api/services/<id>/drain on the host:port of SidecarUrl; 202 sets DRAINING', async () => {
      const { client } = clientFor(double, clock, { url: `${double.baseUrl}/some/path/state.json?x=1` });
      assert.equal(await client.drain(ID), true);
      assert.deepEqual(double.calls.map((c) => `${c.method} ${c.path} ${c.status}`), [`POST /api/services/${ID}/drain 202`]);
      assert.equal(double.statusOf(HOST, ID), DRAINING);
      const state = await clientFor(double, clock).client.fetchState();
      assert.deepEqual(serviceStatusIn(state.ok ? state.state : undefined, HOST, ID), { kind: 'status', status: 4, name: 'DRAINING' });
    });

    it('a 404 (unknown id) is final: false after one try', async () => {
      const { client, logger } = clientFor(double, clock);
      assert.equal(await clock.run(client.drain('feedface0000')), false);
      assert.deepEqual(double.calls.map((c) => c.status), [404]);
      assert.ok(logger.lines.some((l) => l.includes('level=error') && l.includes('feedface0000')));
    });

    it('only drains services on Sidecar\'s own host, as the real handler does', async () => {
      double.setGossipService('agent-2.example.com', 'other0000000', UNHEALTHY);
      const { client } = clientFor(double, clock);
      assert.equal(await clock.run(client.drain('other0000000')), false);
      assert.equal(double.statusOf('agent-2.example.com', 'other0000000'), UNHEALTHY);
    });

    it('retries a 500 SidecarRetryDelay apart and succeeds on the third try', async () => {
      double.failWith(500, 2);
      const { client } = clientFor(double, clock, { retryCount: 5 });
      assert.equal(await clock.run(client.drain(ID)), true);
      assert.deepEqual(double.calls.map((c) => c.status), [500, 500, 202]);
      assert.deepEqual(double.calls.slice(1).map((c, i) => c.at - double.calls[i]!.at), [DELAY, DELAY]);
    });

    it('gives up after 1 + SidecarRetryCount tries and returns false, never throws', async () => {
      double.failWith(500);
      const { client } = clientFor(double, clock, { retryCount: 3 });
      assert.equal(await clock.run(client.drain(ID)), false);
      assert.equal(double.calls.length, 4);
      assert.equal(double.statusOf(HOST, ID), ALIVE);

      await double.down();
      assert.equal(await clock.run(client.drain(ID)), false);
      assert.equal(double.calls.length, 4);
    });

    it('treats a 200 as failure: only 202 means drained', async () => {
      double.garbage();
      const { client } = clientFor(double, clock, { retryCount: 1 });
      assert.equal(await clock.run(client.drain(ID)), false);
      assert.equal(double.calls.length, 2);
    });
  });
});
