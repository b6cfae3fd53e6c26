// What the executor logs about a container it is about to create, in the Go original's words
// (README: Logs): the Docker Environment banner, the limits set, and with Debug the TaskInfo and
// the final create body. Secret values never: a variable named like a secret shows [REDACTED]
// (a vault:// reference is no secret; its value is resolved later and never logged).
import { isSecretVariable } from '../config/startup-log';
import type { ContainerSpec } from '../docker/container-spec';
import type { CreateBody } from '../docker/engine-api';
import type { Logger } from '../logging/logger';
import type { TaskInfo } from '../mesos/types';

/** `NAME=value`, or `NAME=[REDACTED]` when the name looks like a secret's. Pure. */
export function redactedEnvEntry(entry: string): string {
  const eq = entry.indexOf('=');
  if (eq < 0) return entry;
  const name = entry.slice(0, eq);
  return isSecretVariable(name) && !entry.slice(eq + 1).startsWith('vault://') ? `${name}=[REDACTED]` : entry;
}

/** The create body as it may be shown: environment values of secrets redacted. Pure. */
export function redactedCreateBody(body: CreateBody): CreateBody {
  return { ...body, Env: body.Env.map(redactedEnvEntry) };
}

/** The TaskInfo as it may be shown: executor environment and `env` parameters redacted. Pure. */
export function redactedTaskInfo(task: TaskInfo): TaskInfo {
  const copy = JSON.parse(JSON.stringify(task)) as TaskInfo & {
    executor?: { command?: { environment?: { variables?: { name?: string; value?: string }[] } } };
    container?: { docker?: { parameters?: { key?: string; value?: string }[] } };
  };
  for (const variable of copy.executor?.command?.environment?.variables ?? []) {
    if (typeof variable.name === 'string' && typeof variable.value === 'string') {
      variable.value = redactedEnvEntry(`${variable.name}=${variable.value}`).slice(variable.name.length + 1);
    }
  }
  for (const parameter of copy.container?.docker?.parameters ?? []) {
    if (parameter.key === 'env' && typeof parameter.value === 'string') parameter.value = redactedEnvEntry(parameter.value);
  }
  return copy;
}

export function logContainerSettings(log: Logger, task: TaskInfo, spec: ContainerSpec): void {
  log.debug(`Mesos TaskInfo: ${JSON.stringify(redactedTaskInfo(task))}`);
  log.info('Docker Environment --------------------');
  for (const entry of spec.body.Env) log.info(` * ${redactedEnvEntry(entry)}`);
  log.info('---------------------------------------');
  const host = spec.body.HostConfig;
  if (host.CpuQuota !== undefined) log.info(`CPU limit set [HostConfig.CPUQuota=${host.CpuQuota}, HostConfig.CPUPeriod=${host.CpuPeriod}]`);
  if (host.CpuShares !== undefined) log.info(`CPU shares set [HostConfig.CPUShares=${host.CpuShares}]`);
  if (host.Memory !== undefined) log.info(`Memory limit set to ${Math.round(host.Memory / 1048576)}MB [HostConfig.Memory=${host.Memory}]`);
  log.debug(`Final config: ${JSON.stringify({ name: spec.name, ...redactedCreateBody(spec.body) })}`);
}
