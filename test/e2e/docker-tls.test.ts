// DOCKER_HOST=tcp:// with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (docs/docker-connection.md)
// against a REAL dockerd listening on 127.0.0.1 with --tlsverify, certificates made by openssl
// (test/support/test-certs.ts): the built executor runs a task over TLS, follows its log for the
// syslog relay and copies a failed task's output over TLS; without the client certificate the
// task fails with a line that says TLS, and a bad DOCKER_HOST or DOCKER_CERT_PATH stops the
// executor before it subscribes, with one line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import * as net from 'node:net';
import { PrivateDockerd } from '../support/private-dockerd';
import { clientDirWith, makeTestCerts, type TestCerts } from '../support/test-certs';
import { cleanupAll, requireDocker, startRun, TEST_IMAGE, type Run, type RunOptions } from './harness';

let certs: TestCerts;
let dockerd: PrivateDockerd;
let port = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as net.AddressInfo;
      server.close(() => resolve(free));
    });
  });
}

before(async () => {
  requireDocker();
  certs = makeTestCerts();
  port = await freePort();
  dockerd = await PrivateDockerd.start({
    extraArgs: ['--host', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', certs.caCert, '--tlscert', certs.serverCert, '--tlskey', certs.serverKey],
  });
  dockerd.loadImage(TEST_IMAGE);
});

after(async () => {
  await cleanupAll();
  await dockerd?.teardown();
  certs?.remove();
});

function tlsEnv(certPath = certs.clientDir): Record<string, string> {
  return { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath };
}

/** A task on the TLS engine (network NONE: its bridge is bare), cleaned up through its unix socket. */
function startTlsRun(label: string, options: RunOptions & { env: Record<string, string> }): Promise<Run> {
  return startRun(label, { ...options, task: { network: 'NONE', ...options.task }, docker: (...args) => dockerd.docker(...args) });
}

const STACK_TRACE = /\n\s+at .*\.js:\d+/;

test('a task runs to TASK_FINISHED over TLS, its log followed over TLS for the syslog relay', async () => {
  const udp = dgram.createSocket('udp4');
  const payloads: string[] = [];
  udp.on('message', (msg) => payloads.push(String((JSON.parse(msg.toString('utf8')) as { Payload: unknown }).Payload)));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const run = await startTlsRun('tls-finished', {
    task: { cmd: `sh -c 'for i in 1 2 3; do echo "over tls $i"; done'` },
    env: { ...tlsEnv(), EXECUTOR_RELAY_SYSLOG: 'true', EXECUTOR_SYSLOG_ADDR: `127.0.0.1:${(udp.address() as net.AddressInfo).port}` },
  });
  try {
    const finished = await run.update('TASK_FINISHED', 30_000);
    assert.equal(finished.message, 'Container exited with status 0');
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.equal(dockerd.inspect(run.containerName).State.ExitCode, 0, 'the container ran on the TLS engine');
    assert.match(run.executor.stdout, new RegExp(`msg="Docker engine" host=tcp://127\\.0\\.0\\.1:${port} tls=verified cert_path=${certs.clientDir} client_cert=${certs.clientDir}/cert\\.pem`));
    // The relay reached the end of the followed stream, over TLS.
    assert.deepEqual(payloads.filter((p) => p.startsWith('over tls')), ['over tls 1', 'over tls 2', 'over tls 3']);
    assert.match(run.executor.stdout, /msg="Syslog log pump exited".*reason="log stream ended"/);
    assert.doesNotMatch(run.executor.stdout, /level=warning msg="[^"]*(DOCKER_|\.pem|certificate)/, 'no TLS warning');
    assert.deepEqual(run.agent.rejectedCalls(), []);
  } finally {
    await run.cleanup();
    await new Promise<void>((resolve) => udp.close(() => resolve()));
  }
});

