// The Sidecar double behaves as the real Sidecar was seen to: against the real dockerd for
// discovery, and without an engine (static services) for the rest. Sidecar's intervals (checks
// every 3 s, discovery every 1 s, a restart's 3 s of UNHEALTHY) are scaled down by 20.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { ALIVE, DRAINING, SidecarDouble, TOMBSTONE, UNHEALTHY, UNKNOWN, type SidecarDoubleOptions, type SidecarPort, type SidecarService } from './sidecar';

const HOST = 'agent-7.example.internal';
const IMAGE = 'sidecar-executor-test:latest';
const ADVERTISE_IP = '10.1.2.3';
const CHECK_MS = 150;
const TIMING = { checkIntervalMs: CHECK_MS, discoveryIntervalMs: 50, restartUnhealthyMs: CHECK_MS, hostname: HOST, advertiseIp: ADVERTISE_IP };
const TEST_LABEL = `sidecar-double-test=${process.pid}`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Starts a container of the test image that sleeps; returns its full id. */
function runContainer(...options: string[]): string {
  return docker('run', '-d', '--label', TEST_LABEL, ...options, IMAGE, 'sleep', '120');
}

const doubles: SidecarDouble[] = [];
async function startDouble(options: SidecarDoubleOptions = {}): Promise<SidecarDouble> {
  const double = await SidecarDouble.start({ ...TIMING, ...options });
  doubles.push(double);
  return double;
}

after(async () => {
  for (const double of doubles) await double.close();
  const ids = docker('ps', '-aq', '--filter', `label=${TEST_LABEL}`).split('\n').filter(Boolean);
  if (ids.length > 0) docker('rm', '-f', ...ids);
});

async function ownServices(double: SidecarDouble): Promise<Record<string, SidecarService>> {
  const res = await fetch(double.url);
  assert.equal(res.status, 200);
  const state = await res.json() as { Servers: Record<string, { Services: Record<string, SidecarService> }> };
  return state.Servers[HOST]?.Services ?? {};
}

const statuses = (double: SidecarDouble, id: string): number[] => double.history(id).map((c) => c.status);
const byPortAndIp = (a: SidecarPort, b: SidecarPort): number => a.Port - b.Port || a.IP.localeCompare(b.IP);

