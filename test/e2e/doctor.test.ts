// `sidecar-executor doctor` end to end: the built executor, run as an operator would run it on an
// agent, against the real dockerd, the Sidecar double and the Vault double. Every run must end
// within 10 s, print no stack trace, and carry none of the secrets it was given (the Vault token,
// the userpass password, the registry password of DOCKER_CONFIG's config.json).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, EXECUTOR, ExecutorProcess, requireDocker } from './harness';
import { SidecarDouble, UNKNOWN } from '../doubles/sidecar';
import { VaultDouble } from '../doubles/vault';

const TASK_HOST = 'doctor-e2e-agent';
const TOKEN = 'hvs.doctor-e2e-token-3c4d5e6f7a8b';
const PASSWORD = 'doctor-e2e-password-9a8b7c6d';
const REGISTRY_PASSWORD = 'doctor-e2e-registry-password-1f2e3d';
const SECRETS = [TOKEN, PASSWORD, REGISTRY_PASSWORD];
const tmp = mkdtempSync(join(tmpdir(), 'sce-doctor-e2e-'));
const outputs: string[] = [];
let sidecar: SidecarDouble;
let vault: VaultDouble;
const dockerConfig = join(tmp, 'docker-config');

before(async () => {
  requireDocker();
  sidecar = await SidecarDouble.start({ hostname: TASK_HOST, dockerSocket: null, discoveryIntervalMs: 5, checkIntervalMs: 10 });
  sidecar.addStaticService('aabbccddeeff');
  await sidecar.untilStatus('aabbccddeeff', UNKNOWN, 3000);
  vault = await VaultDouble.start();
  vault.addToken(TOKEN);
  vault.addUser('deployer', PASSWORD);
  mkdirSync(dockerConfig);
  const auth = Buffer.from(`deployer:${REGISTRY_PASSWORD}`).toString('base64');
  writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth, email: 'ops@example.com' } } }));
});

after(async () => {
  await sidecar.close();
  await vault.close();
  rmSync(tmp, { recursive: true, force: true });
});

function goodEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { DOCKER_CONFIG: dockerConfig, EXECUTOR_SIDECAR_URL: sidecar.url, TASK_HOST, VAULT_ADDR: vault.addr, VAULT_TOKEN: TOKEN, ...extra };
}

interface Doctor { code: number | null; output: string; line(check: string): string }

function result(code: number | null, output: string, ms: number): Doctor {
  outputs.push(output);
  assert.ok(ms < 10_000, `doctor took ${ms} ms`);
  assert.doesNotMatch(output, /\n\s+at .*\.js:\d+/, 'no stack trace');
  const lines = output.split('\n');
  return { code, output, line: (check) => lines.find((l) => l.slice(6).startsWith(`${check} `)) ?? `(no ${check} line in)\n${output}` };
}

/** The bundle itself, as an operator (or bin/sidecar-executor) runs it: its shebang's flags apply. */
async function doctor(env: Record<string, string>): Promise<Doctor> {
  const started = Date.now();
  const run = new ExecutorProcess(env, ['doctor']);
  const code = await run.waitForExit(15_000);
  return result(code, run.output, Date.now() - started);
}

test('all good: exit 0, an ok line for every check, against the real engine', async () => {
  const r = await doctor(goodEnv());
  assert.equal(r.code, 0, r.output);
  const version = docker('version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}})');
  assert.equal(r.line('docker'), `ok    docker      engine ${version} at unix:///var/run/docker.sock`);
  assert.match(r.line('settings'), /^ok {4}settings {4}29 parsed; set: EXECUTOR_SIDECAR_URL, EXECUTOR_SHELL_COMMAND_QUOTING$/);
  assert.match(r.line('node'), /^ok {4}node {8}v2\d\.\d+\.\d+, memory flags in effect \(--max-semi-space-size=1 .*MALLOC_MMAP_THRESHOLD_=32768\)$/);
  assert.equal(r.line('registry'), `ok    registry    credentials for https://index.docker.io/v1/: entry "https://index.docker.io/v1/" of ${dockerConfig}/config.json`);
  assert.equal(r.line('sidecar'), `ok    sidecar     reachable at ${sidecar.url}, host "${TASK_HOST}" listed with 1 service(s)`);
  assert.match(r.line('vault'), new RegExp(`^ok {4}vault {7}VAULT_TOKEN accepted at ${vault.addr} \\(ttl \\d+h`));
  assert.equal(r.line('syslog'), 'ok    syslog      relaying is off (RelaySyslog and RelaySyslogStartupOnly are false)');
  assert.equal(r.output.trim().split('\n').length, 7, r.output);
});

