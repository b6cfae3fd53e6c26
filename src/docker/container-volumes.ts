// Volumes to Docker binds, `host_path:container_path[:ro]` (docs/containers.md). **(better)**
// The Go original dereferenced host_path unchecked and crashed on a Mesos volume that has none
// (an image or a `source` volume); such a task is invalid, with a message naming the volume.
import type { TaskInfo } from '../mesos/types';
import { TaskInvalidError } from './task-invalid-error';

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

// The bind syntax is colon-separated, so Docker cannot tell where such a path ends.
function checkNoColon(path: string, where: string): string {
  if (path.includes(':')) throw new TaskInvalidError(`${where} ${JSON.stringify(path)} contains ":", which a Docker bind cannot express`);
  return path;
}

export function bindsForTask(task: TaskInfo): string[] {
  const volumes: unknown = task.container?.volumes;
  if (volumes === undefined) return [];
  if (!Array.isArray(volumes)) throw new TaskInvalidError('container.volumes must be a list');
  return (volumes as unknown[]).map((item, index) => {
    const where = `container.volumes[${index}]`;
    if (typeof item !== 'object' || item === null) throw new TaskInvalidError(`${where} is not a volume object`);
    const volume = item as Record<string, unknown>;
    const containerPath = text(volume['container_path']);
    const hostPath = text(volume['host_path']);
    if (containerPath === undefined) {
      const known = hostPath === undefined ? '' : ` (host_path ${JSON.stringify(hostPath)})`;
      throw new TaskInvalidError(`${where}${known} has no container_path`);
    }
    const named = `${where} (container_path ${JSON.stringify(containerPath)})`;
    if (hostPath === undefined) throw new TaskInvalidError(`${named} has no host_path: only host-path volumes can be bound into a Docker container`);
    const bind = `${checkNoColon(hostPath, `${where}.host_path`)}:${checkNoColon(containerPath, `${where}.container_path`)}`;
    const mode = volume['mode'];
    // RW is mesos.proto's first enum value, so an absent mode means read-write.
    if (mode === undefined || mode === 'RW') return bind;
    if (mode === 'RO') return `${bind}:ro`;
    throw new TaskInvalidError(`${named} has mode ${JSON.stringify(mode)}; expected RW or RO`);
  });
}