describe('SidecarDouble against a real Docker engine', () => {
  it('lists a new container as absent, then UNKNOWN, then UNHEALTHY (its first check fails), then ALIVE', async () => {
    const sidecar = await startDouble();
    const fullId = runContainer('--network', 'none', '--label', 'ServiceName=billing', '--label', 'ProxyMode=tcp');
    const id = fullId.slice(0, 12);
    await sidecar.untilStatus(id, ALIVE, 3000);

    // The first entry is UNKNOWN: the service was absent until discovery found it.
    assert.deepEqual(statuses(sidecar, id), [UNKNOWN, UNHEALTHY, ALIVE]);
    const [unknown, unhealthy, alive] = sidecar.history(id);
    assert.ok(alive!.at - unhealthy!.at >= CHECK_MS - 15, `UNHEALTHY for one check interval, not ${alive!.at - unhealthy!.at} ms`);
    assert.ok(alive!.at - unknown!.at <= 2 * CHECK_MS + 100, `ALIVE ${alive!.at - unknown!.at} ms after discovery`);

    const record = (await ownServices(sidecar))[id];
    assert.ok(record, 'listed under Sidecar\'s own hostname');
    const createdSeconds = Math.floor(Date.parse(JSON.parse(docker('inspect', fullId))[0].Created) / 1000);
    assert.deepEqual({ ...record, Updated: '' }, {
      ID: id, Name: 'billing', Image: IMAGE, Created: new Date(createdSeconds * 1000).toISOString().replace('.000Z', 'Z'),
      Hostname: HOST, Ports: [], Updated: '', ProxyMode: 'tcp', Status: ALIVE,
    });
    assert.ok(Math.abs(Date.parse(record.Updated) - Date.now()) < 2000, `Updated ${record.Updated} is about now`);
  });

  it('lists a port published on all addresses twice (advertise IP and ::), with ServicePort from its label', async () => {
    const sidecar = await startDouble();
    const fullId = runContainer('-p', '8080', '-p', '127.0.0.1::8081', '--label', 'ServicePort_8080=9090');
    const id = fullId.slice(0, 12);
    await sidecar.untilStatus(id, ALIVE, 3000);

    const bindings = JSON.parse(docker('inspect', fullId))[0].NetworkSettings.Ports as Record<string, { HostIp: string; HostPort: string }[]>;
    const expected: SidecarPort[] = Object.entries(bindings).flatMap(([port, hosts]) => hosts.map((h) => ({
      Type: 'tcp', Port: Number(h.HostPort), ServicePort: port === '8080/tcp' ? 9090 : 0, IP: h.HostIp === '0.0.0.0' ? ADVERTISE_IP : h.HostIp,
    })));
    const record = (await ownServices(sidecar))[id]!;
    assert.deepEqual([...record.Ports].sort(byPortAndIp), expected.sort(byPortAndIp));
    assert.deepEqual(record.Ports.filter((p) => p.ServicePort === 9090).map((p) => p.IP).sort(), [ADVERTISE_IP, '::']);
    assert.deepEqual(record.Ports.filter((p) => p.ServicePort === 0).map((p) => p.IP), ['127.0.0.1']);
    assert.equal(record.Name, IMAGE, 'no ServiceName label: the docker_label namer falls back to the image');
  });

  it('does not list a container labelled SidecarDiscover=false', async () => {
    const sidecar = await startDouble();
    const hidden = runContainer('--network', 'none', '--label', 'SidecarDiscover=false').slice(0, 12);
    const shown = runContainer('--network', 'none', '--label', 'SidecarDiscover=true').slice(0, 12);
    await sidecar.untilStatus(shown, ALIVE, 3000);
    assert.equal(sidecar.statusOf(HOST, hidden), undefined);
    assert.equal((await ownServices(sidecar))[hidden], undefined);
    assert.deepEqual(sidecar.history(hidden), []);
  });

  it('makes a stopped container\'s service a TOMBSTONE, Updated then, and keeps listing it', async () => {
    const sidecar = await startDouble();
    const fullId = runContainer('--network', 'none');
    const id = fullId.slice(0, 12);
    await sidecar.untilStatus(id, ALIVE, 3000);
    const stoppedAt = Date.now();
    docker('kill', fullId);
    await sidecar.untilStatus(id, TOMBSTONE, 3000);
    const tombstone = (await ownServices(sidecar))[id]!;
    assert.ok(Date.parse(tombstone.Updated) >= stoppedAt, 'Updated when it was tombstoned');
    docker('rm', '-f', fullId);
    await sleep(3 * CHECK_MS);
    assert.equal((await ownServices(sidecar))[id]?.Status, TOMBSTONE, 'still listed');
    assert.deepEqual(statuses(sidecar, id), [UNKNOWN, UNHEALTHY, ALIVE, TOMBSTONE]);
  });

  it('keeps running when the engine is unreachable, and says why', async () => {
    const sidecar = await startDouble({ dockerSocket: '/nonexistent/docker.sock' });
    sidecar.addStaticService('5747c0000001');
    await sidecar.untilStatus('5747c0000001', ALIVE, 3000);
    assert.match(sidecar.lastDiscoveryError ?? '', /Docker discovery failed: .*ENOENT/);
  });
});

