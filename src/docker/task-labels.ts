// The container's Docker labels, from `label` parameters (docs/containers.md): `k=v` split at the
// first `=`, entries without `=` ignored, a later duplicate key winning, as in the Go original's
// LabelsForTask. Separate from the create body because the lifecycle needs them on their own:
// SidecarDiscover and the labels named in SendDockerLabels.
import type { TaskInfo } from '../mesos/types';
import { parameterValues } from './docker-parameters';

/** Carries the container command; consumed by the executor, never put on the container. */
export const SHELL_COMMAND_LABEL = 'executor.ShellCommand';

/** Every `label` parameter, including executor.ShellCommand. */
export function taskLabelParameters(task: TaskInfo): Map<string, string> {
  const labels = new Map<string, string>();
  for (const entry of parameterValues(task, 'label')) {
    const eq = entry.indexOf('=');
    if (eq === -1) continue;
    labels.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return labels;
}

/**
 * The labels the container carries: the `label` parameters without executor.ShellCommand.
 * Never throws, so it is safe on a task that turns out to be invalid. Built with
 * Object.fromEntries so a key such as `__proto__` stays an ordinary own property.
 */
export function dockerLabels(task: TaskInfo): Record<string, string> {
  const labels = taskLabelParameters(task);
  labels.delete(SHELL_COMMAND_LABEL);
  return Object.fromEntries(labels);
}
