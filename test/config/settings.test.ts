import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SettingsError, envName, loadSettings, parseSettings } from '../../src/config/settings';
import { loadMesosEnv } from '../../src/config/mesos-env';
import { parseBool } from '../../src/config/parse-bool';
import { environmentLines, settingsLines } from '../../src/config/startup-log';

test('variable names split CamelCase words as the Go original does', () => {
  assert.equal(envName('SidecarRetryDelay'), 'EXECUTOR_SIDECAR_RETRY_DELAY');
  assert.equal(envName('KillTaskTimeout'), 'EXECUTOR_KILL_TASK_TIMEOUT');
  assert.equal(envName('HttpTimeout'), 'EXECUTOR_HTTP_TIMEOUT');
  assert.equal(envName('ForceCpuLimit'), 'EXECUTOR_FORCE_CPU_LIMIT');
  assert.equal(envName('RelaySyslogStartupOnly'), 'EXECUTOR_RELAY_SYSLOG_STARTUP_ONLY');
});

test('defaults match docs/settings.md', () => {
  const s = loadSettings({}, 'host-a');
  assert.equal(s.killTaskTimeoutSec, 5);
  assert.equal(s.httpTimeoutMs, 2000);
  assert.equal(s.sidecarRetryCount, 5);
  assert.equal(s.sidecarRetryDelayMs, 3000);
  assert.equal(s.sidecarUrl, 'http://localhost:7777/state.json');
  assert.equal(s.sidecarBackoffMs, 60_000);
  assert.equal(s.sidecarPollIntervalMs, 30_000);
  assert.equal(s.sidecarMaxFails, 3);
  assert.equal(s.sidecarDrainingDurationMs, 10_000);
  assert.equal(s.seedSidecar, false);
  assert.equal(s.dockerRepository, 'https://index.docker.io/v1/');
  assert.equal(s.logsSinceMs, 180_000);
  assert.equal(s.mesosMasterPort, '5050');
  assert.equal(s.relaySyslogStartupTimeMs, 60_000);
  assert.equal(s.syslogAddr, '127.0.0.1:514');
  assert.deepEqual(s.sendDockerLabels, []);
  assert.equal(s.logHostname, 'host-a');
  assert.ok(Object.isFrozen(s));
});

test('every setting is read from its variable', () => {
  const s = loadSettings({
    EXECUTOR_KILL_TASK_TIMEOUT: '9', EXECUTOR_SIDECAR_POLL_INTERVAL: '1m30s', EXECUTOR_SEED_SIDECAR: 'T',
    EXECUTOR_SEND_DOCKER_LABELS: 'ServiceName, EnvironmentName,,', EXECUTOR_SYSLOG_ADDR: 'logs.example:5140',
    EXECUTOR_SIDECAR_DRAINING_DURATION: '0', EXECUTOR_DEBUG: '1', EXECUTOR_LOG_HOSTNAME: 'named',
  }, 'host-a');
  assert.equal(s.killTaskTimeoutSec, 9);
  assert.equal(s.sidecarPollIntervalMs, 90_000);
  assert.equal(s.seedSidecar, true);
  assert.deepEqual(s.sendDockerLabels, ['ServiceName', 'EnvironmentName']);
  assert.equal(s.syslogAddr, 'logs.example:5140');
  assert.equal(s.sidecarDrainingDurationMs, 0);
  assert.equal(s.debug, true);
  assert.equal(s.logHostname, 'named');
});

test('LogHostname: EXECUTOR_LOG_HOSTNAME wins over LOG_HOSTNAME, which wins over the OS hostname', () => {
  assert.equal(loadSettings({ LOG_HOSTNAME: 'from-env' }, 'host-a').logHostname, 'from-env');
  assert.equal(loadSettings({ LOG_HOSTNAME: 'bare', EXECUTOR_LOG_HOSTNAME: 'prefixed' }, 'host-a').logHostname, 'prefixed');
  assert.equal(loadSettings({}, 'host-a').logHostname, 'host-a');
});

