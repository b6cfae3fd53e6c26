// TaskStatus.container_status of TASK_RUNNING (docs/status-updates.md), as the Mesos Docker
// executor (src/docker/executor.cpp) fills it: one NetworkInfo, a copy of the task's first
// network_info when it has one, with the container's addresses (the IPv4 one, then the IPv6 one,
// whose protocol is set; IPv4 is the proto's default). A container without addresses of its own
// (host networking) gets none.
import type { ContainerAddress, EngineApi } from '../docker/engine-api';
import type { Logger } from '../logging/logger';
import type { ContainerStatus, IpAddress, NetworkInfo, TaskInfo } from '../mesos/types';

/** A bound on the inspect (the Mesos Docker executor's DOCKER_INSPECT_TIMEOUT). */
const INSPECT_MS = 5000;

/**
 * The container's own addresses, inspected as the Mesos Docker executor inspects them before its
 * TASK_RUNNING; none with host networking (nor none). A failed inspect only leaves them out.
 */
export async function inspectAddresses(engine: Pick<EngineApi, 'inspectContainer'>, containerId: string, networkMode: string, logger: Logger): Promise<ContainerAddress[]> {
  if (networkMode === 'host' || networkMode === 'none') return [];
  try {
    return (await engine.inspectContainer(containerId, { timeoutMs: INSPECT_MS })).addresses ?? [];
  } catch (err) {
    logger.warn('Could not read the container\'s addresses; TASK_RUNNING goes without them', { error: (err as Error).message });
    return [];
  }
}

/** Pure: the container_status for these addresses, undefined for none. */
export function containerStatusFor(task: TaskInfo, addresses: readonly ContainerAddress[]): ContainerStatus | undefined {
  if (addresses.length === 0) return undefined;
  const declared = task.container?.network_infos?.[0];
  const info: NetworkInfo = {};
  // Only the fields mesos.proto names: unknown ones echoed back would be dropped by the agent.
  if (declared?.name !== undefined) info.name = declared.name;
  if (declared?.groups !== undefined) info.groups = declared.groups;
  if (declared?.labels !== undefined) info.labels = declared.labels;
  if (declared?.port_mappings !== undefined) info.port_mappings = declared.port_mappings;
  info.ip_addresses = addresses.map((a): IpAddress => (a.family === 'IPv6' ? { protocol: 'IPv6', ip_address: a.ip } : { ip_address: a.ip }));
  return { network_infos: [info] };
}
