// The syslog relay end to end (docs/log-relay.md): the built executor and real dockerd, with a real
// UDP listener on 127.0.0.1 standing in for syslog. Each container output line must arrive as one
// datagram holding one JSON record; the relay must end with the container.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { cleanupAll, startRun } from './harness';

after(cleanupAll);

interface Datagram { raw: string; record: Record<string, unknown>; at: number }

/** A syslog stand-in: every datagram kept, raw and parsed. */
class UdpListener {
  readonly received: Datagram[] = [];
  readonly #socket = dgram.createSocket('udp4');
  #waiters: (() => void)[] = [];

  static async start(): Promise<UdpListener> {
    const listener = new UdpListener();
    listener.#socket.on('message', (msg) => {
      const raw = msg.toString('utf8');
      listener.received.push({ raw, record: JSON.parse(raw) as Record<string, unknown>, at: Date.now() });
      for (const wake of listener.#waiters.splice(0)) wake();
    });
    await new Promise<void>((resolve) => listener.#socket.bind(0, '127.0.0.1', resolve));
    // The default buffer (rmem_default, ~208 KiB of kernel accounting, ~1 KiB per datagram)
    // overflows on a burst while this process is busy; the kernel caps it at rmem_max.
    listener.#socket.setRecvBufferSize(8 * 1024 * 1024);
    return listener;
  }

  get addr(): string { return `127.0.0.1:${(this.#socket.address() as AddressInfo).port}`; }

  payloads(): string[] { return this.received.map((d) => String(d.record.Payload)); }

  /** Records whose Payload is a container line (not the relay's own start record). */
  containerRecords(): Record<string, unknown>[] {
    return this.received.map((d) => d.record).filter((r) => !String(r.Payload).startsWith('sidecar-executor starting log pump'));
  }

  async waitFor(predicate: () => boolean, timeoutMs = 10_000, context = ''): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`UDP listener: condition not met within ${timeoutMs} ms; got ${JSON.stringify(this.payloads())} ${context}`);
      await new Promise<void>((resolve) => { this.#waiters.push(resolve); setTimeout(resolve, 100); });
    }
  }

  close(): Promise<void> { return new Promise((resolve) => this.#socket.close(() => resolve())); }
}

async function withListener(fn: (udp: UdpListener) => Promise<void>): Promise<void> {
  const udp = await UdpListener.start();
  try { await fn(udp); } finally { await udp.close(); }
}

function relayEnv(udp: UdpListener, extra: Record<string, string> = {}): Record<string, string> {
  return { EXECUTOR_RELAY_SYSLOG: 'true', EXECUTOR_SYSLOG_ADDR: udp.addr, EXECUTOR_LOG_HOSTNAME: 'relay-host.example', ...extra };
}

/** The relay's last words, for failure messages. */
function pumpLine(output: string): string {
  return /msg="Syslog log pump exited".*/.exec(output)?.[0] ?? 'no "Syslog log pump exited" line';
}

// Go's time.RFC3339: whole seconds, then Z or a numeric offset.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/;

test('each line is one datagram: Timestamp, Level, Payload, Hostname and the present labels named in SendDockerLabels', () => withListener(async (udp) => {
  const before = Math.floor(Date.now() / 1000) * 1000;
  const run = await startRun('relay-fields', {
    task: {
      // stdout and stderr interleave in any order across streams, so each line is unique.
      cmd: `sh -c 'echo out one; echo "an ERROR happened" >&2; echo "Error: mixed case" >&2; echo plain stderr >&2; echo error on stdout; printf "no newline at the end"'`,
      labels: { ServiceName: 'web', EnvironmentName: 'test', Unsent: 'x' },
    },
    env: relayEnv(udp, { EXECUTOR_SEND_DOCKER_LABELS: 'ServiceName,EnvironmentName,MissingLabel' }),
  });
  try {
    const finished = await run.update('TASK_FINISHED');
    assert.equal(finished.message, 'Container exited with status 0');
    assert.equal(await run.executor.waitForExit(), 0);
    const expected: Record<string, string> = {
      'out one': 'info', 'an ERROR happened': 'error', 'Error: mixed case': 'error', 'plain stderr': 'info',
      'error on stdout': 'info', 'no newline at the end': 'info',
    };
    await udp.waitFor(() => udp.containerRecords().length >= Object.keys(expected).length, 10_000, pumpLine(run.executor.output));
    const records = udp.containerRecords();
    // One datagram per line: each line exactly once, nothing else.
    assert.deepEqual(records.map((r) => r.Payload).sort(), Object.keys(expected).sort());
    for (const r of records) {
      assert.deepEqual(Object.keys(r).sort(), ['EnvironmentName', 'Hostname', 'Level', 'Payload', 'ServiceName', 'Timestamp']);
      assert.equal(r.Level, expected[r.Payload as string], `level of "${r.Payload}"`);
      assert.equal(r.Hostname, 'relay-host.example');
      assert.equal(r.ServiceName, 'web');
      assert.equal(r.EnvironmentName, 'test');
      assert.match(r.Timestamp as string, RFC3339);
      const at = Date.parse(r.Timestamp as string);
      assert.ok(at >= before && at <= Date.now(), `Timestamp ${r.Timestamp} is the relay time`);
    }
    // Each datagram is exactly one JSON record (and a newline, as the Go UDP hook sent it).
    for (const d of udp.received) assert.match(d.raw, /^\{[^\n]*\}\n$/);
    // The Go original's announcement record comes first.
    assert.match(String(udp.received[0].record.Payload), /^sidecar-executor starting log pump for '[0-9a-f]{12}'$/);
    // The relay ended with the stream, not cut off by the container's exit.
    assert.match(run.executor.output, /msg="Syslog log pump exited".*reason="log stream ended"/);
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    // ContainerLogsStdout is off: the records are not on the executor's stdout.
    assert.doesNotMatch(run.executor.stdout, /"Payload":"out one"/);
  } finally { await run.cleanup(); }
}));

test('a container that prints many lines and exits at once: every line is relayed before the relay ends', () => withListener(async (udp) => {
  const count = 2000;
  const run = await startRun('relay-burst', { task: { cmd: `seq 1 ${count}` }, env: relayEnv(udp) });
  try {
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(), 0);
    await udp.waitFor(() => udp.containerRecords().length >= count, 5000).catch(() => undefined);
    const payloads = udp.containerRecords().map((r) => Number(r.Payload));
    const pump = pumpLine(run.executor.output);
    // The relay read and sent every line (it drops only when its send queue is full)...
    assert.match(pump, /reason="log stream ended".* lines=2001 sent=2001 dropped=0/);
    // ...and on loopback, into a large receive buffer, all of them arrive, in order.
    assert.equal(payloads.length, count, `received ${payloads.length} of ${count}; ${pump}`);
    assert.deepEqual(payloads, Array.from({ length: count }, (_, i) => i + 1));
  } finally { await run.cleanup(); }
}));

