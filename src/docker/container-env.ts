// The container's environment, in the order docs/containers.md gives (and the Go original's
// EnvForTask produced, so a later duplicate overrides an earlier one the same way):
// ExecutorInfo command environment, `env` parameters, SIDECAR_SEEDS, MESOS_PORT_*,
// MESOS_HOSTNAME, SERVICE_NAME, ENVIRONMENT_NAME, SERVICE_VERSION.
import type { TaskInfo } from '../mesos/types';
import { parameterValues } from './docker-parameters';
import { imageTag } from './image-ref';

export interface EnvInputs {
  /** The `label` parameters (ServiceName and EnvironmentName are read from them). */
  labels: ReadonlyMap<string, string>;
  image: string;
  /** From the port plan, in mapping order. */
  portEnv: readonly string[];
  taskHost: string | undefined;
  sidecarSeeds: readonly string[] | undefined;
}

/** `task.executor.command.environment.variables`; TaskInfo.executor is untyped in our Mesos types. */
function executorVariables(task: TaskInfo): unknown[] {
  const executor = task.executor as { command?: { environment?: { variables?: unknown } } } | undefined;
  const variables = typeof executor === 'object' && executor !== null ? executor.command?.environment?.variables : undefined;
  return Array.isArray(variables) ? (variables as unknown[]) : [];
}

/**
 * `NAME=value` for each executor variable. **(better)** The Go original dereferenced the value
 * unchecked and crashed on a variable without one (a Mesos SECRET-type variable); such a
 * variable is skipped with a warning that names it and never shows a value.
 */
function executorEnv(task: TaskInfo, warnings: string[]): string[] {
  const env: string[] = [];
  for (const item of executorVariables(task)) {
    const { name, value, type } = (typeof item === 'object' && item !== null ? item : {}) as { name?: unknown; value?: unknown; type?: unknown };
    if (typeof name !== 'string' || name === '') {
      warnings.push('an executor environment variable without a name was skipped');
    } else if (typeof value !== 'string') {
      const kind = typeof type === 'string' ? ` (type ${type})` : '';
      warnings.push(`executor environment variable ${name}${kind} has no value and is not passed to the container`);
    } else {
      env.push(`${name}=${value}`);
    }
  }
  return env;
}

export function envForTask(task: TaskInfo, inputs: EnvInputs): { env: string[]; warnings: string[] } {
  const warnings: string[] = [];
  const env = executorEnv(task, warnings);
  // Verbatim, as `docker run -e` would take them.
  env.push(...parameterValues(task, 'env'));
  if (inputs.sidecarSeeds !== undefined) env.push(`SIDECAR_SEEDS=${inputs.sidecarSeeds.join(',')}`);
  env.push(...inputs.portEnv);
  // The container's own hostname is its id; services need the agent's name to advertise.
  if (inputs.taskHost !== undefined && inputs.taskHost !== '') env.push(`MESOS_HOSTNAME=${inputs.taskHost}`);
  const serviceName = inputs.labels.get('ServiceName');
  if (serviceName !== undefined) env.push(`SERVICE_NAME=${serviceName}`);
  else warnings.push('no ServiceName label: SERVICE_NAME is not set');
  const environmentName = inputs.labels.get('EnvironmentName');
  if (environmentName !== undefined) env.push(`ENVIRONMENT_NAME=${environmentName}`);
  else warnings.push('no EnvironmentName label: ENVIRONMENT_NAME is not set');
  const tag = imageTag(inputs.image);
  if (tag !== undefined) env.push(`SERVICE_VERSION=${tag}`);
  return { env, warnings };
}
