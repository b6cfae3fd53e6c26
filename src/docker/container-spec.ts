// TaskInfo to the Docker create body (docs/containers.md): one pure function of explicit inputs, so
// every rule is tested without Docker (pure code and I/O live in separate files). It checks
// the task first and throws TaskInvalidError for anything it cannot run, which the lifecycle
// reports as TASK_FAILED / REASON_TASK_INVALID before pulling or creating anything
// (docs/status-updates.md).
import type { TaskInfo } from '../mesos/types';
import { parseBool } from '../config/parse-bool';
import type { CreateBody } from './engine-api';
import { containerNameForTask } from './container-name';
import { envForTask } from './container-env';
import { limitsForTask } from './container-limits';
import { networkModeForTask } from './container-network';
import { portsForTask } from './container-ports';
import { bindsForTask } from './container-volumes';
import { parameterValues } from './docker-parameters';
import { parseImageRef } from './image-ref';
import { splitShellWords } from './shell-words';
import { dockerLabels, SHELL_COMMAND_LABEL, taskLabelParameters } from './task-labels';
import { TaskInvalidError } from './task-invalid-error';

export interface SpecContext {
  forceCpuLimit: boolean;
  forceMemoryLimit: boolean;
  useCpuShares: boolean;
  /** The host's CPU count, for CpuShares. */
  hostCpus: number;
  /** TASK_HOST, the agent's name as the scheduler knows it (MESOS_HOSTNAME). */
  taskHost: string | undefined;
  /** Sidecar seed hostnames when SeedSidecar fetched them; undefined leaves SIDECAR_SEEDS out. */
  sidecarSeeds: string[] | undefined;
  /** ShellCommandQuoting: split executor.ShellCommand with shell quoting, not on every space. */
  shellCommandQuoting?: boolean;
}

export interface ContainerSpec {
  name: string;
  image: string;
  body: CreateBody;
  /** The container's labels (body.Labels): the `label` parameters without executor.ShellCommand. */
  labels: Record<string, string>;
  /** False only when the SidecarDiscover label parses (ParseBool) to false: no health checks, no draining. */
  sidecarDiscover: boolean;
  forcePull: boolean;
  /** Things the operator should read in the executor's log; none stops the task. */
  warnings: string[];
}

function checkedImage(task: TaskInfo): string {
  const container = task.container;
  if (container === undefined || container === null) {
    throw new TaskInvalidError('the task has no container: sidecar-executor runs each task as a Docker container and needs container.docker.image');
  }
  if (container.type !== undefined && container.type !== 'DOCKER') {
    throw new TaskInvalidError(`container.type is ${JSON.stringify(container.type)}; sidecar-executor runs only DOCKER containers`);
  }
  const docker = container.docker;
  if (docker === undefined || docker === null) throw new TaskInvalidError('the task has no container.docker, so there is no image to run');
  const image: unknown = docker.image;
  if (image === undefined || image === null) throw new TaskInvalidError('container.docker has no image');
  if (typeof image !== 'string') throw new TaskInvalidError('container.docker.image must be a string');
  if (image === '') throw new TaskInvalidError('container.docker.image is empty');
  const parsed = parseImageRef(image);
  if (!parsed.ok) throw new TaskInvalidError(`container.docker.image ${JSON.stringify(image)} is not a valid Docker image reference: ${parsed.reason}`);
  return image;
}

/**
 * The container's command from executor.ShellCommand. By default exactly as the Go original,
 * `strings.Split(cmd, " ")`: every single space separates words, quotes and backslashes are
 * literal, tasks in production rely on it. With ShellCommandQuoting, shell quoting: `sh -c "echo
 * a b"` is 3 words, and an unbalanced quote makes the task invalid.
 */
function commandFrom(shellCommand: string | undefined, quoting: boolean, warnings: string[]): string[] | undefined {
  if (shellCommand === undefined) return undefined;
  if (!quoting) return shellCommand.trim() === '' ? emptyCommand(warnings) : shellCommand.split(' ');
  let words: string[];
  try {
    words = splitShellWords(shellCommand);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TaskInvalidError(`label ${SHELL_COMMAND_LABEL} ${JSON.stringify(shellCommand)} cannot be split into words (ShellCommandQuoting): ${reason}`);
  }
  if (words.length === 0) return emptyCommand(warnings);
  return words;
}

function emptyCommand(warnings: string[]): undefined {
  warnings.push(`label ${SHELL_COMMAND_LABEL} is empty; the image's own command runs`);
  return undefined;
}

function ignoredFieldWarnings(task: TaskInfo): string[] {
  const docker = task.container?.docker;
  const warnings: string[] = [];
  // Neither was ever honoured by the Go original; say so rather than run something else silently.
  if (docker?.privileged === true) warnings.push('container.docker.privileged is not supported and is ignored');
  if (typeof docker?.volume_driver === 'string' && docker.volume_driver !== '') {
    warnings.push('container.docker.volume_driver is ignored; use a volume-driver parameter');
  }
  return warnings;
}

export function taskInfoToContainerSpec(task: TaskInfo, context: SpecContext): ContainerSpec {
  const taskId: unknown = task.task_id?.value;
  if (typeof taskId !== 'string' || taskId === '') throw new TaskInvalidError('the task has no task_id');
  const image = checkedImage(task);
  const warnings = ignoredFieldWarnings(task);

  const labelParameters = taskLabelParameters(task);
  const cmd = commandFrom(labelParameters.get(SHELL_COMMAND_LABEL), context.shellCommandQuoting === true, warnings);
  const labels = dockerLabels(task);

  const ports = portsForTask(task);
  const binds = bindsForTask(task);
  const networkMode = networkModeForTask(task);
  const env = envForTask(task, { labels: labelParameters, image, portEnv: ports.portEnv, taskHost: context.taskHost, sidecarSeeds: context.sidecarSeeds });
  const limits = limitsForTask(task, context);
  warnings.push(...env.warnings, ...limits.warnings);

  const capAdd = parameterValues(task, 'cap-add');
  const capDrop = parameterValues(task, 'cap-drop');
  // The Go original let the last volume-driver parameter win; so do we.
  const volumeDriver = parameterValues(task, 'volume-driver').at(-1);

  // Empty fields are left out rather than sent empty, which Docker treats the same.
  const body: CreateBody = { Image: image, Env: env.env, Labels: { ...labels }, HostConfig: { NetworkMode: networkMode } };
  if (cmd !== undefined) body.Cmd = cmd;
  if (Object.keys(ports.exposedPorts).length > 0) body.ExposedPorts = ports.exposedPorts;
  if (binds.length > 0) body.HostConfig.Binds = binds;
  if (Object.keys(ports.portBindings).length > 0) body.HostConfig.PortBindings = ports.portBindings;
  if (capAdd.length > 0) body.HostConfig.CapAdd = capAdd;
  if (capDrop.length > 0) body.HostConfig.CapDrop = capDrop;
  if (volumeDriver !== undefined && volumeDriver !== '') body.HostConfig.VolumeDriver = volumeDriver;
  Object.assign(body.HostConfig, limits.limits);

  const discover: string | undefined = labels['SidecarDiscover'];
  return {
    name: containerNameForTask(taskId),
    image,
    body,
    labels,
    sidecarDiscover: discover === undefined || parseBool(discover) !== false,
    forcePull: task.container?.docker?.force_pull_image === true,
    warnings,
  };
}
