import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { systemClock } from '../../src/clock';
import type { LogFrame } from '../../src/docker/engine-api';
import { memoryLogger } from '../../src/logging/logger';
import { SyslogRelay, type SyslogRelayOptions, type SyslogRelaySettings } from '../../src/relay/syslog-relay';
import { FakeLogEngine, SlowSocket, UdpListener } from './fake-log-engine';
import { retainedHeap } from './heap';

const CONTAINER = '0123456789abcdef0123456789abcdef';
const STARTUP = `sidecar-executor starting log pump for '0123456789ab'`;

function settings(overrides: Partial<SyslogRelaySettings> = {}): SyslogRelaySettings {
  return {
    syslogAddr: '127.0.0.1:514', logHostname: 'agent-1', sendDockerLabels: [],
    relaySyslogStartupOnly: false, relaySyslogStartupTimeMs: 60_000, containerLogsStdout: false,
    ...overrides,
  };
}

function relayFor(engine: FakeLogEngine, port: number, extra: Partial<SyslogRelayOptions> & { s?: Partial<SyslogRelaySettings> } = {}) {
  const logger = memoryLogger();
  const written: string[] = [];
  const { s, ...rest } = extra;
  const relay = new SyslogRelay({
    engine, containerId: CONTAINER, labels: {}, logger, clock: systemClock,
    settings: settings({ syslogAddr: `127.0.0.1:${port}`, ...s }),
    stdout: { write: (line) => written.push(String(line)) },
    ...rest,
  });
  return { relay, logger, written };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('one datagram per line, stdout and stderr, with level and labels', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  const { relay, logger } = relayFor(engine, listener.port, {
    labels: { ServiceName: 'beowulf', Other: 'x' }, s: { sendDockerLabels: ['ServiceName'] },
  });
  relay.start();
  engine.push('stdout', 'first line\nsecond ');
  engine.push('stderr', 'ERROR: disk full\r\n');
  engine.push('stdout', 'half\n');
  engine.push('stdout', 'error on stdout\n');
  await listener.waitFor(5);
  engine.end();
  await relay.done;

  const records = listener.records();
  assert.deepEqual(records.map((r) => r.Payload), [STARTUP, 'first line', 'ERROR: disk full', 'second half', 'error on stdout']);
  assert.deepEqual(records.map((r) => r.Level), ['info', 'info', 'error', 'info', 'info']);
  for (const r of records) {
    assert.equal(r.Hostname, 'agent-1');
    assert.equal(r.ServiceName, 'beowulf');
    assert.equal('Other' in r, false);
    assert.match(r.Timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  }
  assert.ok(listener.messages.every((m) => m.toString().endsWith('}\n')), 'each datagram ends with a newline, as logrus');
  // A complete stream costs one look at the log's last entry, no second read.
  assert.deepEqual(engine.calls, [
    { id: CONTAINER, options: { follow: true, stdout: true, stderr: true } },
    { id: CONTAINER, options: { follow: false, tail: 1 } },
  ]);
  assert.deepEqual(relay.stats(), { lines: 5, sent: 5, dropped: 0, sendErrors: 0, socketErrors: 0, queuedBytes: 0, peakQueuedBytes: relay.stats().peakQueuedBytes });
  assert.ok(logger.lines.some((l) => l.includes('Syslog log pump exited') && l.includes('reason="log stream ended"')));
  await listener.close();
});

test('the end of the stream ends the relay, flushing last lines without a newline', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  const { relay } = relayFor(engine, listener.port);
  relay.start();
  engine.push('stdout', 'out tail');
  engine.push('stderr', 'fatal error tail');
  engine.end();
  await relay.done;
  await listener.waitFor(3);
  const records = listener.records();
  assert.deepEqual(records.map((r) => [r.Payload, r.Level]), [[STARTUP, 'info'], ['out tail', 'info'], ['fatal error tail', 'error']]);
  await relay.stop(); // after the end: still fine
  await listener.close();
});

