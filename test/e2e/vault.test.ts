// Vault end to end (docs/vault-and-aws.md): the built executor, the agent double, real dockerd and
// the Vault double. Every run has EXECUTOR_DEBUG=true, and every run's whole output (stdout and
// stderr) is grepped for every token, the password and every decrypted value: a secret may
// appear in the container's env and nowhere else.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupAll, docker, inspect, startRun, type Run, type RunOptions } from './harness';
import { VaultDouble, type VaultDoubleOptions } from '../doubles/vault';

const tmp = mkdtempSync(join(tmpdir(), 'sce-vault-e2e-'));
after(async () => {
  await cleanupAll();
  rmSync(tmp, { recursive: true, force: true });
});

/** A value no log line could contain by accident. */
const secret = (what: string): string => `${what}-${randomBytes(9).toString('base64url')}`;

/** The secrets of one test, and a Vault double holding them. */
interface Fixture {
  vault: VaultDouble;
  token: string;
  kv1: { value: string; password: string };
  kv2: { value: string; apikey: string };
  /** A key holding an object whose string inside must not leak either. */
  nested: string;
  /** Everything that must never appear in the executor's output. */
  secrets(): string[];
}

async function withVault(fn: (f: Fixture) => Promise<void>, options: VaultDoubleOptions = {}): Promise<void> {
  const vault = await VaultDouble.start(options);
  const token = secret('hvs.root');
  vault.addToken(token);
  const kv1 = { value: secret('kv1-value'), password: secret('kv1-password') };
  const kv2 = { value: secret('kv2-value'), apikey: secret('kv2-apikey') };
  const nested = secret('nested');
  vault.putKv1('secret/e2e/db', kv1);
  vault.putKv1('secret/e2e/odd', { number: 42, object: { inner: nested }, list: [nested] });
  vault.putKv2('kv', 'e2e/api', kv2);
  const f: Fixture = {
    vault, token, kv1, kv2, nested,
    // Tokens minted by logins during the test are in vault.tokens too.
    secrets: () => [...new Set([token, ...vault.issuedTokens, kv1.value, kv1.password, kv2.value, kv2.apikey, nested])],
  };
  try { await fn(f); } finally { await vault.close(); }
}

function vaultEnv(f: Fixture, extra: Record<string, string> = {}): Record<string, string> {
  return { EXECUTOR_DEBUG: 'true', VAULT_ADDR: f.vault.addr, VAULT_MAX_RETRIES: '0', ...extra };
}

/** The whole output of the executor and every update message carry none of the secrets. */
function assertNoLeak(run: Run, secrets: string[]): void {
  const output = run.executor.output;
  assert.ok(output.includes('level=debug'), 'the run logged at debug level');
  // Not even masked: nothing tried to log a secret (redaction is the last line of defence only).
  assert.ok(!output.includes('[REDACTED]'), `something logged a secret:\n${output.split('\n').filter((l) => l.includes('[REDACTED]')).join('\n')}`);
  const messages = run.agent.updates().map((s) => s.message ?? '').join('\n');
  for (const s of secrets) {
    assert.ok(!output.includes(s), `a secret (${s.slice(0, 8)}...) appears in the executor's output`);
    assert.ok(!messages.includes(s), `a secret (${s.slice(0, 8)}...) appears in a status update`);
  }
}

function containersNamed(name: string): string {
  return docker('ps', '-aq', '--filter', `name=^/${name}$`);
}

async function finishedEnv(label: string, options: RunOptions): Promise<{ run: Run; env: string[] }> {
  const run = await startRun(label, options);
  const finished = await run.update('TASK_FINISHED');
  assert.equal(finished.message, 'Container exited with status 0');
  assert.equal(await run.executor.waitForExit(), 0);
  return { run, env: inspect(run.containerName).Config.Env as string[] };
}

