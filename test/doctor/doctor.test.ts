// runDoctor against the real-protocol doubles: the Sidecar double (no engine: static and gossip
// services), the Vault double, and a fake Docker engine on a unix socket that answers /version or
// hangs. Each network check is taken up and down; every run's output is searched for the secrets.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runDoctor } from '../../src/doctor/doctor';
import { SidecarDouble, UNKNOWN } from '../doubles/sidecar';
import { VaultDouble } from '../doubles/vault';
import { clientDirWith, makeTestCerts } from '../support/test-certs';

const HOST = 'agent-3.example.internal';
const TOKEN = 'hvs.doctor-token-9f8e7d6c5b4a';
const PASSWORD = 'doctor-password-0a1b2c3d';
const REGISTRY_PASSWORD = 'registry-password-4e5f6a7b';
const tmp = mkdtempSync(join(tmpdir(), 'doctor-test-'));

/** Every secret any test hands doctor: none may appear in any output. */
const SECRETS = [TOKEN, PASSWORD, REGISTRY_PASSWORD];
const outputs: string[] = [];

/** GET /version as Docker 20.10 answers it. */
const versionHandler: http.RequestListener = (req, res) => {
  if (req.url !== '/version') { res.writeHead(404).end('{"message":"page not found"}'); return; }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Version: '20.10.24', ApiVersion: '1.41', MinAPIVersion: '1.12' }));
};

/** A Docker engine on a unix socket that answers, or takes the request and never answers. */
async function fakeEngine(mode: 'answer' | 'hang'): Promise<{ socket: string; close(): Promise<void> }> {
  const socket = join(tmp, `engine-${mode}-${Math.random().toString(36).slice(2)}.sock`);
  const server = http.createServer(mode === 'hang' ? () => undefined : versionHandler);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, close: () => { server.closeAllConnections(); return new Promise((resolve) => server.close(() => resolve())); } };
}

/** A TCP port that accepts connections and never answers: a hung Sidecar or Vault. */
async function silentPort(): Promise<{ port: number; server: Server }> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

interface Result { code: number; text: string; lines: string[]; line(check: string): string; ms: number }

async function doctor(env: NodeJS.ProcessEnv): Promise<Result> {
  let text = '';
  const started = Date.now();
  const code = await runDoctor(env, { write: (s: string) => { text += s; } });
  outputs.push(text);
  const lines = text.split('\n').filter(Boolean);
  const line = (check: string): string => lines.find((l) => l.slice(6).startsWith(`${check} `)) ?? `(no ${check} line in)\n${text}`;
  return { code, text, lines, line, ms: Date.now() - started };
}

let engine: Awaited<ReturnType<typeof fakeEngine>>;
let sidecar: SidecarDouble;
let vault: VaultDouble;
let dockerConfig: string;

/** An environment where every check passes. */
function goodEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HOME: tmp, DOCKER_HOST: `unix://${engine.socket}`, DOCKER_CONFIG: dockerConfig, EXECUTOR_SIDECAR_URL: sidecar.url,
    TASK_HOST: HOST, VAULT_ADDR: vault.addr, VAULT_TOKEN: TOKEN, ...extra,
  };
}

before(async () => {
  engine = await fakeEngine('answer');
  sidecar = await SidecarDouble.start({ hostname: HOST, dockerSocket: null, discoveryIntervalMs: 5, checkIntervalMs: 10 });
  sidecar.addStaticService('0123456789ab');
  await sidecar.untilStatus('0123456789ab', UNKNOWN, 3000);
  vault = await VaultDouble.start();
  vault.addToken(TOKEN);
  vault.addUser('deployer', PASSWORD);
  dockerConfig = join(tmp, 'docker-config');
  const auth = Buffer.from(`deployer:${REGISTRY_PASSWORD}`).toString('base64');
  mkdirSync(dockerConfig);
  writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth } } }));
});