test('a flood printed just before the container exits is relayed to its last line, without holding back TASK_FINISHED', async () => {
  // Counted, not kept: 100k parsed records would weigh on this process more than the executor.
  const socket = dgram.createSocket('udp4');
  let count = 0;
  let lastPayload = '';
  let lastAt = 0;
  socket.on('message', (msg) => { count++; lastAt = Date.now(); lastPayload = msg.toString('latin1'); });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(8 * 1024 * 1024);
  // Seconds of relaying on a busy test machine, well within RELAY_DRAIN_MS.
  const lines = 100_000;
  const addr = `127.0.0.1:${(socket.address() as AddressInfo).port}`;
  const run = await startRun('relay-flood-exit', { task: { cmd: `seq 1 ${lines}` }, env: { EXECUTOR_RELAY_SYSLOG: 'true', EXECUTOR_SYSLOG_ADDR: addr } });
  try {
    await run.update('TASK_FINISHED', 30_000);
    const finishedAt = Date.now();
    assert.equal(await run.executor.waitForExit(20_000), 0);
    const pump = pumpLine(run.executor.output);
    assert.match(pump, new RegExp(`reason="log stream ended".* lines=${lines + 1} sent=${lines + 1} dropped=0`));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(count, lines + 1, `received ${count} datagrams; ${pump}`);
    assert.equal((JSON.parse(lastPayload) as { Payload: string }).Payload, String(lines));
    // The relay was still sending when the terminal update went out (a flood takes it seconds).
    assert.ok(lastAt > finishedAt, `last datagram ${lastAt - finishedAt} ms after TASK_FINISHED`);
  } finally {
    await run.cleanup();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
});

test('a line longer than one datagram allows is split into several records, not dropped', () => withListener(async (udp) => {
  const run = await startRun('relay-long', {
    task: { cmd: `sh -c 'head -c 20000 /dev/zero | tr "\\\\0" a; echo; echo after'` },
    env: relayEnv(udp),
  });
  try {
    await run.update('TASK_FINISHED');
    await udp.waitFor(() => udp.payloads().includes('after'));
    const pieces = udp.containerRecords().map((r) => String(r.Payload)).filter((p) => p !== 'after');
    assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
    assert.equal(pieces.join(''), 'a'.repeat(20000));
    for (const d of udp.received) assert.ok(Buffer.byteLength(d.raw) <= 8192, `datagram of ${Buffer.byteLength(d.raw)} bytes`);
  } finally { await run.cleanup(); }
}));

test('RelaySyslogStartupOnly: lines after RelaySyslogStartupTime are not relayed; the task runs on', () => withListener(async (udp) => {
  const run = await startRun('relay-startup', {
    task: { cmd: `sh -c 'echo early line; sleep 2; echo late line; sleep 0.3'` },
    env: { ...relayEnv(udp, { EXECUTOR_RELAY_SYSLOG_STARTUP_ONLY: 'true', EXECUTOR_RELAY_SYSLOG_STARTUP_TIME: '700ms' }), EXECUTOR_RELAY_SYSLOG: 'false' },
  });
  try {
    await udp.waitFor(() => udp.payloads().includes('early line'));
    const finished = await run.update('TASK_FINISHED');
    assert.equal(finished.message, 'Container exited with status 0');
    assert.equal(await run.executor.waitForExit(), 0);
    // Give a stray late datagram time to arrive before concluding it never will.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(udp.containerRecords().map((r) => r.Payload), ['early line']);
    assert.match(run.executor.output, /msg="Syslog log pump exited".*reason="RelaySyslogStartupTime is over"/);
  } finally { await run.cleanup(); }
}));

test('ContainerLogsStdout: the same JSON records are written to the executor stdout', () => withListener(async (udp) => {
  const run = await startRun('relay-stdout', {
    task: { cmd: `sh -c 'echo to stdout 1; echo "stderr error line" >&2'`, labels: { ServiceName: 'web' } },
    env: relayEnv(udp, { EXECUTOR_CONTAINER_LOGS_STDOUT: 'true', EXECUTOR_SEND_DOCKER_LABELS: 'ServiceName' }),
  });
  try {
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(), 0);
    await udp.waitFor(() => udp.containerRecords().length >= 2);
    const onStdout = run.executor.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const sent = udp.received.map((d) => d.raw.trimEnd()).sort();
    assert.deepEqual(run.executor.stdout.split('\n').filter((l) => l.startsWith('{')).sort(), sent, 'stdout holds exactly the datagrams');
    const byPayload = new Map(onStdout.map((r) => [r.Payload, r]));
    assert.equal(byPayload.get('to stdout 1')?.Level, 'info');
    assert.equal(byPayload.get('stderr error line')?.Level, 'error');
    assert.equal(byPayload.get('to stdout 1')?.ServiceName, 'web');
    assert.equal(byPayload.get('to stdout 1')?.Hostname, 'relay-host.example');
    // The copies are JSON records, not the raw lines (exit 0: no failure-log copy either).
    assert.doesNotMatch(run.executor.stdout, /^to stdout 1$/m);
    assert.doesNotMatch(run.executor.stderr, /"Payload"/);
  } finally { await run.cleanup(); }
}));

