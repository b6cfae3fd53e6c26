// The executor's EXECUTOR_* settings (docs/settings.md): parsed once at start-up from the
// environment into a frozen object. Pure: the caller passes the environment and the OS hostname.
//
// As the Go original's envconfig reads them: `EXECUTOR_<NAME>`, else the bare `<NAME>` (sites set
// `DEBUG`, `SIDECAR_URL`, `KILL_TASK_TIMEOUT` ... in executor-environment.sh), else the default.
import { parseBool } from './parse-bool';
import { parseGoDuration } from './durations';

export interface Settings {
  readonly killTaskTimeoutSec: number;
  readonly httpTimeoutMs: number;
  readonly sidecarRetryCount: number;
  readonly sidecarRetryDelayMs: number;
  readonly sidecarUrl: string;
  readonly sidecarBackoffMs: number;
  readonly sidecarPollIntervalMs: number;
  readonly sidecarMaxFails: number;
  readonly sidecarDrainingDurationMs: number;
  readonly seedSidecar: boolean;
  readonly dockerRepository: string;
  readonly logsSinceMs: number;
  readonly forceCpuLimit: boolean;
  readonly forceMemoryLimit: boolean;
  readonly useCpuShares: boolean;
  readonly debug: boolean;
  readonly mesosMasterPort: string;
  readonly relaySyslog: boolean;
  readonly relaySyslogStartupOnly: boolean;
  readonly relaySyslogStartupTimeMs: number;
  readonly syslogAddr: string;
  readonly containerLogsStdout: boolean;
  readonly sendDockerLabels: readonly string[];
  readonly logHostname: string;
  /** A Vault AWS secrets engine role: the task gets its own AWS credentials (docs/vault-and-aws.md). */
  readonly awsRole: string;
  /** The credentials' lease is renewed to this (0: not renewed). */
  readonly awsRoleTtlMs: number;
  readonly awsRoleMaxTtlMs: number;
  /** Split executor.ShellCommand with shell quoting instead of the Go original's single spaces. */
  readonly shellCommandQuoting: boolean;
  /** The executor's own log lines: logrus text (the Go original's) or one JSON object a line. */
  readonly logFormat: 'text' | 'json';
}