describe('SidecarDouble without an engine', () => {
  const ID = 'deadbeef0123';

  it('lists only what the test puts there: a static service goes absent, UNKNOWN, UNHEALTHY, ALIVE', async () => {
    const sidecar = await startDouble({ dockerSocket: null });
    await sleep(100);
    assert.deepEqual(JSON.parse(sidecar.stateJson()).Servers, {}, 'no services, so no host');
    sidecar.addStaticService(ID);
    await sidecar.untilStatus(ID, ALIVE, 3000);
    assert.deepEqual(statuses(sidecar, ID), [UNKNOWN, UNHEALTHY, ALIVE]);
    assert.equal(sidecar.lastDiscoveryError, undefined);
  });

  it('fails the checks of a service on demand and passes them again', async () => {
    const sidecar = await startDouble({ dockerSocket: null });
    sidecar.addStaticService(ID);
    await sidecar.untilStatus(ID, ALIVE, 3000);
    sidecar.failChecks(ID);
    await sidecar.untilStatus(ID, UNHEALTHY, 3 * CHECK_MS);
    await sleep(2 * CHECK_MS);
    assert.equal(sidecar.statusOf(HOST, ID), UNHEALTHY, 'stays UNHEALTHY while its checks fail');
    sidecar.passChecks(ID);
    await sidecar.untilStatus(ID, ALIVE, 3 * CHECK_MS);
  });

  it('drain: 202 with a JSON message, DRAINING while the checks pass, TOMBSTONE when the service goes', async () => {
    const sidecar = await startDouble({ dockerSocket: null });
    sidecar.addStaticService(ID, { Name: 'billing' });
    await sidecar.untilStatus(ID, ALIVE, 3000);
    const res = await fetch(`${sidecar.baseUrl}/api/services/${ID}/drain`, { method: 'POST' });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { Message: `Service "billing" instance "${ID}" set to DRAINING` });
    assert.equal(sidecar.statusOf(HOST, ID), DRAINING);
    await sleep(3 * CHECK_MS);
    assert.equal(sidecar.statusOf(HOST, ID), DRAINING, 'a passing check leaves DRAINING alone');

    sidecar.removeStaticService(ID);
    await sidecar.untilStatus(ID, TOMBSTONE, 3000);
    assert.deepEqual(statuses(sidecar, ID), [UNKNOWN, UNHEALTHY, ALIVE, DRAINING, TOMBSTONE]);
  });

  it('a drained service whose check fails goes from DRAINING to UNHEALTHY', async () => {
    const sidecar = await startDouble({ dockerSocket: null });
    sidecar.addStaticService(ID);
    await sidecar.untilStatus(ID, ALIVE, 3000);
    assert.equal((await fetch(`${sidecar.baseUrl}/api/services/${ID}/drain`, { method: 'POST' })).status, 202);
    sidecar.failChecks(ID);
    await sidecar.untilStatus(ID, UNHEALTHY, 3 * CHECK_MS);
    assert.deepEqual(statuses(sidecar, ID), [UNKNOWN, UNHEALTHY, ALIVE, DRAINING, UNHEALTHY]);
  });

  it('drain finds only services of Sidecar\'s own host: another host\'s, or an unknown id, is a JSON 404', async () => {
    const sidecar = await startDouble({ dockerSocket: null });
    sidecar.setGossipService('agent-8.example.internal', ID, ALIVE);
    for (const id of [ID, 'feedface0000']) {
      const res = await fetch(`${sidecar.baseUrl}/api/services/${id}/drain`, { method: 'POST' });
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(await res.json(), { status: 'error', message: `Not Found - Service ID "${id}" not found` });
    }
    assert.equal(sidecar.statusOf('agent-8.example.internal', ID), ALIVE);
    assert.equal((await fetch(`${sidecar.baseUrl}/api/services/${ID}/drain`)).status, 405, 'the route is POST only');
    assert.deepEqual(sidecar.calls.map((c) => `${c.method} ${c.path} ${c.status}`), [
      `POST /api/services/${ID}/drain 404`, 'POST /api/services/feedface0000/drain 404', `GET /api/services/${ID}/drain 405`,
    ]);
    assert.throws(() => sidecar.setGossipService(HOST, ID, ALIVE), /own host/);
  });

  it('a restart: down, then UNHEALTHY for every live service (even DRAINING) until its first check, then the checks again', async () => {
    const sidecar = await startDouble({ dockerSocket: null, restartUnhealthyMs: 300 });
    const [alive, drained, gone] = ['a11ce0000001', 'd4a1ed000002', '90e000000003'];
    for (const id of [alive, drained, gone]) sidecar.addStaticService(id);
    for (const id of [alive, drained, gone]) await sidecar.untilStatus(id, ALIVE, 3000);
    await fetch(`${sidecar.baseUrl}/api/services/${drained}/drain`, { method: 'POST' });
    sidecar.removeStaticService(gone);
    await sidecar.untilStatus(gone, TOMBSTONE, 3000);

    const restarted = sidecar.restart({ downMs: 200 });
    await sleep(50);
    await assert.rejects(fetch(sidecar.url), 'refused while down');
    await restarted;
    const upAt = Date.now();
    const services = await ownServices(sidecar);
    assert.deepEqual([alive, drained, gone].map((id) => services[id]?.Status), [UNHEALTHY, UNHEALTHY, TOMBSTONE]);

    await sidecar.untilStatus(alive, ALIVE, 3000);
    assert.ok(Date.now() - upAt >= 280, `UNHEALTHY for ${Date.now() - upAt} ms, not the 300 ms window`);
    assert.equal(sidecar.statusOf(HOST, drained), ALIVE, 'the drain did not survive the restart');
    assert.equal(sidecar.statusOf(HOST, gone), TOMBSTONE);
  });

  it('test overrides change only what the dump shows, until cleared', async () => {
    const sidecar = await startDouble({ dockerSocket: null });
    sidecar.addStaticService(ID);
    await sidecar.untilStatus(ID, ALIVE, 3000);
    assert.throws(() => sidecar.overrideStatus('feedface0000', UNKNOWN), /does not list/);

    sidecar.overrideStatus(ID, UNKNOWN);
    assert.equal((await ownServices(sidecar))[ID]?.Status, UNKNOWN);
    sidecar.overrideStatus(ID, 'missing');
    assert.equal((await ownServices(sidecar))[ID], undefined);
    sidecar.overrideHostMissing();
    assert.equal(JSON.parse(sidecar.stateJson()).Servers[HOST], undefined);
    sidecar.clearOverrides();
    assert.equal((await ownServices(sidecar))[ID]?.Status, ALIVE);
    assert.deepEqual(statuses(sidecar, ID), [UNKNOWN, UNHEALTHY, ALIVE], 'the catalog underneath never changed');
  });
});