test('ContainerLogsStdout copies each record, with a newline, to stdout', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  const { relay, written } = relayFor(engine, listener.port, { s: { containerLogsStdout: true } });
  relay.start();
  engine.push('stdout', 'a\nb\n');
  engine.end();
  await relay.done;
  await listener.waitFor(3);
  assert.deepEqual(written, listener.messages.map((m) => m.toString()));
  assert.ok(written.every((w) => w.endsWith('\n') && JSON.parse(w)));
  await listener.close();
});

test('without ContainerLogsStdout nothing goes to stdout', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  const { relay, written } = relayFor(engine, listener.port);
  relay.start();
  engine.push('stdout', 'a\n');
  engine.end();
  await relay.done;
  assert.deepEqual(written, []);
  await listener.close();
});

test('RelaySyslogStartupOnly stops relaying after RelaySyslogStartupTime', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  const { relay, logger } = relayFor(engine, listener.port, { s: { relaySyslogStartupOnly: true, relaySyslogStartupTimeMs: 80 } });
  relay.start();
  engine.push('stdout', 'during startup\n');
  await listener.waitFor(2);
  await relay.done; // ends by itself, the stream still open
  assert.equal(engine.destroyed, true);
  engine.push('stdout', 'after startup\n');
  await sleep(30);
  assert.deepEqual(listener.records().map((r) => r.Payload), [STARTUP, 'during startup']);
  assert.ok(logger.lines.some((l) => l.includes('RelaySyslogStartupTime is over')));
  await listener.close();
});

test('stop() mid-stream ends the relay, flushes the partial line, and is idempotent', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  const { relay } = relayFor(engine, listener.port);
  relay.start();
  engine.push('stdout', 'whole\npartial');
  await listener.waitFor(2);
  await Promise.all([relay.stop(), relay.stop()]);
  await relay.stop();
  assert.equal(engine.destroyed, true);
  await listener.waitFor(3);
  assert.deepEqual(listener.records().map((r) => r.Payload), [STARTUP, 'whole', 'partial']);
  await listener.close();
});

test('stop() ends the relay even when destroying the stream does not wake the reader', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  engine.destroyDoesNotWake = true;
  const { relay } = relayFor(engine, listener.port);
  relay.start();
  engine.push('stdout', 'x\n');
  await listener.waitFor(2);
  await relay.stop();
  assert.equal(engine.destroyed, true);
  await listener.close();
});

test('stop() does not wait for an engine that never answers; the late stream is destroyed', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  engine.containerLogsHangs = true;
  const { relay } = relayFor(engine, listener.port);
  relay.start();
  await listener.waitFor(1);
  await relay.stop();
  assert.equal(engine.destroyed, false);
  engine.release();
  await sleep(10);
  assert.equal(engine.destroyed, true);
  await listener.close();
});

test('stop() before start() resolves, and start() afterwards does nothing', async () => {
  const engine = new FakeLogEngine();
  const { relay } = relayFor(engine, 9);
  await relay.stop();
  relay.start();
  await relay.done;
  assert.deepEqual(engine.calls, []);
});

test('a log stream that breaks while the container runs (an engine restart) is followed again: every line once, in order', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  const { relay, logger } = relayFor(engine, listener.port, { reattachBaseMs: 5 });
  relay.start();
  engine.push('stdout', 'one\ntwo\nunfini');
  await listener.waitFor(3);
  // The engine goes away: the stream breaks and inspections fail for a while.
  engine.inspectShouldFail = new Error('connect ECONNREFUSED /var/run/docker.sock');
  engine.fail(new Error('connection reset'));
  await sleep(40);
  assert.ok(engine.inspections.length >= 2, 'the container state is asked again while the engine is away');
  engine.logOnly('stdout', 'shed\n');
  engine.logOnly('stderr', 'while away\n');
  engine.inspectShouldFail = undefined;
  await listener.waitFor(5);
  engine.push('stdout', 'after\n');
  engine.end();
  await relay.done;
  await listener.waitFor(6);
  assert.deepEqual(listener.records().map((r) => r.Payload), [STARTUP, 'one', 'two', 'unfinished', 'while away', 'after']);
  assert.equal(engine.calls.filter((c) => c.options.follow).length, 2, 'one re-attach');
  assert.ok(logger.lines.some((l) => l.includes('lost the container log stream') && l.includes('connection reset')));
  assert.ok(logger.lines.some((l) => l.includes('follows the container logs again')));
  await listener.close();
});