test('every setting falls back to its bare name when the EXECUTOR_ one is unset or empty, as envconfig does', () => {
  const bare = loadSettings({
    KILL_TASK_TIMEOUT: '9', HTTP_TIMEOUT: '5s', SIDECAR_URL: 'http://sidecar:7777/state.json', DEBUG: 'true', SYSLOG_ADDR: 'logs:514',
    SIDECAR_MAX_FAILS: '7', AWS_ROLE: 'web-role', AWS_ROLE_TTL: '2h', SHELL_COMMAND_QUOTING: 'true', EXECUTOR_SEED_SIDECAR: '',
    SEED_SIDECAR: 'true',
  }, 'h');
  assert.equal(bare.killTaskTimeoutSec, 9);
  assert.equal(bare.httpTimeoutMs, 5000);
  assert.equal(bare.sidecarUrl, 'http://sidecar:7777/state.json');
  assert.equal(bare.debug, true);
  assert.equal(bare.syslogAddr, 'logs:514');
  assert.equal(bare.sidecarMaxFails, 7);
  assert.equal(bare.awsRole, 'web-role');
  assert.equal(bare.awsRoleTtlMs, 7_200_000);
  assert.equal(bare.shellCommandQuoting, true);
  assert.equal(bare.seedSidecar, true);
  const both = loadSettings({ KILL_TASK_TIMEOUT: '9', EXECUTOR_KILL_TASK_TIMEOUT: '2', DEBUG: 'true', EXECUTOR_DEBUG: 'false' }, 'h');
  assert.equal(both.killTaskTimeoutSec, 2, 'the EXECUTOR_ name wins');
  assert.equal(both.debug, false);
  assert.throws(() => loadSettings({ KILL_TASK_TIMEOUT: 'soon' }, 'h'), /^Error: KILL_TASK_TIMEOUT="soon" is not valid/);
  // LogFormat is ours, not the Go original's: another program's LOG_FORMAT is none of its business.
  assert.equal(loadSettings({ LOG_FORMAT: 'logfmt' }, 'h').logFormat, 'text');
  assert.equal(loadSettings({ EXECUTOR_LOG_FORMAT: 'json' }, 'h').logFormat, 'json');
  assert.throws(() => loadSettings({ EXECUTOR_LOG_FORMAT: 'logfmt' }, 'h'), /EXECUTOR_LOG_FORMAT="logfmt" is not valid: expected text or json/);
});

test('AWS settings: defaults, and a TTL above the max TTL is refused naming both', () => {
  const s = loadSettings({}, 'h');
  assert.equal(s.awsRole, '');
  assert.equal(s.awsRoleTtlMs, 0);
  assert.equal(s.awsRoleMaxTtlMs, 744 * 3_600_000);
  assert.equal(s.shellCommandQuoting, false);
  assert.throws(() => loadSettings({ EXECUTOR_AWS_ROLE_TTL: '800h' }, 'h'), (err: unknown) => {
    assert.ok(err instanceof SettingsError);
    assert.equal(err.message, 'EXECUTOR_AWS_ROLE_TTL="800h" is not valid: expected at most EXECUTOR_AWS_ROLE_MAX_TTL (744h)');
    return true;
  });
  assert.throws(() => loadSettings({ AWS_ROLE_TTL: '3h', EXECUTOR_AWS_ROLE_MAX_TTL: '2h' }, 'h'), /AWS_ROLE_TTL="3h" is not valid: expected at most EXECUTOR_AWS_ROLE_MAX_TTL \(2h\)/);
  assert.equal(loadSettings({ EXECUTOR_AWS_ROLE_TTL: '2h', EXECUTOR_AWS_ROLE_MAX_TTL: '2h' }, 'h').awsRoleTtlMs, 7_200_000);
});

test('an unparsable value names the variable and the value', () => {
  const bad: [string, string][] = [
    ['EXECUTOR_KILL_TASK_TIMEOUT', '5s'], ['EXECUTOR_HTTP_TIMEOUT', '2'], ['EXECUTOR_SEED_SIDECAR', 'yes'],
    ['EXECUTOR_SIDECAR_URL', 'localhost:7777'], ['EXECUTOR_SIDECAR_MAX_FAILS', '-1'], ['EXECUTOR_SYSLOG_ADDR', 'nohost'],
    ['EXECUTOR_SIDECAR_BACKOFF', '-1m'],
  ];
  for (const [name, value] of bad) {
    assert.throws(() => loadSettings({ [name]: value }, 'h'), (err: unknown) => {
      assert.ok(err instanceof SettingsError, name);
      assert.match(err.message, new RegExp(name));
      assert.ok(err.message.includes(JSON.stringify(value)), err.message);
      return true;
    });
  }
});