after(async () => {
  await engine.close();
  await sidecar.close();
  await vault.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('runDoctor', () => {
  it('all good: exit 0, one ok line per check, in a fixed order', async () => {
    const r = await doctor(goodEnv());
    assert.equal(r.code, 0, r.text);
    assert.deepEqual(r.lines.map((l) => l.slice(6).split(' ')[0]), ['settings', 'node', 'docker', 'registry', 'sidecar', 'vault', 'syslog']);
    assert.match(r.line('settings'), /^ok {4}settings {4}29 parsed; set: EXECUTOR_SIDECAR_URL$/);
    assert.match(r.line('docker'), /^ok {4}docker {6}engine 20\.10\.24 \(API 1\.41\) at unix:\/\/\/.*engine-answer/);
    assert.match(r.line('registry'), new RegExp(`^ok .*entry "https://index.docker.io/v1/" of ${dockerConfig}/config.json$`));
    assert.match(r.line('sidecar'), new RegExp(`^ok .*reachable at ${sidecar.url}, host "${HOST}" listed with 1 service`));
    assert.match(r.line('vault'), /^ok .*VAULT_TOKEN accepted at http:\/\/127\.0\.0\.1:\d+ \(ttl /);
    assert.match(r.line('syslog'), /^ok .*relaying is off/);
    // Not the bundle: the shebang's flags are not known here (the e2e test runs the bundle).
    assert.match(r.line('node'), /^warn .*not the built bundle/);
  });

  it('Docker: no socket, a refused socket, a hung engine, a DOCKER_HOST that is not one', async () => {
    const none = await doctor(goodEnv({ DOCKER_HOST: 'unix:///nonexistent.sock' }));
    assert.equal(none.code, 1);
    assert.match(none.line('docker'), /^FAIL {2}docker {6}the Docker engine at unix:\/\/\/nonexistent\.sock is unreachable .*ENOENT \(no socket/);
    const stale = join(tmp, 'stale.sock');
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(stale, resolve));
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    writeFileSync(stale, ''); // nobody listens at the socket path: refused, as after dockerd died
    const refused = await doctor(goodEnv({ DOCKER_HOST: `unix://${stale}` }));
    assert.match(refused.line('docker'), /^FAIL .*unreachable .*(ECONNREFUSED|ENOTSOCK)/);
    const hung = await fakeEngine('hang');
    try {
      const r = await doctor(goodEnv({ DOCKER_HOST: `unix://${hung.socket}` }));
      assert.match(r.line('docker'), /^FAIL .*did not answer GET \/version in time/);
      assert.ok(r.ms < 5000, `bounded: ${r.ms} ms`);
    } finally { await hung.close(); }
    const bad = await doctor(goodEnv({ DOCKER_HOST: 'tcp//docker:2375' }));
    assert.match(bad.line('docker'), /^FAIL .*DOCKER_HOST="tcp\/\/docker:2375" is not valid/);
    for (const r of [none, refused, bad]) assert.doesNotMatch(r.text, /\n\s+at /, 'no stack trace');
  });

  it('Docker over TLS (dockerd --tlsverify): the mode is said; a handshake the engine refuses is a FAIL saying TLS failed', async () => {
    const certs = makeTestCerts();
    const server = https.createServer({
      key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert), ca: readFileSync(certs.caCert), requestCert: true, rejectUnauthorized: true,
    }, versionHandler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const host = `tcp://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const good = await doctor(goodEnv({ DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs.clientDir }));
      assert.match(good.line('docker'), new RegExp(`^ok .*engine 20\\.10\\.24 \\(API 1\\.41\\) at ${host} \\(TLS verified\\)$`));
      const noCert = await doctor(goodEnv({ DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: clientDirWith(certs, 'ca.pem') }));
      const lines = noCert.lines.filter((l) => l.slice(6).startsWith('docker '));
      assert.match(lines[0]!, new RegExp(`^FAIL .*the Docker engine at ${host} is unreachable .*TLS failed: .* \\(TLS verified\\)$`));
      assert.match(lines[1]!, /^warn .*cert\.pem and key\.pem not in .*: no client certificate is sent/);
    } finally {
      server.closeAllConnections();
      server.close();
      certs.remove();
    }
  });

  it('Sidecar down is a FAIL saying the executor would assume healthy', async () => {
    const down = await SidecarDouble.start({ hostname: HOST, dockerSocket: null });
    const url = down.url;
    await down.close();
    const r = await doctor(goodEnv({ EXECUTOR_SIDECAR_URL: url }));
    assert.equal(r.code, 1);
    assert.match(r.line('sidecar'), /^FAIL .*Sidecar unreachable: .*ECONNREFUSED: the executor would count every health check as healthy/);
  });

  it('Sidecar hung, or answering garbage: FAIL, bounded by HttpTimeout', async () => {
    const hung = await silentPort();
    try {
      const r = await doctor(goodEnv({ EXECUTOR_SIDECAR_URL: `http://127.0.0.1:${hung.port}/state.json`, HTTP_TIMEOUT: '300ms' }));
      assert.match(r.line('sidecar'), /^FAIL .*Sidecar timed out: .*no response within 300 ms/);
      assert.ok(r.ms < 2000, `bounded by HttpTimeout: ${r.ms} ms`);
    } finally { hung.server.close(); }
    sidecar.garbage(1);
    assert.match((await doctor(goodEnv())).line('sidecar'), /^FAIL .*Sidecar's answer is not JSON/);
    const r = await doctor(goodEnv({ EXECUTOR_SIDECAR_URL: `${sidecar.baseUrl}/nothing-here` }));
    assert.match(r.line('sidecar'), /^FAIL .*Sidecar answered HTTP 404/);
  });

  it('Sidecar up without our host, or TASK_HOST unset: a warning naming Sidecar\'s own host, exit 0', async () => {
    const other = await doctor(goodEnv({ TASK_HOST: 'agent-9.example.internal' }));
    assert.equal(other.code, 0, other.text);
    assert.match(other.line('sidecar'), new RegExp(`^warn .*host "agent-9.example.internal" \\(TASK_HOST\\) is not in its state \\(it lists "${HOST}"; Sidecar's own host is "${HOST}"\\)`));
    const unset = await doctor(goodEnv({ TASK_HOST: undefined }));
    assert.match(unset.line('sidecar'), new RegExp(`^warn .*TASK_HOST is not set.*Sidecar's own host is "${HOST}"`));
    const idle = await SidecarDouble.start({ hostname: 'idle-agent', dockerSocket: null });
    try {
      const r = await doctor(goodEnv({ EXECUTOR_SIDECAR_URL: idle.url, TASK_HOST: 'idle-agent' }));
      assert.match(r.line('sidecar'), /^warn .*host "idle-agent" is Sidecar's own but not listed yet/);
    } finally { await idle.close(); }
  });

  it('Vault: down, hung, a bad token, no credentials, or not configured', async () => {
    const down = await VaultDouble.start();
    const downAddr = down.addr;
    await down.close();
    const r = await doctor(goodEnv({ VAULT_ADDR: downAddr }));
    assert.equal(r.code, 1);
    assert.match(r.line('vault'), /^FAIL .*looking up VAULT_TOKEN: Vault at http:\/\/127\.0\.0\.1:\d+ unreachable after 1 attempt\(s\): ECONNREFUSED/);
    const hung = await silentPort();
    try {
      const slow = await doctor(goodEnv({ VAULT_ADDR: `http://127.0.0.1:${hung.port}` }));
      assert.match(slow.line('vault'), /^FAIL .*timed out/);
      assert.ok(slow.ms < 6000, `bounded: ${slow.ms} ms`);
    } finally { hung.server.close(); }
    const badToken = await doctor(goodEnv({ VAULT_TOKEN: 'hvs.not-a-token-of-this-vault' }));
    assert.match(badToken.line('vault'), /^FAIL .*looking up VAULT_TOKEN: Vault refused \(HTTP 403: permission denied\).*vault:\/\/ values would fail/);
    assert.doesNotMatch(badToken.text, /not-a-token-of-this-vault/, 'a wrong token is a secret too');
    const none = await doctor(goodEnv({ VAULT_TOKEN: undefined }));
    assert.match(none.line('vault'), /^FAIL .*no credentials: VAULT_TOKEN is not set, VAULT_TOKEN_FILE is not set/);
    const off = await doctor(goodEnv({ VAULT_ADDR: undefined }));
    assert.match(off.line('vault'), /^ok .*not checked: VAULT_ADDR is not set/);
    const badCa = await doctor(goodEnv({ VAULT_CACERT: join(tmp, 'missing-ca.pem') }));
    assert.match(badCa.line('vault'), /^FAIL .*VAULT_CACERT: cannot read .*missing-ca\.pem: ENOENT/);
  });

  it('Vault userpass: the login is checked, its token revoked, and VAULT_TOKEN_FILE never written', async () => {
    const tokenFile = join(tmp, 'vault-token');
    const revokedBefore = vault.revokedTokens.length;
    const r = await doctor(goodEnv({ VAULT_TOKEN: undefined, VAULT_TOKEN_FILE: tokenFile, VAULT_USERNAME: 'deployer', VAULT_PASSWORD: PASSWORD }));
    assert.equal(r.code, 0, r.text);
    assert.match(r.line('vault'), new RegExp(`^ok .*userpass login works at .*\\(VAULT_TOKEN_FILE ${tokenFile}: no cached token yet; the executor would cache its token there\\)$`));
    assert.equal(existsSync(tokenFile), false, 'doctor writes no token cache');
    const made = vault.revokedTokens.slice(revokedBefore);
    assert.equal(made.length, 1, 'the token of the login is revoked');
    assert.ok(!vault.tokens.includes(made[0]!));
    SECRETS.push(made[0]!);
    const refused = await doctor(goodEnv({ VAULT_TOKEN: undefined, VAULT_USERNAME: 'deployer', VAULT_PASSWORD: 'wrong-password-1234' }));
    assert.match(refused.line('vault'), /^FAIL .*userpass login: Vault refused \(HTTP 400: invalid username or password\)/);
    assert.doesNotMatch(refused.text, /wrong-password-1234|deployer/);
    // A cached token that Vault accepts is used as the executor would use it.
    writeFileSync(tokenFile, TOKEN);
    const cached = await doctor(goodEnv({ VAULT_TOKEN: undefined, VAULT_TOKEN_FILE: tokenFile }));
    assert.match(cached.line('vault'), new RegExp(`^ok .*the token in VAULT_TOKEN_FILE ${tokenFile} is accepted`));
    rmSync(tokenFile);
  });

  it('AwsRole needs a userpass login of its own: without VAULT_USERNAME and VAULT_PASSWORD, a FAIL', async () => {
    const r = await doctor(goodEnv({ EXECUTOR_AWS_ROLE: 'web' }));
    const vaultLines = r.lines.filter((l) => l.slice(6).startsWith('vault '));
    assert.equal(vaultLines.length, 2, r.text);
    assert.match(vaultLines[0]!, /^ok .*VAULT_TOKEN accepted/);
    assert.match(vaultLines[1]!, /^FAIL .*AwsRole web: its token is a userpass login of its own/);
    const good = await doctor(goodEnv({ EXECUTOR_AWS_ROLE: 'web', VAULT_USERNAME: 'deployer', VAULT_PASSWORD: PASSWORD }));
    assert.match(good.text, /ok {4}vault {7}AwsRole web: userpass login works \(aws\/creds\/web is not read/);
  });

  it('bad settings: each its own FAIL line naming the variable and the value; the others still checked', async () => {
    const r = await doctor(goodEnv({ EXECUTOR_HTTP_TIMEOUT: 'fast', KILL_TASK_TIMEOUT: '-3', EXECUTOR_SIDECAR_URL: 'localhost:7777' }));
    assert.equal(r.code, 1);
    const settings = r.lines.filter((l) => l.slice(6).startsWith('settings '));
    assert.deepEqual(settings, [
      'FAIL  settings    KILL_TASK_TIMEOUT="-3" is not valid: expected a number of zero or more',
      'FAIL  settings    EXECUTOR_HTTP_TIMEOUT="fast" is not valid: expected a Go duration such as 500ms, 3s, 1m30s or 2h',
      'FAIL  settings    EXECUTOR_SIDECAR_URL="localhost:7777" is not valid: expected an http:// or https:// URL',
    ]);
    assert.match(r.line('sidecar'), /^FAIL .*not checked: EXECUTOR_SIDECAR_URL is not valid/);
    assert.match(r.line('docker'), /^ok /);
  });

  it('syslog: checked only when relaying is on; a bad port or a name that does not resolve is a FAIL', async () => {
    const on = await doctor(goodEnv({ RELAY_SYSLOG: 'true', EXECUTOR_SYSLOG_ADDR: 'localhost:514' }));
    assert.match(on.line('syslog'), /^ok .*relaying to localhost:514 \(UDP\), localhost is (127\.0\.0\.1|::1)/);
    const port0 = await doctor(goodEnv({ EXECUTOR_RELAY_SYSLOG_STARTUP_ONLY: 'true', SYSLOG_ADDR: '127.0.0.1:0' }));
    assert.match(port0.line('syslog'), /^FAIL .*SyslogAddr "127\.0\.0\.1:0" is not host:port/);
    const nowhere = await doctor(goodEnv({ RELAY_SYSLOG: '1', SYSLOG_ADDR: 'syslog.invalid:514' }));
    assert.match(nowhere.line('syslog'), /^FAIL .*relaying to syslog\.invalid:514 \(UDP\) would fail: (ENOTFOUND|EAI_AGAIN|looking up syslog\.invalid: no answer)/);
  });

  it('everything hung at once: the whole run stays well under 10 s', async () => {
    const hungEngine = await fakeEngine('hang');
    const hung = await silentPort();
    try {
      const r = await doctor(goodEnv({
        DOCKER_HOST: `unix://${hungEngine.socket}`, EXECUTOR_SIDECAR_URL: `http://127.0.0.1:${hung.port}/state.json`, VAULT_ADDR: `http://127.0.0.1:${hung.port}`,
      }));
      assert.equal(r.code, 1);
      assert.equal(r.lines.filter((l) => l.startsWith('FAIL')).length, 3, r.text);
      assert.ok(r.ms < 6000, `${r.ms} ms`);
    } finally {
      await hungEngine.close();
      hung.server.close();
    }
  });

  it('no secret in any output: tokens, passwords, the registry password', () => {
    assert.ok(outputs.length >= 10);
    for (const text of outputs) for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} in:\n${text}`);
  });
});
