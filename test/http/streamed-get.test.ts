import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpError } from '../../src/http/http-request';
import { streamedGet, type StreamedResponse } from '../../src/http/streamed-get';
import { makeTestCerts, type TestCerts } from '../support/test-certs';

const dir = mkdtempSync(join(tmpdir(), 'streamed-get-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let sockets = 0;

/** A server on a unix socket; `handle` gets each raw connection. */
async function rawServer(handle: (socket: net.Socket, request: string) => void): Promise<{ path: string; close(): Promise<void> }> {
  const path = join(dir, `s${sockets++}.sock`);
  const server = net.createServer((socket) => {
    let request = '';
    socket.on('data', (d) => {
      request += d.toString('latin1');
      if (request.includes('\r\n\r\n')) { const r = request; request = '\0'; if (r !== '\0') handle(socket, r); }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, close: () => new Promise((resolve) => { server.close(() => resolve()); }) };
}

async function httpServer(handler: http.RequestListener): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Reads the whole body as text, and the buffers onBody was handed. */
async function readText(res: StreamedResponse): Promise<{ text: string; buffers: Set<Buffer> }> {
  let text = '';
  const buffers = new Set<Buffer>();
  await res.read((bytes, start, end) => { buffers.add(bytes); text += bytes.toString('latin1', start, end); });
  return { text, buffers };
}

function rejectsHttp(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  return assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof HttpError, `not an HttpError: ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('streamedGet', () => {
  it('sends a GET with Host, Connection: close and the given headers', async () => {
    let seen = '';
    const server = await rawServer((socket, request) => { seen = request; socket.end('HTTP/1.1 204 No Content\r\n\r\n'); });
    try {
      const res = await streamedGet({ socketPath: server.path, path: '/a/b?c=1', headers: { 'X-Thing': 'v' }, where: 'test' });
      assert.equal(res.status, 204);
      assert.equal((await readText(res)).text, '');
      assert.equal(seen, 'GET /a/b?c=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Thing: v\r\n\r\n');
    } finally { await server.close(); }
  });

  it('streams a chunked body from node:http over TCP, reusing one read buffer', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`);
    const server = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let i = 0;
      const next = (): void => {
        // Many small chunks, some in the same tick (they coalesce into one read), some apart.
        for (let k = 0; k < 50 && i < lines.length; k++) res.write(lines[i++]);
        if (i < lines.length) setImmediate(next); else res.end();
      };
      next();
    });
    try {
      const res = await streamedGet({ host: '127.0.0.1', port: server.port, path: '/', where: 'test' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      assert.equal(res.headers['content-type'], 'text/plain');
      const { text, buffers } = await readText(res);
      assert.equal(text, lines.join(''));
      // The read buffer, and at most a copy of the body bytes that came with the head.
      assert.ok(buffers.size <= 2, `${buffers.size} buffers`);
    } finally { await server.close(); }
  });

  it('reads a Content-Length body, the head and body in one write', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 27\r\n\r\n{"message":"No such thing"}'));
    try {
      const res = await streamedGet({ socketPath: server.path, path: '/', where: 'test' });
      assert.equal(res.status, 404);
      assert.equal((await res.readAll()).toString(), '{"message":"No such thing"}');
    } finally { await server.close(); }
  });

  it('reads a body delimited by the connection\'s close, even when it all came before read()', async () => {
    const server = await rawServer((socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nall of it'));
    try {
      const res = await streamedGet({ socketPath: server.path, path: '/', where: 'test' });
      await new Promise((r) => setTimeout(r, 50)); // the end arrives before read()
      assert.equal((await readText(res)).text, 'all of it');
    } finally { await server.close(); }
  });

  it('reads a whole chunked body that came with the head, though the connection closed before read()', async () => {
    const server = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'));
    try {
      const res = await streamedGet({ socketPath: server.path, path: '/', where: 'test' });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await readText(res)).text, 'hello');
    } finally { await server.close(); }
  });

  it('keeps bytes after the head across a head split over several reads', async () => {
    const server = await rawServer((socket) => {
      const whole = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
      let at = 0;
      const drip = (): void => { socket.write(whole.slice(at, at + 7)); at += 7; if (at < whole.length) setTimeout(drip, 2); };
      drip();
    });
    try {
      const res = await streamedGet({ socketPath: server.path, path: '/', where: 'test' });
      assert.equal((await readText(res)).text, 'hello world');
    } finally { await server.close(); }
  });

  it('rejects with E_HTTP_CONNECT naming the error when it cannot connect', async () => {
    await rejectsHttp(streamedGet({ socketPath: join(dir, 'missing.sock'), path: '/', where: 'unix:///missing' }), 'E_HTTP_CONNECT', /unix:\/\/\/missing: ENOENT/);
  });

  it('rejects with E_HTTP_TIMEOUT when no head comes in time', async () => {
    const server = await rawServer(() => undefined);
    try {
      await rejectsHttp(streamedGet({ socketPath: server.path, path: '/', timeoutMs: 100, where: 'slow' }), 'E_HTTP_TIMEOUT', /slow: no response within 100 ms/);
    } finally { await server.close(); }
  });

  it('rejects a head that is not HTTP', async () => {
    const server = await rawServer((socket) => socket.end('SSH-2.0-OpenSSH\r\n\r\n'));
    try {
      await rejectsHttp(streamedGet({ socketPath: server.path, path: '/', where: 'odd' }), 'E_HTTP_CONNECT', /^odd: /);
    } finally { await server.close(); }
  });

  it('rejects with E_HTTP_BODY when the connection closes inside a chunked body, after what came', async () => {
    const server = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5\r\nde'));
    try {
      const res = await streamedGet({ socketPath: server.path, path: '/', where: 'cut' });
      let text = '';
      await rejectsHttp(res.read((b, s, e) => { text += b.toString('latin1', s, e); }), 'E_HTTP_BODY', /cut: the connection closed before the end/);
      assert.equal(text, 'abcde');
    } finally { await server.close(); }
  });

  it('rejects with E_HTTP_BODY on a malformed chunk', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'));
    try {
      const res = await streamedGet({ socketPath: server.path, path: '/', where: 'bad' });
      await rejectsHttp(res.read(() => undefined), 'E_HTTP_BODY', /^bad: .*hexadecimal/);
    } finally { await server.close(); }
  });

  it('passes on what the sink throws, as it is, and closes the connection', async () => {
    let closed = false;
    const server = await rawServer((socket) => {
      socket.on('close', () => { closed = true; });
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    });
    try {
      const res = await streamedGet({ socketPath: server.path, path: '/', where: 'test' });
      const mine = new Error('sink says no');
      await assert.rejects(res.read(() => { throw mine; }), (err) => err === mine);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(closed);
    } finally { await server.close(); }
  });

  it('stops reading while paused and goes on after resume, losing nothing', async () => {
    const server = await httpServer((_req, res) => {
      res.writeHead(200);
      let i = 0;
      const timer = setInterval(() => { res.write(`${i++}\n`); if (i === 200) { clearInterval(timer); res.end(); } }, 1);
    });
    try {
      const res = await streamedGet({ host: '127.0.0.1', port: server.port, path: '/', where: 'test' });
      let text = '';
      let calls = 0;
      let pausedCalls = -1;
      const reading = res.read((b, s, e) => {
        text += b.toString('latin1', s, e);
        if (++calls === 5) { res.pause(); pausedCalls = calls; }
      });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(calls, pausedCalls, 'no data while paused');
      res.resume();
      await reading;
      assert.equal(text, Array.from({ length: 200 }, (_, i) => `${i}\n`).join(''));
    } finally { await server.close(); }
  });

  it('resolves the read on destroy()', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'));
    try {
      const res = await streamedGet({ socketPath: server.path, path: '/', where: 'test' });
      const reading = res.read(() => res.destroy());
      await reading;
    } finally { await server.close(); }
  });
});