test('a broken stream of an exited container relays the rest of its log and ends; an unreachable engine is retried until stop()', async () => {
  const listener = await UdpListener.open();
  const broken = new FakeLogEngine();
  const first = relayFor(broken, listener.port, { reattachBaseMs: 5 });
  first.relay.start();
  broken.push('stdout', 'before\nunfinished');
  await listener.waitFor(2);
  broken.running = false;
  broken.logOnly('stdout', ' line\nlast words\n');
  broken.fail(new Error('connection reset'));
  await first.relay.done;
  await listener.waitFor(4);
  assert.deepEqual(listener.records().slice(1).map((r) => r.Payload), ['before', 'unfinished line', 'last words']);

  const down = new FakeLogEngine();
  down.containerLogsShouldFail = new Error('engine unreachable');
  down.inspectShouldFail = new Error('engine unreachable');
  const second = relayFor(down, listener.port, { reattachBaseMs: 5 });
  second.relay.start();
  await sleep(50);
  assert.ok(second.logger.lines.some((l) => l.includes('could not follow the container logs') && l.includes('engine unreachable')));
  let ended = false;
  void second.relay.done.then(() => { ended = true; });
  await sleep(10);
  assert.equal(ended, false, 'still waiting for the engine');
  await second.relay.stop();
  assert.equal(ended, true);
  await listener.close();
});

test('UDP send errors (nobody listening: ECONNREFUSED) never stop the relay', async () => {
  const closed = await UdpListener.open();
  const port = closed.port;
  await closed.close();
  const engine = new FakeLogEngine();
  const { relay, written, logger } = relayFor(engine, port, { s: { containerLogsStdout: true }, dropWarningIntervalMs: 60_000 });
  relay.start();
  for (let i = 0; i < 50; i++) {
    engine.push('stdout', `line ${i}\n`);
    await sleep(1);
  }
  engine.end();
  await relay.done;
  const stats = relay.stats();
  assert.equal(written.length, 51, 'the stdout copy is complete');
  assert.equal(stats.sent + stats.sendErrors + stats.dropped, 51);
  assert.ok(stats.socketErrors > 0, 'the ICMP refusals surfaced as socket errors');
  const warnings = logger.lines.filter((l) => l.includes('losing log lines'));
  assert.ok(warnings.length >= 1 && warnings.length <= 2, `rate-limited warnings: ${warnings.length}`);
  assert.ok(warnings.some((l) => l.includes('ECONNREFUSED')));
});

test('an unusable SyslogAddr is a warning; the stdout copy still works', async () => {
  const engine = new FakeLogEngine();
  const { relay, written, logger } = relayFor(engine, 0, { s: { syslogAddr: 'not an address', containerLogsStdout: true } });
  relay.start();
  engine.push('stdout', 'kept\n');
  engine.end();
  await relay.done;
  assert.equal(written.length, 2);
  assert.equal(relay.stats().dropped, 2);
  assert.ok(logger.lines.some((l) => l.includes('cannot reach SyslogAddr')));
});

test('SyslogAddr may be a hostname or a bracketed IPv6 address', async (t) => {
  const { address, family } = await lookup('localhost');
  const byName = await UdpListener.open(family === 6 ? 'udp6' : 'udp4', address);
  const engine = new FakeLogEngine();
  const { relay } = relayFor(engine, 0, { s: { syslogAddr: `localhost:${byName.port}` } });
  relay.start();
  engine.push('stdout', 'by name\n');
  engine.end();
  await relay.done;
  await byName.waitFor(2);
  await byName.close();

  const v6 = await UdpListener.open('udp6').catch(() => undefined);
  if (!v6) return t.skip('no IPv6 loopback here');
  const engine6 = new FakeLogEngine();
  const six = relayFor(engine6, 0, { s: { syslogAddr: `[::1]:${v6.port}` } });
  six.relay.start();
  engine6.push('stdout', 'over v6\n');
  engine6.end();
  await six.relay.done;
  await v6.waitFor(2);
  assert.equal(v6.records()[1]?.Payload, 'over v6');
  await v6.close();
});

