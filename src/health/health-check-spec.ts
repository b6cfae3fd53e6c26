// TaskInfo.health_check to what the checker runs (docs/health-checks.md): the proto's defaults
// applied (delay 15 s, interval 10 s, timeout 20 s, 3 consecutive failures, grace 10 s), and the
// rules the master applies (src/common/validation.cpp validateHealthCheck) checked again, so a
// check we cannot run fails the launch with REASON_TASK_INVALID instead of a running task never
// checked. Pure: no I/O.
import { TaskInvalidError } from '../docker/task-invalid-error';
import type { CommandInfo, HealthCheck } from '../mesos/types';

export type AddressFamily = 'IPv4' | 'IPv6';

export interface CheckTiming {
  readonly delayMs: number;
  readonly intervalMs: number;
  /** Infinity when timeout_seconds is 0 ("zero means infinite timeout"). */
  readonly timeoutMs: number;
  readonly consecutiveFailures: number;
  readonly gracePeriodMs: number;
}

export type CheckProbeSpec =
  | { readonly kind: 'HTTP'; readonly scheme: 'http' | 'https'; readonly port: number; readonly path: string; readonly family: AddressFamily }
  | { readonly kind: 'TCP'; readonly port: number; readonly family: AddressFamily }
  | { readonly kind: 'COMMAND'; readonly cmd: readonly string[]; readonly env: readonly string[]; readonly text: string };

export interface HealthCheckSpec { readonly timing: CheckTiming; readonly probe: CheckProbeSpec }

/** HealthCheck's `[default = ...]` values (include/mesos/v1/mesos.proto). */
export const HEALTH_CHECK_DEFAULTS = Object.freeze({
  delay_seconds: 15, interval_seconds: 10, timeout_seconds: 20, consecutive_failures: 3, grace_period_seconds: 10,
});

function seconds(check: HealthCheck, field: keyof typeof HEALTH_CHECK_DEFAULTS): number {
  const raw: unknown = check[field];
  if (raw === undefined || raw === null) return HEALTH_CHECK_DEFAULTS[field];
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new TaskInvalidError(`health_check.${field} must be a number`);
  if (raw < 0) throw new TaskInvalidError(`health_check.${field} must not be negative (${raw})`);
  return raw;
}

function port(raw: unknown, where: string): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > 65535) {
    throw new TaskInvalidError(`${where}.port ${JSON.stringify(raw)} is not a port number in 1..65535`);
  }
  return raw;
}

function family(raw: unknown): AddressFamily {
  return raw === 'IPv6' ? 'IPv6' : 'IPv4';
}

/** CommandInfo as Mesos runs it: `sh -c value` when shell (the default), else value with arguments[1..]. */
function commandProbe(command: CommandInfo | undefined): CheckProbeSpec {
  if (command === undefined || command === null) throw new TaskInvalidError("health_check.command must be set for a COMMAND health check");
  const value: unknown = command.value;
  const shell = command.shell !== false;
  if (typeof value !== 'string' || value === '') {
    throw new TaskInvalidError(`health_check.command must contain ${shell ? 'a shell command' : 'an executable path'} (value)`);
  }
  const args = Array.isArray(command.arguments) ? command.arguments.map(String) : [];
  // As execvp(value, arguments): arguments[0] is the program's own name, the path is value.
  const cmd = shell ? ['sh', '-c', value] : [value, ...args.slice(1)];
  const env = (command.environment?.variables ?? [])
    .filter((v) => v.type !== 'SECRET' && typeof v.name === 'string')
    .map((v) => `${v.name}=${v.value ?? ''}`);
  return { kind: 'COMMAND', cmd, env, text: shell ? value : [value, ...args.slice(1)].join(' ') };
}

function probeSpec(check: HealthCheck): CheckProbeSpec {
  switch (check.type) {
    case 'COMMAND':
      return commandProbe(check.command);
    case 'HTTP': {
      const http = check.http;
      if (http === undefined || http === null) throw new TaskInvalidError('health_check.http must be set for an HTTP health check');
      const scheme = http.scheme ?? 'http';
      if (scheme !== 'http' && scheme !== 'https') throw new TaskInvalidError(`health_check.http.scheme ${JSON.stringify(scheme)} is not http or https`);
      const path = http.path ?? '';
      if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) {
        throw new TaskInvalidError(`health_check.http.path ${JSON.stringify(path)} must start with '/'`);
      }
      return { kind: 'HTTP', scheme, port: port(http.port, 'health_check.http'), path: path || '/', family: family(http.protocol) };
    }
    case 'TCP': {
      const tcp = check.tcp;
      if (tcp === undefined || tcp === null) throw new TaskInvalidError('health_check.tcp must be set for a TCP health check');
      return { kind: 'TCP', port: port(tcp.port, 'health_check.tcp'), family: family(tcp.protocol) };
    }
    default:
      throw new TaskInvalidError(`health_check.type ${JSON.stringify(check.type ?? null)} is not one of COMMAND, HTTP or TCP`);
  }
}

/** Throws TaskInvalidError naming the field for a check the master would have refused. */
export function healthCheckSpec(check: HealthCheck): HealthCheckSpec {
  if (typeof check !== 'object' || check === null) throw new TaskInvalidError('health_check must be an object');
  const probe = probeSpec(check);
  const failures: unknown = check.consecutive_failures ?? HEALTH_CHECK_DEFAULTS.consecutive_failures;
  if (typeof failures !== 'number' || !Number.isInteger(failures) || failures < 0) {
    throw new TaskInvalidError(`health_check.consecutive_failures ${JSON.stringify(failures)} is not a whole number`);
  }
  const timeout = seconds(check, 'timeout_seconds');
  return {
    probe,
    timing: {
      delayMs: seconds(check, 'delay_seconds') * 1000,
      intervalMs: seconds(check, 'interval_seconds') * 1000,
      timeoutMs: timeout > 0 ? timeout * 1000 : Infinity,
      consecutiveFailures: failures,
      gracePeriodMs: seconds(check, 'grace_period_seconds') * 1000,
    },
  };
}
