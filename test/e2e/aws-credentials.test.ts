// AwsRole end to end (docs/vault-and-aws.md): the built executor, the agent double, real dockerd
// and the Vault double's AWS secrets engine (and the Sidecar double for the drain). The container
// gets the role's keys; the lease is renewed with AwsRoleTtl; a lease near its end stops the task
// (drained first) with TASK_FAILED naming it; the lease and the task's own token are revoked
// whatever ends the task. Every run logs at debug level and its whole output is grepped for
// every key, token and the password: the keys may appear in the container's env and nowhere else.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupAll, docker, inspect, startRun, type Run, type RunOptions } from './harness';
import { VaultDouble } from '../doubles/vault';
import type { AwsLease, AwsRoleOptions } from '../doubles/vault-aws';
import { SidecarDouble } from '../doubles/sidecar';

const tmp = mkdtempSync(join(tmpdir(), 'sce-aws-e2e-'));
after(async () => {
  await cleanupAll();
  rmSync(tmp, { recursive: true, force: true });
});

const HOST = 'agent-3.example.internal';
const LOOP_CLEAN_ON_TERM = 'sh -c "trap \'exit 0\' TERM; while true; do sleep 0.1; done"';
/** Leaves on SIGTERM as a process killed by it would: status 143, TASK_KILLED. */
const LOOP_KILLED_BY_TERM = 'sh -c "trap \'exit 143\' TERM; while true; do sleep 0.1; done"';

interface Fixture { vault: VaultDouble; password: string }

async function withVault(role: AwsRoleOptions, fn: (f: Fixture) => Promise<void>): Promise<void> {
  const vault = await VaultDouble.start();
  const password = `password-${randomBytes(9).toString('base64url')}`;
  vault.addUser('mesos-executor', password);
  vault.addAwsRole('web', role);
  try { await fn({ vault, password }); } finally { await vault.close(); }
}

function awsEnv(f: Fixture, extra: Record<string, string> = {}): Record<string, string> {
  return {
    EXECUTOR_DEBUG: 'true', EXECUTOR_AWS_ROLE: 'web', VAULT_ADDR: f.vault.addr, VAULT_MAX_RETRIES: '0',
    VAULT_USERNAME: 'mesos-executor', VAULT_PASSWORD: f.password, ...extra,
  };
}

function startAwsRun(label: string, f: Fixture, options: RunOptions & { cmd?: string }): Promise<Run> {
  return startRun(label, { ...options, task: { cmd: options.cmd ?? 'true', ...options.task }, env: awsEnv(f, options.env) });
}

/** No key, token, password nor lease id in the executor's output or any update; nothing even masked. */
function assertNoLeak(run: Run, f: Fixture): void {
  const output = run.executor.output;
  assert.ok(output.includes('level=debug'), 'the run logged at debug level');
  assert.ok(!output.includes('[REDACTED]'), `something logged a secret:\n${output.split('\n').filter((l) => l.includes('[REDACTED]')).join('\n')}`);
  const messages = run.agent.updates().map((s) => s.message ?? '').join('\n');
  const secrets = [...f.vault.awsSecrets, ...f.vault.issuedTokens, ...f.vault.awsLeases.map((l) => l.id), f.password];
  assert.ok(secrets.length >= 2);
  for (const s of secrets) {
    assert.ok(!output.includes(s), `a secret (${s.slice(0, 8)}...) appears in the executor's output`);
    assert.ok(!messages.includes(s), `a secret (${s.slice(0, 8)}...) appears in a status update`);
  }
}