test('a flood is dropped and counted, not buffered: queued bytes stay under the cap', async (t) => {
  const listener = await UdpListener.open('udp4', '127.0.0.1', false);
  const engine = new FakeLogEngine();
  // Loopback never queues a send (the kernel takes each at once); a slow network does.
  const slow = new SlowSocket(32);
  const maxQueuedBytes = 64 * 1024;
  const totalBytes = 48 * 1024 * 1024;
  const line = 'flood '.repeat(16) + '\n'; // 97 bytes
  const frame = Buffer.from(line.repeat(Math.floor(32 * 1024 / line.length)));
  const frames = Math.ceil(totalBytes / frame.length);
  const heap: number[] = [];
  let peakRss = 0;
  engine.source = (async function* (): AsyncGenerator<LogFrame> {
    for (let i = 0; i < frames; i++) {
      yield { stream: i % 2 ? 'stderr' : 'stdout', data: frame };
      if (i % 256 === 0) heap.push(retainedHeap());
      if (i % 64 === 0) {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        await new Promise((r) => setImmediate(r)); // the socket gets a turn now and then
      }
    }
  })();
  const { relay, logger } = relayFor(engine, listener.port, { maxQueuedBytes, dropWarningIntervalMs: 200, createSocket: () => slow });
  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  relay.start();
  await relay.done;
  const elapsed = Date.now() - started;
  const stats = relay.stats();
  const linesPerFrame = frame.length / line.length;
  assert.equal(stats.lines, frames * linesPerFrame + 1);
  assert.equal(stats.sent + stats.dropped + stats.sendErrors, stats.lines);
  assert.ok(stats.dropped > 0, 'the flood was dropped, not queued');
  assert.ok(engine.pauses > 0, 'the log stream was paused while the send queue was full');
  assert.ok(slow.peakQueued <= maxQueuedBytes, `the socket held at most ${slow.peakQueued} B`);
  assert.ok(stats.peakQueuedBytes <= maxQueuedBytes, `peak queued ${stats.peakQueuedBytes}`);
  assert.equal(stats.queuedBytes, 0);
  const warnings = logger.lines.filter((l) => l.includes('losing log lines'));
  assert.ok(warnings.length >= 1 && warnings.length <= Math.ceil(elapsed / 200) + 2, `${warnings.length} warnings in ${elapsed} ms`);
  const mb = (bytes: number): number => bytes / 1048576;
  const retainedGrowth = mb(Math.max(...heap) - (heap[0] as number));
  t.diagnostic(`flood: ${mb(totalBytes)} MB in ${elapsed} ms, ${stats.lines} lines, sent ${stats.sent}, dropped ${stats.dropped}, `
    + `received ${listener.count}, peak queued ${stats.peakQueuedBytes} B, retained heap growth ${retainedGrowth.toFixed(2)} MB, `
    + `rss ${mb(rssBefore).toFixed(1)} -> peak ${mb(peakRss).toFixed(1)} MB (young-generation garbage)`);
  // Buffering the flood would retain tens of MB; bounded, what stays live is the queue cap and change.
  assert.ok(retainedGrowth < 4, `retained heap grew ${retainedGrowth.toFixed(2)} MB`);
  await listener.close();
});