test('run as `node dist/sidecar-executor.js doctor`: a warning that the memory flags are not in effect', async () => {
  const started = Date.now();
  // Not spawnSync: the doubles answer from this process's event loop.
  const child = spawn(process.execPath, [EXECUTOR, 'doctor'], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...goodEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const r = result(code, output, Date.now() - started);
  assert.equal(r.code, 0, r.output);
  assert.match(r.line('node'), /^warn {2}node {8}v\S+, without --max-semi-space-size=1 --no-sparkplug --single-threaded MALLOC_MMAP_THRESHOLD_=32768: run the file itself/);
});

test('Docker unreachable: one FAIL line saying why, exit 1, no stack trace', async () => {
  const r = await doctor(goodEnv({ DOCKER_HOST: 'unix:///nonexistent.sock' }));
  assert.equal(r.code, 1);
  assert.equal(r.line('docker'), 'FAIL  docker      the Docker engine at unix:///nonexistent.sock is unreachable (GET /version): ENOENT (no socket: is dockerd running?)');
  assert.match(r.line('sidecar'), /^ok /, 'the other checks still report');
});

test('Sidecar down: FAIL; Sidecar up without our host: a warning (exit 0)', async () => {
  const gone = await SidecarDouble.start({ hostname: TASK_HOST, dockerSocket: null });
  const url = gone.url;
  await gone.close();
  const down = await doctor(goodEnv({ EXECUTOR_SIDECAR_URL: url }));
  assert.equal(down.code, 1);
  assert.match(down.line('sidecar'), /^FAIL {2}sidecar {5}Sidecar unreachable: .*ECONNREFUSED: the executor would count every health check as healthy/);
  const elsewhere = await doctor(goodEnv({ TASK_HOST: 'another-agent' }));
  assert.equal(elsewhere.code, 0, elsewhere.output);
  assert.match(elsewhere.line('sidecar'), new RegExp(`^warn {2}sidecar {5}reachable at .*, but host "another-agent" \\(TASK_HOST\\) is not in its state \\(it lists "${TASK_HOST}"`));
});

test('Vault down: FAIL; Vault with a bad token: FAIL', async () => {
  const gone = await VaultDouble.start();
  const addr = gone.addr;
  await gone.close();
  const down = await doctor(goodEnv({ VAULT_ADDR: addr }));
  assert.equal(down.code, 1);
  assert.match(down.line('vault'), /^FAIL {2}vault {7}looking up VAULT_TOKEN: Vault at .* unreachable after 1 attempt\(s\): ECONNREFUSED/);
  const bad = await doctor(goodEnv({ VAULT_TOKEN: 'hvs.revoked-long-ago-0000' }));
  assert.equal(bad.code, 1);
  assert.match(bad.line('vault'), /^FAIL {2}vault {7}looking up VAULT_TOKEN: Vault refused \(HTTP 403: permission denied\)/);
  assert.doesNotMatch(bad.output, /revoked-long-ago/);
});

test('Vault userpass: the login works, its token is revoked, VAULT_TOKEN_FILE is not written', async () => {
  const tokenFile = join(tmp, 'vault-token');
  const loginsBefore = vault.loginCount;
  const r = await doctor(goodEnv({ VAULT_TOKEN: '', VAULT_TOKEN_FILE: tokenFile, VAULT_USERNAME: 'deployer', VAULT_PASSWORD: PASSWORD }));
  assert.equal(r.code, 0, r.output);
  assert.match(r.line('vault'), /^ok {4}vault {7}userpass login works at /);
  assert.equal(vault.loginCount, loginsBefore + 1);
  const made = vault.issuedTokens.at(-1)!;
  assert.ok(vault.revokedTokens.includes(made), 'the token made for the check is revoked');
  assert.equal(existsSync(tokenFile), false);
  SECRETS.push(made);
});

test('two bad settings: both reported, each naming its variable and value', async () => {
  const r = await doctor(goodEnv({ EXECUTOR_SIDECAR_POLL_INTERVAL: 'often', DEBUG: 'yes' }));
  assert.equal(r.code, 1);
  assert.match(r.output, /^FAIL {2}settings {4}EXECUTOR_SIDECAR_POLL_INTERVAL="often" is not valid: expected a Go duration/m);
  assert.match(r.output, /^FAIL {2}settings {4}DEBUG="yes" is not valid: expected true or false/m);
});

test('--help lists the command', async () => {
  const help = new ExecutorProcess({}, ['--help']);
  assert.equal(await help.waitForExit(), 0);
  assert.match(help.stdout, /^ {2}sidecar-executor doctor {13}check this host/m);
});

test('no secret in any output: the Vault token, the password, the registry password', () => {
  assert.ok(outputs.length >= 9, `${outputs.length} runs`);
  for (const output of outputs) for (const secret of SECRETS) assert.ok(!output.includes(secret), `a secret in:\n${output}`);
});
