// The shared request module against real sockets: what every caller relies on when a request
// fails (docs/health-checks.md: a Sidecar outage must not grow the health monitor's state).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, request } from '../../src/http/http-request';

async function refusedUrl(): Promise<string> {
  // A port that was just free: listen, note it, close.
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/state.json`;
}

test('a long-lived signal keeps no listener after failed requests (refused, timed out)', async () => {
  const signal = new AbortController().signal;
  const url = await refusedUrl();
  for (let i = 0; i < 20; i++) {
    await assert.rejects(request({ url, signal, timeoutMs: 1000 }), (err: HttpError) => err.code === 'E_HTTP_CONNECT');
  }
  // A server that never answers: each request times out.
  const silent = http.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const slowUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    for (let i = 0; i < 3; i++) {
      await assert.rejects(request({ url: slowUrl, signal, timeoutMs: 20 }), (err: HttpError) => err.code === 'E_HTTP_TIMEOUT');
    }
  } finally {
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
  assert.equal(getEventListeners(signal, 'abort').length, 0);
});

test('a successful request removes its listener too; an aborted signal gets none', async () => {
  const server = http.createServer((_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const signal = new AbortController().signal;
    for (let i = 0; i < 5; i++) assert.equal((await request({ url, signal, timeoutMs: 1000 })).status, 200);
    assert.equal(getEventListeners(signal, 'abort').length, 0);
    const aborted = AbortSignal.abort();
    await assert.rejects(request({ url, signal: aborted }), (err: HttpError) => err.code === 'E_HTTP_ABORTED');
    assert.equal(getEventListeners(aborted, 'abort').length, 0);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
