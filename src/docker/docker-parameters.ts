// `container.docker.parameters` are `docker run` flags as key/value pairs (docs/containers.md). The
// Go original matched keys exactly (`label`, `env`, `cap-add`, `cap-drop`, `volume-driver`) and
// kept the order they were given in; both matter, since env order and "last one wins" follow it.
import type { TaskInfo } from '../mesos/types';

/** The values of every parameter whose key is exactly `key`, in task order. */
export function parameterValues(task: TaskInfo, key: string): string[] {
  const parameters: unknown = task.container?.docker?.parameters;
  if (!Array.isArray(parameters)) return [];
  const values: string[] = [];
  for (const parameter of parameters as unknown[]) {
    if (typeof parameter !== 'object' || parameter === null) continue;
    const { key: k, value } = parameter as { key?: unknown; value?: unknown };
    if (k === key && typeof value === 'string') values.push(value);
  }
  return values;
}
