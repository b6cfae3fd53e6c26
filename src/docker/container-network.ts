// Mesos DockerInfo.network to Docker's NetworkMode (docs/containers.md). HOST is mesos.proto's
// default, so an absent network is host networking, as the agent itself would run it.
import type { TaskInfo } from '../mesos/types';
import { TaskInvalidError } from './task-invalid-error';

function networkName(info: unknown): string | undefined {
  if (typeof info !== 'object' || info === null) return undefined;
  const name = (info as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

export function networkModeForTask(task: TaskInfo): string {
  const network: unknown = task.container?.docker?.network;
  switch (network) {
    case undefined:
    case 'HOST':
      return 'host';
    case 'BRIDGE':
      return 'default';
    case 'NONE':
      return 'none';
    case 'USER': {
      // **(better)** The Go original ran USER tasks on the default bridge, silently ignoring
      // the network the framework asked for. The Docker containerizer attaches a container to
      // one user network, so the first named network_info is the one.
      const infos: unknown = task.container?.network_infos;
      const name = Array.isArray(infos) ? (infos as unknown[]).map(networkName).find((n) => n !== undefined) : undefined;
      if (name === undefined) throw new TaskInvalidError('container.docker.network is USER but container.network_infos names no network');
      return name;
    }
    default:
      throw new TaskInvalidError(`container.docker.network ${JSON.stringify(network)} is not one of HOST, BRIDGE, NONE or USER`);
  }
}