/** A setting the operator got wrong: one clear line naming the variable and the value. */
export class SettingsError extends Error {
  readonly code = 'E_SETTINGS';
  constructor(readonly variable: string, readonly value: string, expected: string) {
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${expected}`);
  }
}

type Kind = 'int' | 'seconds' | 'duration' | 'bool' | 'string' | 'url' | 'hostport' | 'list' | 'logformat';

/** `prefixedOnly`: a setting of ours the Go original never had, read only under its EXECUTOR_ name. */
interface Spec { name: string; key: keyof Settings; kind: Kind; fallback: string; prefixedOnly?: boolean }

/** The settings table, in the Go original's order; `name` is the CamelCase name in docs/settings.md. */
export const SETTING_SPECS: readonly Spec[] = [
  { name: 'KillTaskTimeout', key: 'killTaskTimeoutSec', kind: 'seconds', fallback: '5' },
  { name: 'HttpTimeout', key: 'httpTimeoutMs', kind: 'duration', fallback: '2s' },
  { name: 'SidecarRetryCount', key: 'sidecarRetryCount', kind: 'int', fallback: '5' },
  { name: 'SidecarRetryDelay', key: 'sidecarRetryDelayMs', kind: 'duration', fallback: '3s' },
  { name: 'SidecarUrl', key: 'sidecarUrl', kind: 'url', fallback: 'http://localhost:7777/state.json' },
  { name: 'SidecarBackoff', key: 'sidecarBackoffMs', kind: 'duration', fallback: '1m' },
  { name: 'SidecarPollInterval', key: 'sidecarPollIntervalMs', kind: 'duration', fallback: '30s' },
  { name: 'SidecarMaxFails', key: 'sidecarMaxFails', kind: 'int', fallback: '3' },
  { name: 'SidecarDrainingDuration', key: 'sidecarDrainingDurationMs', kind: 'duration', fallback: '10s' },
  { name: 'SeedSidecar', key: 'seedSidecar', kind: 'bool', fallback: 'false' },
  { name: 'DockerRepository', key: 'dockerRepository', kind: 'string', fallback: 'https://index.docker.io/v1/' },
  { name: 'LogsSince', key: 'logsSinceMs', kind: 'duration', fallback: '3m' },
  { name: 'ForceCpuLimit', key: 'forceCpuLimit', kind: 'bool', fallback: 'false' },
  { name: 'ForceMemoryLimit', key: 'forceMemoryLimit', kind: 'bool', fallback: 'false' },
  { name: 'UseCpuShares', key: 'useCpuShares', kind: 'bool', fallback: 'false' },
  { name: 'Debug', key: 'debug', kind: 'bool', fallback: 'false' },
  { name: 'MesosMasterPort', key: 'mesosMasterPort', kind: 'string', fallback: '5050' },
  { name: 'RelaySyslog', key: 'relaySyslog', kind: 'bool', fallback: 'false' },
  { name: 'RelaySyslogStartupOnly', key: 'relaySyslogStartupOnly', kind: 'bool', fallback: 'false' },
  { name: 'RelaySyslogStartupTime', key: 'relaySyslogStartupTimeMs', kind: 'duration', fallback: '1m' },
  { name: 'SyslogAddr', key: 'syslogAddr', kind: 'hostport', fallback: '127.0.0.1:514' },
  { name: 'ContainerLogsStdout', key: 'containerLogsStdout', kind: 'bool', fallback: 'false' },
  { name: 'SendDockerLabels', key: 'sendDockerLabels', kind: 'list', fallback: '' },
  { name: 'LogHostname', key: 'logHostname', kind: 'string', fallback: '' },
  { name: 'AwsRole', key: 'awsRole', kind: 'string', fallback: '' },
  { name: 'AwsRoleTtl', key: 'awsRoleTtlMs', kind: 'duration', fallback: '0s' },
  { name: 'AwsRoleMaxTtl', key: 'awsRoleMaxTtlMs', kind: 'duration', fallback: '744h' },
  { name: 'ShellCommandQuoting', key: 'shellCommandQuoting', kind: 'bool', fallback: 'false' },
  // Only EXECUTOR_LOG_FORMAT: a bare LOG_FORMAT set for some other program on the host (logfmt,
  // ecs...) must not stop every executor at start-up.
  { name: 'LogFormat', key: 'logFormat', kind: 'logformat', fallback: 'text', prefixedOnly: true },
];

/** `SidecarRetryDelay` -> `EXECUTOR_SIDECAR_RETRY_DELAY`, as envconfig splits CamelCase words. */
export function envName(camel: string): string {
  return 'EXECUTOR_' + camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function parseValue(spec: Spec, variable: string, raw: string): unknown {
  const fail = (expected: string): never => { throw new SettingsError(variable, raw, expected); };
  switch (spec.kind) {
    case 'int':
    case 'seconds': {
      if (!/^[+-]?\d+$/.test(raw.trim())) fail(spec.kind === 'int' ? 'a whole number' : 'a whole number of seconds');
      const n = Number(raw.trim());
      if (n < 0) fail('a number of zero or more');
      return n;
    }
    case 'duration': {
      const ms = parseGoDuration(raw);
      if (ms === undefined) return fail('a Go duration such as 500ms, 3s, 1m30s or 2h');
      if (ms < 0) fail('a duration of zero or more');
      return ms;
    }
    case 'bool': {
      const b = parseBool(raw.trim());
      return b === undefined ? fail('true or false (also 1, t, T, TRUE, True, 0, f, F, FALSE, False)') : b;
    }
    case 'url': {
      try {
        const url = new URL(raw.trim());
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
      } catch { fail('an http:// or https:// URL'); }
      return raw.trim();
    }
    case 'hostport':
      if (!/^[^\s:]*:\d{1,5}$/.test(raw.trim()) && !/^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(raw.trim())) fail('host:port');
      return raw.trim();
    case 'list':
      return Object.freeze(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''));
    case 'logformat':
      return raw.trim() === 'text' || raw.trim() === 'json' ? raw.trim() : fail('text or json');
    case 'string':
      return raw;
  }
}

/** `EXECUTOR_KILL_TASK_TIMEOUT` -> `KILL_TASK_TIMEOUT`: the name envconfig falls back to. */
export function bareName(variable: string): string {
  return variable.slice('EXECUTOR_'.length);
}

/** The variable a setting is read from, and its value: the EXECUTOR_ name first, then the bare one. */
export function settingSource(env: Readonly<Record<string, string | undefined>>, camel: string): { variable: string; value: string } | undefined {
  const prefixedOnly = SETTING_SPECS.find((spec) => spec.name === camel)?.prefixedOnly === true;
  for (const variable of prefixedOnly ? [envName(camel)] : [envName(camel), bareName(envName(camel))]) {
    const value = env[variable];
    if (value !== undefined && value !== '') return { variable, value };
  }
  return undefined;
}

/** Parses every setting; throws SettingsError for the first value that does not parse. */
export function loadSettings(env: Readonly<Record<string, string | undefined>>, osHostname: string): Settings {
  return parseSettings(env, osHostname, (err) => { throw err; });
}

/**
 * Every setting, each bad value handed to `onError` and replaced by its default: `doctor` reports
 * them all, where start-up (loadSettings) stops at the first.
 */
export function parseSettings(env: Readonly<Record<string, string | undefined>>, osHostname: string, onError: (err: SettingsError) => void): Settings {
  const out: Record<string, unknown> = {};
  for (const spec of SETTING_SPECS) {
    const given = settingSource(env, spec.name);
    try {
      out[spec.key] = parseValue(spec, given?.variable ?? envName(spec.name), given?.value ?? spec.fallback);
    } catch (err) {
      if (!(err instanceof SettingsError)) throw err;
      onError(err);
      out[spec.key] = parseValue(spec, envName(spec.name), spec.fallback);
    }
  }
  // EXECUTOR_LOG_HOSTNAME, else LOG_HOSTNAME (both read above), else the OS hostname.
  if (out.logHostname === '') out.logHostname = osHostname;
  if ((out.awsRoleTtlMs as number) > (out.awsRoleMaxTtlMs as number)) {
    const ttl = settingSource(env, 'AwsRoleTtl');
    const max = settingSource(env, 'AwsRoleMaxTtl');
    onError(new SettingsError(ttl?.variable ?? envName('AwsRoleTtl'), ttl?.value ?? '', `at most ${max?.variable ?? envName('AwsRoleMaxTtl')} (${max?.value ?? '744h'})`));
  }
  return Object.freeze(out) as unknown as Settings;
}
