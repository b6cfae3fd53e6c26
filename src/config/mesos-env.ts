// What the Mesos agent tells its executor through the environment (docs/settings.md). Pure.
import { parseBool } from './parse-bool';
import { parseMesosDuration } from './durations';
import { SettingsError } from './settings';

export interface MesosEnv {
  readonly agentEndpoint: string;
  readonly frameworkId: string;
  readonly executorId: string;
  readonly directory: string | undefined;
  readonly sandbox: string | undefined;
  readonly checkpoint: boolean;
  readonly recoveryTimeoutMs: number;
  readonly subscriptionBackoffMaxMs: number;
  readonly shutdownGracePeriodMs: number;
  /** Bearer token for executor authentication; a secret, never logged. */
  readonly authToken: string | undefined;
  /** The agent's hostname as the scheduler knows it (Singularity sets TASK_HOST). */
  readonly taskHost: string | undefined;
}

// The agent's own flag defaults, used when a variable is absent.
const DEFAULT_RECOVERY_TIMEOUT = '15mins';
const DEFAULT_BACKOFF_MAX = '2secs';
const DEFAULT_SHUTDOWN_GRACE = '5secs';

function duration(env: Readonly<Record<string, string | undefined>>, name: string, fallback: string): number {
  const raw = env[name] || fallback;
  const ms = parseMesosDuration(raw);
  if (ms === undefined) throw new SettingsError(name, raw, 'a Mesos duration such as 250ms, 5secs, 15mins or 1hrs');
  return ms;
}

function required(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (!value) throw new SettingsError(name, '', 'to be set by the Mesos agent (is this running under Mesos? try `sidecar-executor local <task.json>`)');
  return value;
}

export function loadMesosEnv(env: Readonly<Record<string, string | undefined>>): MesosEnv {
  const agentEndpoint = required(env, 'MESOS_AGENT_ENDPOINT');
  if (!/^[^\s/]+:\d{1,5}$/.test(agentEndpoint)) {
    throw new SettingsError('MESOS_AGENT_ENDPOINT', agentEndpoint, 'host:port');
  }
  const checkpointRaw = env.MESOS_CHECKPOINT ?? '';
  const checkpoint = checkpointRaw === '' ? false : parseBool(checkpointRaw);
  if (checkpoint === undefined) throw new SettingsError('MESOS_CHECKPOINT', checkpointRaw, '1, true, 0 or false');
  return Object.freeze({
    agentEndpoint,
    frameworkId: required(env, 'MESOS_FRAMEWORK_ID'),
    executorId: required(env, 'MESOS_EXECUTOR_ID'),
    directory: env.MESOS_DIRECTORY,
    sandbox: env.MESOS_SANDBOX,
    checkpoint,
    recoveryTimeoutMs: duration(env, 'MESOS_RECOVERY_TIMEOUT', DEFAULT_RECOVERY_TIMEOUT),
    subscriptionBackoffMaxMs: duration(env, 'MESOS_SUBSCRIPTION_BACKOFF_MAX', DEFAULT_BACKOFF_MAX),
    shutdownGracePeriodMs: duration(env, 'MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD', DEFAULT_SHUTDOWN_GRACE),
    authToken: env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN || undefined,
    taskHost: env.TASK_HOST || undefined,
  });
}