/** The one lease, revoked with its own token (lease first), and that token never used for anything else. */
function assertReleased(f: Fixture): AwsLease {
  const [lease, ...others] = f.vault.awsLeases;
  assert.deepEqual(others, []);
  assert.equal(lease.ended, 'revoked');
  const ends = f.vault.calls.filter((c) => c.path === 'sys/leases/revoke' || c.path === 'auth/token/revoke-self');
  assert.deepEqual(ends.map((c) => [c.method, c.path, c.status, c.token === lease.token]), [
    ['PUT', 'sys/leases/revoke', 204, true], ['POST', 'auth/token/revoke-self', 204, true],
  ]);
  assert.deepEqual(ends[0].body, { lease_id: lease.id });
  assert.deepEqual(f.vault.revokedTokens, [lease.token]);
  return lease;
}

const containersNamed = (name: string): string => docker('ps', '-aq', '--filter', `name=^/${name}$`);

test('AwsRole with AwsRoleTtl: the container gets the keys, the lease is renewed to TTL + 360 s, lease and token revoked at the exit', () => withVault({ leaseSec: 3600 }, async (f) => {
  const tokenFile = join(tmp, 'token');
  const run = await startAwsRun('aws-finished', f, { env: { EXECUTOR_AWS_ROLE_TTL: '1h', VAULT_TOKEN_FILE: tokenFile } });
  try {
    assert.equal((await run.update('TASK_FINISHED')).message, 'Container exited with status 0');
    assert.equal(await run.executor.waitForExit(), 0);
    const lease = assertReleased(f);
    const env = inspect(run.containerName).Config.Env as string[];
    assert.ok(env.includes(`AWS_ACCESS_KEY_ID=${lease.accessKey}`));
    assert.ok(env.includes(`AWS_SECRET_ACCESS_KEY=${lease.secretKey}`));
    assert.deepEqual(f.vault.callsTo('auth/userpass/login/mesos-executor').map((c) => c.body), [{ password: f.password }]);
    assert.deepEqual(f.vault.callsTo('auth/token/renew').map((c) => c.body?.increment), [3600 + 600]);
    assert.deepEqual(f.vault.callsTo('sys/leases/renew').map((c) => [c.status, c.body?.lease_id === lease.id, c.body?.increment]), [[200, true, 3600 + 360]]);
    assert.equal(lease.ttlSec, 3960);
    assert.match(run.executor.output, /msg="Revoked the AWS credentials lease" role=web\n/);
    assert.match(run.executor.output, /msg="Revoked the AwsRole token" role=web\n/);
    assert.equal(existsSync(tokenFile), false, 'the AwsRole token is never cached in VAULT_TOKEN_FILE');
    assertNoLeak(run, f);
  } finally { await run.cleanup(); }
}));

test('the lease nearing its end stops the task as a KILL does (drained first): TASK_FAILED naming the lease, then revoked', () => withVault({ leaseSec: 368 }, async (f) => {
  const sidecar = await SidecarDouble.start({ hostname: HOST, checkIntervalMs: 60, discoveryIntervalMs: 20, restartUnhealthyMs: 60 });
  const run = await startAwsRun('aws-expiring', f, {
    cmd: LOOP_CLEAN_ON_TERM, task: { labels: { SidecarDiscover: 'true' } },
    agent: { hostname: HOST, frameworkCapabilities: [{ type: 'TASK_KILLING_STATE' }] },
    env: { EXECUTOR_SIDECAR_URL: sidecar.url, EXECUTOR_SIDECAR_BACKOFF: '30s', EXECUTOR_SIDECAR_DRAINING_DURATION: '1s', EXECUTOR_KILL_TASK_TIMEOUT: '2' },
  });
  try {
    await run.update('TASK_RUNNING');
    const runningAt = Date.now();
    const killing = await run.update('TASK_KILLING', 15_000);
    // 368 s of lease, stopped 360 s before its end: about 8 s after the credentials were read.
    assert.ok(Date.now() - runningAt > 5000, `stopped ${Date.now() - runningAt} ms after TASK_RUNNING`);
    assert.match(killing.message ?? '', /AWS credentials lease of role web nears its end/);
    const failed = await run.update('TASK_FAILED', 10_000);
    assert.match(failed.message ?? '', /^Stopped as its AWS credentials lease \(role web\) nears its end, for the scheduler to replace it with fresh credentials; container exited with status 0$/);
    assert.equal(failed.healthy, undefined);
    assert.equal(failed.reason, undefined);
    const id = String(inspect(run.containerName).Id).slice(0, 12);
    const drains = sidecar.callsTo('POST', '/api/services/');
    assert.deepEqual(drains.map((c) => c.path), [`/api/services/${id}/drain`]);
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FAILED']);
    assert.equal(await run.executor.waitForExit(), 0);
    assertReleased(f);
    assertNoLeak(run, f);
  } finally { await run.cleanup(); await sidecar.close(); }
}));