test('many small frames over a long life accumulate nothing', async (t) => {
  const engine = new FakeLogEngine();
  const frames = 200_000;
  const heap: number[] = [];
  engine.source = (async function* (): AsyncGenerator<LogFrame> {
    const data = Buffer.from('tick\n');
    for (let i = 0; i < frames; i++) {
      yield { stream: 'stdout', data };
      if (i % 40_000 === 0) heap.push(retainedHeap());
    }
  })();
  const { relay } = relayFor(engine, 9, { s: { syslogAddr: 'not an address' } });
  relay.start();
  await relay.done;
  assert.equal(relay.stats().lines, frames + 1);
  // A per-frame leak (a reaction left on a long-lived promise was one) holds ~400 B a frame,
  // 60+ MB here; without one, the live heap stays flat.
  const growth = (Math.max(...heap) - (heap[0] as number)) / 1048576;
  t.diagnostic(`retained heap growth over ${frames} frames: ${growth.toFixed(2)} MB`);
  assert.ok(growth < 2, `retained heap grew ${growth.toFixed(2)} MB`);
});

/** Lines `tag 0` .. `tag n-1`, padded so a batch spans several 16 KiB slabs. */
function numberedLines(tag: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${tag} ${i} ${'x'.repeat(60)}`);
}

test('records built into a reused slab reach the listener intact (sends the kernel took at once)', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  const { relay } = relayFor(engine, listener.port);
  relay.start();
  const lines = numberedLines('sync', 1200);
  // In batches the listener's socket buffer holds (~250 small datagrams); each batch is ~20 KiB
  // of records, more than a slab, sent within one turn of the event loop.
  for (let at = 0; at < lines.length; at += 150) {
    engine.push('stdout', lines.slice(at, at + 150).join('\n') + '\n');
    await listener.waitFor(1 + at + 150);
  }
  engine.end();
  await relay.done;
  assert.deepEqual(listener.records().slice(1).map((r) => r.Payload), lines);
  await listener.close();
});

test('a slab is not reused while a datagram in it still waits in the send queue', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  // Queues every send and gives 8 a turn to the kernel: the queue spans slabs.
  const slow = new SlowSocket(8);
  const { relay } = relayFor(engine, listener.port, { createSocket: () => slow, maxQueuedBytes: 1024 * 1024 });
  relay.start();
  const lines = numberedLines('queued', 600);
  engine.push('stdout', lines.join('\n') + '\n');
  await listener.waitFor(601);
  engine.end();
  await relay.done;
  assert.ok(slow.peakQueued > 32 * 1024, `the queue held ${slow.peakQueued} B, more than a slab`);
  assert.deepEqual(listener.records().slice(1).map((r) => r.Payload), lines);
  await listener.close();
});

test('when Docker ends the follow stream early, the rest of the log is read again and relayed once, in order', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  const { relay, logger } = relayFor(engine, listener.port);
  relay.start();
  engine.push('stdout', 'one\n');
  engine.push('stderr', 'two error\n');
  await listener.waitFor(3);
  // Docker 20.10 with a lagging reader: the container exits and the stream ends, lines unsent.
  engine.logOnly('stdout', 'three\n');
  engine.logOnly('stderr', 'four error\n');
  engine.logOnly('stdout', 'five\n');
  engine.end();
  await relay.done;
  await listener.waitFor(6);
  const records = listener.records().slice(1);
  assert.deepEqual(records.map((r) => [r.Payload, r.Level]), [['one', 'info'], ['two error', 'error'], ['three', 'info'], ['four error', 'error'], ['five', 'info']]);
  assert.deepEqual(engine.calls.map((c) => c.options), [
    { follow: true, stdout: true, stderr: true }, { follow: false, tail: 1 }, { follow: false },
  ]);
  assert.ok(logger.lines.some((l) => l.includes('caught up') && l.includes('frames=3') && l.includes('before=2')), logger.lines.join('\n'));
  await listener.close();
});

test('a whole stream ending in a repeated line needs no second read', async () => {
  const listener = await UdpListener.open();
  const engine = new FakeLogEngine();
  const { relay } = relayFor(engine, listener.port);
  relay.start();
  for (const line of ['same\n', 'same\n']) engine.push('stdout', line);
  engine.end();
  await relay.done;
  await listener.waitFor(3);
  assert.deepEqual(listener.records().slice(1).map((r) => r.Payload), ['same', 'same']);
  assert.equal(engine.calls.length, 2, 'only the look at the last entry');
  await listener.close();
});