test('KV v1, KV v2 and ?key= secrets reach the container env, from docker env parameters and the executor env', () => withVault(async (f) => {
  const { run, env } = await finishedEnv('kv', {
    task: {
      cmd: 'true',
      executorEnv: { FROM_EXECUTOR: 'vault://secret/e2e/db?key=password' },
      env: { DB_VALUE: 'vault://secret/e2e/db', API_VALUE: 'vault://kv/data/e2e/api', API_KEY: 'vault://kv/data/e2e/api?key=apikey', PLAIN: 'not-a-secret' },
    },
    env: vaultEnv(f, { VAULT_TOKEN: f.token }),
  });
  try {
    for (const expected of [`FROM_EXECUTOR=${f.kv1.password}`, `DB_VALUE=${f.kv1.value}`, `API_VALUE=${f.kv2.value}`, `API_KEY=${f.kv2.apikey}`, 'PLAIN=not-a-secret']) {
      assert.ok(env.includes(expected), `container env has ${expected.split('=')[0]}`);
    }
    assert.equal(env.some((e) => e.includes('vault://')), false, 'no reference left unresolved');
    // Each path read once, with the token, and nothing else asked.
    const reads = f.vault.calls.map((c) => `${c.method} ${c.path} ${c.status}`).sort();
    assert.deepEqual(reads, ['GET kv/data/e2e/api 200', 'GET secret/e2e/db 200']);
    assert.ok(f.vault.calls.every((c) => c.token === f.token));
    assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    assertNoLeak(run, f.secrets());
  } finally { await run.cleanup(); }
}));

test('Vault is not contacted, nor the token file touched, when no value needs it', () => withVault(async (f) => {
  const tokenFile = join(tmp, 'untouched-token');
  const password = secret('password');
  f.vault.addUser('executor', password);
  const { run, env } = await finishedEnv('no-vault', {
    task: { cmd: 'true', env: { PLAIN: 'value', LOOKS_LIKE: 'http://vault/secret' } },
    env: vaultEnv(f, { VAULT_TOKEN_FILE: tokenFile, VAULT_USERNAME: 'executor', VAULT_PASSWORD: password }),
  });
  try {
    assert.ok(env.includes('PLAIN=value'));
    // A username that is a common word is not logged, nor blanked out of every other line.
    assert.doesNotMatch(run.executor.output, /VAULT_USERNAME/);
    assert.match(run.executor.output, /msg="Starting Sidecar Executor"/);
    assert.deepEqual(f.vault.calls, []);
    assert.equal(existsSync(tokenFile), false);
    assertNoLeak(run, [...f.secrets(), password]);
  } finally { await run.cleanup(); }
}));

test('TLS: VAULT_CACERT trusts the test CA; without it the launch fails on the certificate', () => withVault(async (f) => {
  const ok = await finishedEnv('tls', {
    task: { cmd: 'true', env: { DB_VALUE: 'vault://secret/e2e/db' } },
    env: vaultEnv(f, { VAULT_TOKEN: f.token, VAULT_CACERT: f.vault.caFile }),
  });
  try {
    assert.match(f.vault.addr, /^https:/);
    assert.ok(ok.env.includes(`DB_VALUE=${f.kv1.value}`));
    assertNoLeak(ok.run, f.secrets());
  } finally { await ok.run.cleanup(); }

  const bad = await startRun('tls-untrusted', {
    task: { cmd: 'true', env: { DB_VALUE: 'vault://secret/e2e/db' } },
    env: vaultEnv(f, { VAULT_TOKEN: f.token }),
  });
  try {
    const failed = await bad.update('TASK_FAILED');
    assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.match(failed.message ?? '', /DB_VALUE/);
    assert.match(failed.message ?? '', /secret\/e2e\/db/);
    assert.match(failed.message ?? '', /certif|CERT|TLS/i);
    assert.equal(containersNamed(bad.containerName), '');
    assertNoLeak(bad, f.secrets());
  } finally { await bad.cleanup(); }
}, { tls: true }));

test('VAULT_CLIENT_CERT and VAULT_CLIENT_KEY: a Vault requiring a client certificate serves the secrets', () => withVault(async (f) => {
  const { run, env } = await finishedEnv('client-cert', {
    task: { cmd: 'true', env: { DB_VALUE: 'vault://secret/e2e/db' } },
    env: vaultEnv(f, { VAULT_TOKEN: f.token, VAULT_CACERT: f.vault.caFile, VAULT_CLIENT_CERT: f.vault.certs.clientCertFile, VAULT_CLIENT_KEY: f.vault.certs.clientKeyFile }),
  });
  try {
    assert.ok(env.includes(`DB_VALUE=${f.kv1.value}`));
    assertNoLeak(run, f.secrets());
  } finally { await run.cleanup(); }
}, { tls: true, requireClientCert: true }));

// ---- failures: TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED, variable and path named, no value, no container

interface FailureCase {
  label: string;
  env: Record<string, string>;
  variable: string;
  path: string;
  /** What the message must also say about the cause. */
  cause: RegExp;
  /** VAULT_ADDR override (the unreachable case). */
  addr?: () => Promise<string>;
  token?: string;
  /** Vault must see no request at all (a malformed reference fails before any). */
  noCalls?: boolean;
}