describe('streamedGet over TLS', () => {
  let certs: TestCerts;
  before(() => { certs = makeTestCerts(); });
  after(() => certs.remove());

  async function httpsServer(handler: http.RequestListener): Promise<{ port: number; close(): Promise<void> }> {
    const server = https.createServer({ key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) }, handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as net.AddressInfo).port,
      close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
  }
  const trusted = (): { secureContext: tls.SecureContext } => ({ secureContext: tls.createSecureContext({ ca: readFileSync(certs.caCert) }) });
  const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`);

  it('streams a chunked body, reusing one read buffer, and sends Host as for plain TCP', async () => {
    let host = '';
    const server = await httpsServer((req, res) => {
      host = req.headers.host ?? '';
      res.writeHead(200);
      for (const line of lines) res.write(line);
      res.end();
    });
    try {
      const res = await streamedGet({ host: '127.0.0.1', port: server.port, tls: trusted(), path: '/', where: 'test' });
      assert.equal(res.status, 200);
      const { text, buffers } = await readText(res);
      assert.equal(text, lines.join(''));
      assert.ok(buffers.size <= 2, `${buffers.size} buffers`);
      assert.equal(host, `127.0.0.1:${server.port}`);
    } finally { await server.close(); }
  });

  it('delivers nothing while paused, though TLS hands over what it already decrypted, and loses nothing', async () => {
    const server = await httpsServer((_req, res) => { res.writeHead(200); res.end(lines.join('')); });
    try {
      const res = await streamedGet({ host: '127.0.0.1', port: server.port, tls: trusted(), path: '/', where: 'test' });
      let text = '';
      let calls = 0;
      let pausedCalls = -1;
      const reading = res.read((b, s, e) => {
        text += b.toString('latin1', s, e);
        if (++calls === 1) { res.pause(); pausedCalls = calls; }
      });
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(calls, pausedCalls, 'no data while paused');
      res.resume();
      await reading;
      assert.equal(text, lines.join(''));
    } finally { await server.close(); }
  });

  it('rejects with E_HTTP_CONNECT and the TLS code when the engine\'s certificate is not trusted', async () => {
    const server = await httpsServer((_req, res) => res.end());
    try {
      const untrusted = { secureContext: tls.createSecureContext({ ca: readFileSync(certs.serverCert) }) };
      await rejectsHttp(streamedGet({ host: '127.0.0.1', port: server.port, tls: untrusted, path: '/', where: 'tcp://127.0.0.1/x' }),
        'E_HTTP_CONNECT', /^tcp:\/\/127\.0\.0\.1\/x: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/);
    } finally { await server.close(); }
  });
});
