// The engine client over TLS (docs/docker-connection.md) against an https engine double that
// requires a client certificate, as dockerd --tlsverify does: ordinary requests (node:https) and
// log streams (streamed-get's own TLS socket), DOCKER_API_VERSION's path prefix, and clear errors
// for a missing client certificate or an engine certificate from another CA. The real dockerd over
// TLS is test/e2e/docker-tls.test.ts. First of all: without TLS, node:tls is never loaded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { dockerConnectionFromEnv } from '../../src/docker/docker-host';
import { EngineError, type LogFrame } from '../../src/docker/engine-api';
import { DockerEngineClient } from '../../src/docker/engine-client';
import { clientDirWith, makeTestCerts, type TestCerts } from '../support/test-certs';

/** node's list of the built-in modules loaded so far (not in @types/node). */
const tlsLoaded = (): boolean => (process as unknown as { moduleLoadList: string[] }).moduleLoadList
  .some((m) => m === 'NativeModule tls' || m === 'NativeModule https');

/** Docker's multiplexed log framing: stream byte, three zeros, big-endian length, payload. */
function frame(stream: 1 | 2, text: string): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([head, Buffer.from(text)]);
}

/** What the double saw of each request: its path and the client certificate's subject. */
interface Seen { url: string; clientCn: string | undefined }

function engineHandler(seen: Seen[]): http.RequestListener {
  return (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    seen.push({ url: req.url ?? '', clientCn: peer?.subject?.CN as string | undefined });
    if (req.url === '/v1.41/containers/abc/json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Id: 'abc', State: { Running: false, ExitCode: 3 }, Config: { Tty: false, Labels: {}, Env: [] } }));
    } else if (req.url?.startsWith('/v1.41/containers/abc/logs?')) {
      res.writeHead(200);
      // Many chunks, so the stream spans TLS records and socket reads.
      for (let i = 0; i < 2000; i++) res.write(frame(i % 2 === 0 ? 1 : 2, `line ${i}\n`));
      res.end();
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"message":"page not found"}');
    }
  };
}

async function collect(frames: AsyncIterable<LogFrame>): Promise<string[]> {
  const lines: string[] = [];
  for await (const f of frames) lines.push(`${f.stream}:${f.data.toString().trim()}`);
  return lines;
}

describe('without TLS', () => {
  it('a unix socket engine never loads node:tls or node:https, even with DOCKER_CERT_PATH set', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sce-plain-'));
    const plain = http.createServer(engineHandler([]));
    try {
      await new Promise<void>((resolve) => plain.listen(path.join(dir, 'docker.sock'), resolve));
      const env = { DOCKER_HOST: `unix://${dir}/docker.sock`, DOCKER_API_VERSION: '1.41', DOCKER_CERT_PATH: dir };
      const viaSocket = new DockerEngineClient(dockerConnectionFromEnv(env).target);
      assert.equal((await viaSocket.inspectContainer('abc')).exitCode, 3);
      assert.equal((await collect(await viaSocket.containerLogs('abc', { follow: true }))).length, 2000);
      assert.equal(tlsLoaded(), false, 'node:tls was loaded without TLS');
    } finally {
      plain.closeAllConnections();
      await new Promise((r) => plain.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the engine client over TLS', { timeout: 60_000 }, () => {
  let certs: TestCerts;
  let server: https.Server;
  let port = 0;
  const seen: Seen[] = [];

  before(async () => {
    certs = makeTestCerts();
    // Not imported at the top: the test above checks that nothing loaded it.
    server = (require('node:https') as typeof https).createServer({
      key: fs.readFileSync(certs.serverKey), cert: fs.readFileSync(certs.serverCert), ca: fs.readFileSync(certs.caCert),
      requestCert: true, rejectUnauthorized: true,
    }, engineHandler(seen));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    certs.remove();
  });

  const clientFor = (certPath: string, host = `tcp://127.0.0.1:${port}`): DockerEngineClient => new DockerEngineClient(
    dockerConnectionFromEnv({ DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath, DOCKER_API_VERSION: '1.41' }).target,
    { requestTimeoutMs: 5000 },
  );

  it('requests and log streams go over TLS with the client certificate, under /v<DOCKER_API_VERSION>', async () => {
    const client = clientFor(certs.clientDir);
    seen.length = 0;
    const state = await client.inspectContainer('abc');
    assert.equal(state.exitCode, 3);
    const lines = await collect(await client.containerLogs('abc', { follow: true }));
    assert.equal(lines.length, 2000);
    assert.equal(lines[0], 'stdout:line 0');
    assert.equal(lines[1999], 'stderr:line 1999');
    assert.deepEqual(seen.map((s) => s.url.split('?')[0]), ['/v1.41/containers/abc/json', '/v1.41/containers/abc/json', '/v1.41/containers/abc/logs']);
    assert.ok(seen.every((s) => s.clientCn === 'sce test client'), JSON.stringify(seen));
  });

  it('the engine\'s certificate is checked against the host name too (localhost is in its SANs)', async () => {
    const client = clientFor(certs.clientDir, `tcp://localhost:${port}`);
    assert.equal((await client.inspectContainer('abc')).exitCode, 3);
  });

  it('without a client certificate: a clear TLS error for requests and log streams alike', async () => {
    const client = clientFor(clientDirWith(certs, 'ca.pem'));
    for (const attempt of [() => client.inspectContainer('abc'), () => client.containerLogs('abc', { follow: true })]) {
      await assert.rejects(attempt(), (err: unknown) => {
        assert.ok(err instanceof EngineError, String(err));
        assert.equal(err.code, 'E_ENGINE_UNREACHABLE');
        assert.match(err.message, new RegExp(`^the Docker engine at tcp://127\\.0\\.0\\.1:${port} is unreachable \\(GET /containers/abc/(json|logs)\\): TLS failed: \\w+ \\(tlsv13 alert certificate required; see DOCKER_CERT_PATH\\)$`));
        return true;
      });
    }
  });

  it('an engine certificate from another CA is refused', async () => {
    const other = makeTestCerts();
    try {
      const dir = clientDirWith(certs, 'cert.pem', 'key.pem');
      fs.copyFileSync(other.caCert, path.join(dir, 'ca.pem'));
      await assert.rejects(clientFor(dir).inspectContainer('abc'), /TLS failed: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE) /);
    } finally { other.remove(); }
  });

  it('without ca.pem the engine is not verified, as go-dockerclient does: the request goes through', async () => {
    assert.equal((await clientFor(clientDirWith(certs, 'cert.pem', 'key.pem')).inspectContainer('abc')).exitCode, 3);
  });
});