test('parseSettings (doctor) reports every bad value, and keeps the default in its place', () => {
  const errors: SettingsError[] = [];
  const env = { EXECUTOR_HTTP_TIMEOUT: 'soon', DEBUG: 'yes', EXECUTOR_SIDECAR_MAX_FAILS: '7', EXECUTOR_AWS_ROLE_TTL: '800h' };
  const settings = parseSettings(env, 'host-a', (err) => errors.push(err));
  assert.deepEqual(errors.map((e) => e.variable), ['EXECUTOR_HTTP_TIMEOUT', 'DEBUG', 'EXECUTOR_AWS_ROLE_TTL']);
  assert.equal(settings.httpTimeoutMs, 2000);
  assert.equal(settings.debug, false);
  assert.equal(settings.sidecarMaxFails, 7, 'the good ones are read');
  assert.throws(() => loadSettings(env, 'host-a'), (err: Error) => err instanceof SettingsError && err.variable === 'EXECUTOR_HTTP_TIMEOUT', 'start-up stops at the first');
});

test('ParseBool accepts exactly Go spellings', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseBool(t), true);
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseBool(f), false);
  for (const x of ['yes', 'no', 'tRUE', '', ' true']) assert.equal(parseBool(x), undefined);
});

test('Mesos environment parses agent durations and requires the ids', () => {
  const env = loadMesosEnv({
    MESOS_AGENT_ENDPOINT: '10.0.0.1:5051', MESOS_FRAMEWORK_ID: 'fw', MESOS_EXECUTOR_ID: 'ex', MESOS_CHECKPOINT: '1',
    MESOS_RECOVERY_TIMEOUT: '15mins', MESOS_SUBSCRIPTION_BACKOFF_MAX: '250ms', MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
    TASK_HOST: 'agent-1', MESOS_EXECUTOR_AUTHENTICATION_TOKEN: 'tok',
  });
  assert.equal(env.checkpoint, true);
  assert.equal(env.recoveryTimeoutMs, 900_000);
  assert.equal(env.subscriptionBackoffMaxMs, 250);
  assert.equal(env.shutdownGracePeriodMs, 5000);
  assert.equal(env.taskHost, 'agent-1');
  assert.equal(env.authToken, 'tok');
  assert.throws(() => loadMesosEnv({ MESOS_FRAMEWORK_ID: 'fw', MESOS_EXECUTOR_ID: 'ex' }), /MESOS_AGENT_ENDPOINT/);
  assert.throws(() => loadMesosEnv({ MESOS_AGENT_ENDPOINT: 'a:1', MESOS_FRAMEWORK_ID: 'f', MESOS_EXECUTOR_ID: 'e', MESOS_RECOVERY_TIMEOUT: '15m' }), /MESOS_RECOVERY_TIMEOUT="15m"/);
  assert.equal(loadMesosEnv({ MESOS_AGENT_ENDPOINT: 'a:1', MESOS_FRAMEWORK_ID: 'f', MESOS_EXECUTOR_ID: 'e' }).checkpoint, false);
});

test('start-up lines show settings and the right variables, never secrets', () => {
  const lines = settingsLines(loadSettings({}, 'h'));
  assert.ok(lines.includes(' * SidecarPollInterval:     30s'), lines.join('\n'));
  assert.ok(lines.includes(' * KillTaskTimeout:         5'));
  const valueColumns = lines.filter((l) => l.trimEnd().endsWith(':') === false).map((l) => l.indexOf(':') + 1 + l.slice(l.indexOf(':') + 1).search(/\S/));
  assert.equal(new Set(valueColumns).size, 1, `values aligned:\n${lines.join('\n')}`);
  const env = environmentLines({
    MESOS_SANDBOX: '/s', EXECUTOR_DEBUG: 'true', VAULT_ADDR: 'https://v', HOME: '/root', PATH: '/bin',
    VAULT_TOKEN: 'tok', VAULT_USERNAME: 'u', VAULT_PASSWORD: 'p', MESOS_EXECUTOR_AUTHENTICATION_TOKEN: 'x',
  });
  assert.deepEqual(env, [
    ' * EXECUTOR_DEBUG                : true', ' * HOME                          : /root',
    ' * MESOS_SANDBOX                 : /s', ' * VAULT_ADDR                    : https://v',
  ]);
});