test('a KILLed long-running container: the relay ends with it and the executor exits 0', () => withListener(async (udp) => {
  const run = await startRun('relay-kill', {
    task: { cmd: `sh -c 'trap "echo got TERM; exit 0" TERM; echo started; while true; do sleep 0.1; done'` },
    env: relayEnv(udp),
  });
  try {
    await run.update('TASK_RUNNING');
    await udp.waitFor(() => udp.payloads().includes('started'));
    await run.agent.kill(run.taskId);
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(10_000), 0);
    await udp.waitFor(() => udp.payloads().includes('got TERM'), 3000);
    assert.match(run.executor.output, /msg="Syslog log pump exited"/);
  } finally { await run.cleanup(); }
}));

test('SyslogAddr with nobody listening: the task still runs to TASK_FINISHED', async () => {
  const udp = await UdpListener.start();
  const addr = udp.addr;
  await udp.close();
  const run = await startRun('relay-refused', {
    task: { cmd: `sh -c 'for i in 1 2 3 4 5; do echo line $i; sleep 0.05; done'` },
    env: { EXECUTOR_RELAY_SYSLOG: 'true', EXECUTOR_SYSLOG_ADDR: addr },
  });
  try {
    const finished = await run.update('TASK_FINISHED');
    assert.equal(finished.message, 'Container exited with status 0');
    assert.equal(await run.executor.waitForExit(), 0);
    assert.match(run.executor.output, /msg="Syslog log pump exited"/);
  } finally { await run.cleanup(); }
});