/** A 127.0.0.1 port nobody listens on: bound, read, closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const failures: FailureCase[] = [
  { label: 'unreachable', env: { DB_VALUE: 'vault://secret/e2e/db' }, variable: 'DB_VALUE', path: 'secret/e2e/db', cause: /ECONNREFUSED|unreachable|connect/i,
    addr: async () => `http://127.0.0.1:${await closedPort()}` },
  { label: 'forbidden', env: { DB_VALUE: 'vault://secret/e2e/db' }, variable: 'DB_VALUE', path: 'secret/e2e/db', cause: /403|permission denied/, token: 'hvs.not-a-known-token-1234' },
  { label: 'missing-path', env: { GONE: 'vault://secret/e2e/missing' }, variable: 'GONE', path: 'secret/e2e/missing', cause: /404|not found|no secret/i },
  { label: 'missing-key', env: { DB_OTHER: 'vault://secret/e2e/db?key=nokey' }, variable: 'DB_OTHER', path: 'secret/e2e/db', cause: /nokey/ },
  { label: 'number', env: { NUM: 'vault://secret/e2e/odd?key=number' }, variable: 'NUM', path: 'secret/e2e/odd', cause: /not a string/ },
  { label: 'object', env: { OBJ: 'vault://secret/e2e/odd?key=object' }, variable: 'OBJ', path: 'secret/e2e/odd', cause: /not a string/ },
  { label: 'list', env: { LIST: 'vault://secret/e2e/odd?key=list' }, variable: 'LIST', path: 'secret/e2e/odd', cause: /not a string/ },
  { label: 'malformed', env: { BAD: 'vault://secret//e2e/db' }, variable: 'BAD', path: 'secret//e2e/db', cause: /malformed/, noCalls: true },
  { label: 'no-path', env: { EMPTY: 'vault://?key=value' }, variable: 'EMPTY', path: 'vault://?key=value', cause: /malformed.*no path/, noCalls: true },
];

for (const c of failures) {
  test(`failure (${c.label}): TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED, naming ${c.variable} and ${c.path}, no value, no container`, () => withVault(async (f) => {
    const addr = c.addr ? await c.addr() : f.vault.addr;
    // A good value after the bad one: resolving it must not put it anywhere either.
    const run = await startRun(`vault-${c.label}`, {
      task: { cmd: 'true', env: { ...c.env, GOOD: 'vault://kv/data/e2e/api' } },
      env: vaultEnv(f, { VAULT_ADDR: addr, VAULT_TOKEN: c.token ?? f.token }),
    });
    try {
      const failed = await run.update('TASK_FAILED');
      assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED', failed.message);
      const message = failed.message ?? '';
      assert.ok(message.includes(c.variable), `"${message}" names ${c.variable}`);
      assert.ok(message.includes(c.path), `"${message}" names ${c.path}`);
      assert.match(message, c.cause);
      assert.deepEqual(run.states(), ['TASK_STARTING', 'TASK_FAILED']);
      assert.equal(await run.executor.waitForExit(), 0);
      assert.equal(containersNamed(run.containerName), '', 'no container was created');
      if (c.noCalls) assert.deepEqual(f.vault.calls, []);
      assertNoLeak(run, [...f.secrets(), ...(c.token ? [c.token] : [])]);
      if (c.label === 'number') assert.doesNotMatch(message, /\b42\b/, 'the number value is not quoted');
    } finally { await run.cleanup(); }
  }));
}

// ---- the token file (VAULT_TOKEN_FILE) and userpass login

const TTL_SEC = 7200; // usable for TTL - 1 h = 3600 s

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

test('userpass login: the token is renewed to VAULT_TTL + 600 s and written to VAULT_TOKEN_FILE with mode 0600', () => withVault(async (f) => {
  const tokenFile = join(tmp, 'login-token');
  const password = secret('password');
  f.vault.addUser('mesos-executor', password);
  const { run, env } = await finishedEnv('login', {
    task: { cmd: 'true', env: { DB_VALUE: 'vault://secret/e2e/db' } },
    env: vaultEnv(f, { VAULT_TOKEN_FILE: tokenFile, VAULT_USERNAME: 'mesos-executor', VAULT_PASSWORD: password, VAULT_TTL: String(TTL_SEC) }),
  });
  try {
    assert.ok(env.includes(`DB_VALUE=${f.kv1.value}`));
    assert.equal(f.vault.loginCount, 1);
    const minted = readFileSync(tokenFile, 'utf8').trim();
    assert.ok(f.vault.tokens.includes(minted), 'the file holds the token the login returned');
    assert.equal(f.vault.tokenTtl(minted), TTL_SEC + 600);
    assert.equal(modeOf(tokenFile), 0o600);
    const login = f.vault.callsTo('auth/userpass/login/mesos-executor')[0];
    assert.deepEqual(login.body, { password }, 'no ttl in the login body: Vault ignores it');
    const renew = f.vault.callsTo('auth/token/renew');
    assert.deepEqual(renew.map((c) => [c.method, c.status, c.token === minted, c.body?.token === minted, c.body?.increment]), [['POST', 200, true, true, TTL_SEC + 600]]);
    assert.deepEqual(f.vault.callsTo('auth/token/lookup-self').map((c) => [c.status, c.token === minted]), [[200, true]]);
    assert.match(run.executor.output, /msg="Renewed the new Vault token" purpose="vault:\/\/ values" ttl=(7800|7799)s/);
    assert.doesNotMatch(run.executor.output, /shorter TTL/);
    assert.equal(f.vault.callsTo('secret/e2e/db')[0].token, minted);
    assertNoLeak(run, [...f.secrets(), password]);
  } finally { await run.cleanup(); }
}));

test('Vault granting less than VAULT_TTL + 600 s (its max TTL) is a warning, and the task runs', () => withVault(async (f) => {
  const password = secret('password');
  f.vault.addUser('mesos-executor', password);
  const { run, env } = await finishedEnv('token-capped', {
    task: { cmd: 'true', env: { DB_VALUE: 'vault://secret/e2e/db' } },
    env: vaultEnv(f, { VAULT_USERNAME: 'mesos-executor', VAULT_PASSWORD: password, VAULT_TTL: String(TTL_SEC) }),
  });
  try {
    assert.ok(env.includes(`DB_VALUE=${f.kv1.value}`));
    assert.deepEqual(f.vault.callsTo('auth/token/renew').map((c) => c.body?.increment), [TTL_SEC + 600]);
    const warning = run.executor.output.split('\n').find((l) => l.includes('shorter TTL than asked')) ?? '';
    assert.match(warning, /level=warning msg="Vault granted the new token a shorter TTL than asked" purpose="vault:\/\/ values" asked=7800s granted=35\d\ds/);
    assertNoLeak(run, [...f.secrets(), password]);
  } finally { await run.cleanup(); }
}, { tokenMaxTtlSec: 3600 }));

test('a young token file is re-used: checked with lookup-self, no login', () => withVault(async (f) => {
  const tokenFile = join(tmp, 'young-token');
  const cached = secret('hvs.cached');
  f.vault.addToken(cached);
  writeFileSync(tokenFile, cached, { mode: 0o600 });
  const password = secret('password');
  f.vault.addUser('mesos-executor', password);
  const { run, env } = await finishedEnv('token-reuse', {
    task: { cmd: 'true', env: { DB_VALUE: 'vault://secret/e2e/db' } },
    env: vaultEnv(f, { VAULT_TOKEN_FILE: tokenFile, VAULT_USERNAME: 'mesos-executor', VAULT_PASSWORD: password, VAULT_TTL: String(TTL_SEC) }),
  });
  try {
    assert.ok(env.includes(`DB_VALUE=${f.kv1.value}`));
    assert.equal(f.vault.loginCount, 0);
    assert.deepEqual(f.vault.calls.map((c) => [c.path, c.token]), [['auth/token/lookup-self', cached], ['secret/e2e/db', cached]]);
    assert.equal(readFileSync(tokenFile, 'utf8'), cached, 'the file is left as it was');
    assertNoLeak(run, [...f.secrets(), password]);
  } finally { await run.cleanup(); }
}));

test('an expired token file (mtime older than VAULT_TTL - 1 h) means a new login; the file is rewritten with mode 0600', () => withVault(async (f) => {
  const tokenFile = join(tmp, 'old-token');
  const old = secret('hvs.old');
  f.vault.addToken(old); // still valid in Vault: the age alone must trigger the login
  writeFileSync(tokenFile, old, { mode: 0o644 });
  const past = Date.now() / 1000 - (TTL_SEC - 3600) - 60;
  utimesSync(tokenFile, past, past);
  const password = secret('password');
  f.vault.addUser('mesos-executor', password);
  const { run, env } = await finishedEnv('token-expired', {
    task: { cmd: 'true', env: { DB_VALUE: 'vault://secret/e2e/db' } },
    env: vaultEnv(f, { VAULT_TOKEN_FILE: tokenFile, VAULT_USERNAME: 'mesos-executor', VAULT_PASSWORD: password, VAULT_TTL: String(TTL_SEC) }),
  });
  try {
    assert.ok(env.includes(`DB_VALUE=${f.kv1.value}`));
    assert.equal(f.vault.loginCount, 1);
    assert.equal(f.vault.callsTo('auth/token/lookup-self').filter((c) => c.token === old).length, 0, 'an expired file is not even checked');
    const fresh = readFileSync(tokenFile, 'utf8').trim();
    assert.notEqual(fresh, old);
    assert.ok(f.vault.tokens.includes(fresh));
    assert.equal(modeOf(tokenFile), 0o600);
    assert.ok(Date.now() - statSync(tokenFile).mtimeMs < 60_000, 'the mtime is the new login time');
    assert.equal(f.vault.callsTo('secret/e2e/db')[0].token, fresh);
    assertNoLeak(run, [...f.secrets(), password]);
  } finally { await run.cleanup(); }
}));

test('a token file Vault rejects (revoked) means a new login', () => withVault(async (f) => {
  const tokenFile = join(tmp, 'revoked-token');
  const revoked = secret('hvs.revoked');
  writeFileSync(tokenFile, revoked, { mode: 0o600 });
  const password = secret('password');
  f.vault.addUser('mesos-executor', password);
  const { run, env } = await finishedEnv('token-revoked', {
    task: { cmd: 'true', env: { DB_VALUE: 'vault://secret/e2e/db' } },
    env: vaultEnv(f, { VAULT_TOKEN_FILE: tokenFile, VAULT_USERNAME: 'mesos-executor', VAULT_PASSWORD: password, VAULT_TTL: String(TTL_SEC) }),
  });
  try {
    assert.ok(env.includes(`DB_VALUE=${f.kv1.value}`));
    assert.deepEqual(f.vault.callsTo('auth/token/lookup-self').filter((c) => c.token === revoked).map((c) => c.status), [403]);
    assert.equal(f.vault.loginCount, 1);
    assert.notEqual(readFileSync(tokenFile, 'utf8').trim(), revoked);
    assert.equal(modeOf(tokenFile), 0o600);
    assertNoLeak(run, [...f.secrets(), password, revoked]);
  } finally { await run.cleanup(); }
}));

test('a refused login fails the task naming the variable and the path, never the password', () => withVault(async (f) => {
  const password = secret('password');
  f.vault.addUser('mesos-executor', secret('other-password'));
  const run = await startRun('login-refused', {
    task: { cmd: 'true', env: { DB_VALUE: 'vault://secret/e2e/db' } },
    env: vaultEnv(f, { VAULT_USERNAME: 'mesos-executor', VAULT_PASSWORD: password }),
  });
  try {
    const failed = await run.update('TASK_FAILED');
    assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.match(failed.message ?? '', /DB_VALUE/);
    assert.match(failed.message ?? '', /secret\/e2e\/db/);
    assert.match(failed.message ?? '', /login/);
    assert.equal(containersNamed(run.containerName), '');
    assertNoLeak(run, [...f.secrets(), password]);
  } finally { await run.cleanup(); }
}));

test('a failing container that prints a Vault secret: its last words in TASK_FAILED carry [REDACTED], never the value', () => withVault(async (f) => {
  const run = await startRun('vault-last-words', {
    task: { cmd: 'sh -c "echo connecting with password $DB_PASSWORD; exit 2"', env: { DB_PASSWORD: 'vault://secret/e2e/db?key=password' } },
    env: vaultEnv(f, { VAULT_TOKEN: f.token }),
  });
  try {
    const failed = await run.update('TASK_FAILED');
    assert.equal(failed.message, 'Container exited with status 2; its last output:\nconnecting with password [REDACTED]');
    // The container's own output is copied to the sandbox as it is (docs/status-updates.md); no
    // update carries it.
    const messages = run.agent.updates().map((s) => s.message ?? '').join('\n');
    for (const s of f.secrets()) assert.ok(!messages.includes(s), `a secret (${s.slice(0, 8)}...) appears in a status update`);
  } finally { await run.cleanup(); }
}));