test('a failing task over TLS: TASK_FAILED, and its output copied into the sandbox logs over TLS', async () => {
  const run = await startTlsRun('tls-failed', {
    task: { cmd: `sh -c 'echo out-before-failure; echo err-before-failure >&2; exit 3'` },
    env: tlsEnv(),
  });
  try {
    const failed = await run.update('TASK_FAILED', 30_000);
    // Its last words, read over TLS too, end the message.
    assert.match(failed.message ?? '', /^Container exited with status 3; its last output:\n(err|out)-before-failure\n(out|err)-before-failure$/);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.match(run.executor.stdout, /out-before-failure/);
    assert.match(run.executor.stderr, /err-before-failure/);
    assert.doesNotMatch(run.executor.output, /Could not copy the container logs/);
  } finally { await run.cleanup(); }
});

test('without the client certificate the engine refuses the handshake: TASK_FAILED saying TLS, no stack trace', async (t) => {
  const run = await startTlsRun('tls-nocert', { task: { cmd: 'true' }, env: tlsEnv(clientDirWith(certs, 'ca.pem')) });
  try {
    const failed = await run.update('TASK_FAILED', 30_000);
    t.diagnostic(`TASK_FAILED message: ${failed.message}`);
    assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.match(failed.message ?? '', new RegExp(`^Pulling image ${TEST_IMAGE} failed: the Docker engine at tcp://127\\.0\\.0\\.1:${port} is unreachable \\(GET /images/.*\\): TLS failed: \\w+ \\(.*certificate.*; see DOCKER_CERT_PATH\\)$`));
    assert.match(run.executor.stdout, /level=warning msg="cert.pem and key.pem not in .*: no client certificate is sent to the Docker engine"/);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.doesNotMatch(run.executor.output, STACK_TRACE);
    assert.equal(dockerd.docker('ps', '-aq', '--filter', `name=^/${run.containerName}$`), '');
  } finally { await run.cleanup(); }
});

test('plain HTTP to the TLS port (DOCKER_TLS_VERIFY unset): TASK_FAILED with the engine\'s own words', async () => {
  const run = await startTlsRun('tls-plain', { task: { cmd: 'true' }, env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } });
  try {
    const failed = await run.update('TASK_FAILED', 30_000);
    assert.match(failed.message ?? '', /answered 400: Client sent an HTTP request to an HTTPS server/);
    assert.equal(await run.executor.waitForExit(), 0);
  } finally { await run.cleanup(); }
});

const badValues: [string, Record<string, string>, RegExp][] = [
  ['tcp//x', { DOCKER_HOST: 'tcp//x' }, /^sidecar-executor: DOCKER_HOST="tcp\/\/x" is not valid: expected unix:\/\/\/path\/to\/docker.sock or tcp:\/\/host:port\n$/],
  ['ftp://x', { DOCKER_HOST: 'ftp://x' }, /^sidecar-executor: DOCKER_HOST="ftp:\/\/x" is not valid: scheme "ftp" is not supported \(use unix:\/\/ or tcp:\/\/\)\n$/],
  ['a cert path that does not exist', { DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent/certs' },
    /^sidecar-executor: DOCKER_CERT_PATH="\/nonexistent\/certs" is not usable: \/nonexistent\/certs is not a directory\n$/],
  ['an API version that is none', { DOCKER_API_VERSION: 'latest' }, /^sidecar-executor: DOCKER_API_VERSION="latest" is not valid: expected a version such as 1\.41\n$/],
];
for (const [what, env, line] of badValues) {
  test(`${what}: the executor exits 1 with one line naming the variable, before subscribing`, async () => {
    const run = await startRun(`bad-docker-env`, { noLaunch: true, env });
    try {
      assert.equal(await run.executor.waitForExit(10_000), 1);
      assert.match(run.executor.stderr, line);
      assert.equal(run.executor.stdout, '');
      assert.deepEqual(run.agent.calls(), [], 'no call to the agent');
    } finally { await run.cleanup(); }
  });
}