test('a KILL: TASK_KILLED, and the lease and the token are revoked', () => withVault({ leaseSec: 3600 }, async (f) => {
  const run = await startAwsRun('aws-killed', f, { cmd: LOOP_KILLED_BY_TERM });
  try {
    await run.update('TASK_RUNNING');
    assert.equal(f.vault.revokedTokens.length, 0, 'nothing revoked while the task runs');
    await run.agent.kill(run.taskId);
    await run.update('TASK_KILLED');
    assert.equal(await run.executor.waitForExit(), 0);
    assertReleased(f);
    assertNoLeak(run, f);
  } finally { await run.cleanup(); }
}));

test('the agent lost (no checkpointing): the container is stopped and the credentials revoked before the executor exits', () => withVault({ leaseSec: 3600 }, async (f) => {
  const run = await startAwsRun('aws-agent-lost', f, { cmd: LOOP_KILLED_BY_TERM, env: { MESOS_CHECKPOINT: '0' } });
  try {
    await run.update('TASK_RUNNING');
    await run.agent.dropConnection();
    assert.notEqual(await run.executor.waitForExit(15_000), 0);
    assert.equal(inspect(run.containerName).State.Running, false);
    assertReleased(f);
    assertNoLeak(run, f);
  } finally { await run.cleanup(); }
}));

test('a launch failing after the grant (the command cannot start): TASK_FAILED, no container, lease and token revoked', () => withVault({ leaseSec: 3600 }, async (f) => {
  const run = await startAwsRun('aws-start-fails', f, { cmd: '/no/such/binary' });
  try {
    const failed = await run.update('TASK_FAILED');
    assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.match(failed.message ?? '', /^Starting the container failed/);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.equal(containersNamed(run.containerName), '');
    assertReleased(f);
    assertNoLeak(run, f);
  } finally { await run.cleanup(); }
}));

test('an unknown role fails the launch naming it; no container, and the token is revoked', () => withVault({}, async (f) => {
  const run = await startAwsRun('aws-unknown-role', f, { env: { EXECUTOR_AWS_ROLE: 'no-such-role' } });
  try {
    const failed = await run.update('TASK_FAILED');
    assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.match(failed.message ?? '', /^Getting AWS credentials for role no-such-role failed: reading aws\/creds\/no-such-role: Vault refused \(HTTP 400: Role "no-such-role" not found\) at http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_FAILED']);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.equal(containersNamed(run.containerName), '');
    assert.deepEqual(f.vault.awsLeases, []);
    assert.equal(f.vault.revokedTokens.length, 1);
    assert.deepEqual(f.vault.tokens, []);
    assertNoLeak(run, f);
  } finally { await run.cleanup(); }
}));

test('without AwsRole, Vault is never asked and the task has no AWS keys', () => withVault({}, async (f) => {
  const run = await startAwsRun('aws-none', f, { env: { EXECUTOR_AWS_ROLE: '' } });
  try {
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(), 0);
    assert.deepEqual(f.vault.calls, []);
    assert.equal((inspect(run.containerName).Config.Env as string[]).some((e) => e.startsWith('AWS_')), false);
  } finally { await run.cleanup(); }
}));
