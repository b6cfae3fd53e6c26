import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerState } from '../../src/docker/engine-api';
import { HttpProbe, TcpProbe, type CheckHost } from '../../src/health/network-probes';
import { containerHost } from '../../src/health/native-health';

const LOOPBACK: CheckHost = { resolve: async (family) => (family === 'IPv6' ? '::1' : '127.0.0.1') };
const never = new AbortController().signal;

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

let server: http.Server;
let port: number;
const served: string[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    served.push(req.url ?? '');
    if (req.url === '/hang') return; // never answers
    const status = Number(req.url?.slice(1)) || 200;
    res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {});
    res.end(req.url === '/200' ? 'x'.repeat(1024 * 1024) : 'ok');
  });
  port = await listen(server);
});
after(() => { server.closeAllConnections(); server.close(); });

const httpProbe = (path: string, p = port, scheme: 'http' | 'https' = 'http'): HttpProbe => new HttpProbe({ kind: 'HTTP', scheme, port: p, path, family: 'IPv4' }, LOOPBACK);

describe('HttpProbe', () => {
  it('200 to 399 are healthy (a redirect is not followed); 400 and up are not', async () => {
    for (const [path, healthy] of [['/200', true], ['/204', true], ['/302', true], ['/399', true], ['/404', false], ['/500', false]] as const) {
      const outcome = await httpProbe(path).check(never);
      assert.deepEqual(outcome, { healthy, detail: `answered ${path.slice(1)}` }, path);
    }
    assert.ok(!served.includes('/elsewhere'));
  });

  it('names the URL it checked; a refused connection is a failure naming the error', async () => {
    const probe = httpProbe('/health', await closedPort());
    assert.match(probe.label, /^HTTP GET http:\/\/<container>:\d+\/health$/);
    const outcome = await probe.check(never);
    assert.deepEqual(outcome, { healthy: false, detail: 'failed: ECONNREFUSED' });
    assert.match(probe.label, /^HTTP GET http:\/\/127\.0\.0\.1:\d+\/health$/);
  });

  it('stops at once when aborted (its time is up)', async () => {
    const abort = new AbortController();
    const checking = httpProbe('/hang').check(abort.signal);
    setTimeout(() => abort.abort(), 50);
    const outcome = await checking;
    assert.equal(outcome.healthy, false);
  });

  it('HTTPS without verifying the certificate, as Mesos (curl -k)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'probe-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'),
      '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=self-signed'], { stdio: 'ignore' });
    const tls = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => res.end('ok'));
    const tlsPort = await listen(tls);
    t.after(() => tls.close());
    assert.deepEqual(await httpProbe('/', tlsPort, 'https').check(never), { healthy: true, detail: 'answered 200' });
  });
});

describe('TcpProbe', () => {
  it('an accepted connection is healthy; a refused one is not', async () => {
    const probe = new TcpProbe({ kind: 'TCP', port, family: 'IPv4' }, LOOPBACK);
    assert.deepEqual(await probe.check(never), { healthy: true, detail: 'succeeded' });
    assert.equal(probe.label, `TCP connect to 127.0.0.1:${port}`);
    const refused = new TcpProbe({ kind: 'TCP', port: await closedPort(), family: 'IPv4' }, LOOPBACK);
    assert.deepEqual(await refused.check(never), { healthy: false, detail: 'failed: ECONNREFUSED' });
  });
});

describe('containerHost', () => {
  const engine = (addresses: ContainerState['addresses']) => {
    const calls: string[] = [];
    return { calls, inspectContainer: async (id: string) => { calls.push(id); return { addresses } as ContainerState; } };
  };

  it('host networking: the loopback, IPv4 or IPv6', async () => {
    const host = containerHost({ containerId: 'c', networkMode: 'host', addresses: [] }, { engine: engine([]) as never });
    assert.equal(await host.resolve('IPv4', never), '127.0.0.1');
    assert.equal(await host.resolve('IPv6', never), '::1');
  });

  it("BRIDGE or USER: the container's own address of the family; looked up again when unknown", async () => {
    const found = engine([{ ip: '172.17.0.9', family: 'IPv4' }]);
    const host = containerHost({ containerId: 'c', networkMode: 'default', addresses: [] }, { engine: found as never });
    assert.equal(await host.resolve('IPv4', never), '172.17.0.9');
    assert.equal(await host.resolve('IPv4', never), '172.17.0.9');
    assert.deepEqual(found.calls, ['c'], 'looked up once, then kept');
    await assert.rejects(host.resolve('IPv6', never), /no IPv6 address on network default/);
    const known = containerHost({ containerId: 'c', networkMode: 'net1', addresses: [{ ip: 'fd00::3', family: 'IPv6' }] }, { engine: engine([]) as never });
    assert.equal(await known.resolve('IPv6', never), 'fd00::3');
  });

  it('NONE: nothing to connect to', async () => {
    const host = containerHost({ containerId: 'c', networkMode: 'none', addresses: [] }, { engine: engine([]) as never });
    await assert.rejects(host.resolve('IPv4', never), /no network \(NONE\)/);
  });
});

async function closedPort(): Promise<number> {
  const s = net.createServer();
  const p = await listen(s);
  await new Promise((resolve) => s.close(resolve));
  return p;
}
