// Port mappings to EXPOSE, host bindings and MESOS_PORT_* variables (docs/containers.md).
// A port of 0 counts as absent: host_port and container_port are required uint32s in
// mesos.proto, so an agent sends 0 for "not set" and the Go original (mesos-go v1, plain
// uint32s) skipped 0 the same way; an expose-only mapping arrives as `host_port: 0`.
import type { PortMapping, TaskInfo } from '../mesos/types';
import { TaskInvalidError } from './task-invalid-error';

export interface PortPlan {
  exposedPorts: Record<string, Record<string, never>>;
  portBindings: Record<string, { HostPort: string }[]>;
  /** `MESOS_PORT_<container>=<host>`, in mapping order, for the container env. */
  portEnv: string[];
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

function portNumber(mapping: PortMapping, field: 'host_port' | 'container_port', where: string): number | undefined {
  const raw: unknown = mapping[field];
  if (raw === undefined || raw === null || raw === 0 || raw === '0') return undefined;
  // proto3 JSON allows a uint32 as a decimal string; the agent sends numbers.
  const port = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TaskInvalidError(`${where}.${field} ${JSON.stringify(raw)} is not a port number in 1..65535`);
  }
  return port;
}

/**
 * `"tcp,udp"`, `"tcp, udp"` (the Go original's `,\s?` split), empty or absent meaning tcp.
 * Lowercased and checked, since Docker knows only these three and its error would not name
 * the mapping.
 */
function protocols(mapping: PortMapping, where: string): string[] {
  const raw: unknown = mapping.protocol;
  if (raw !== undefined && typeof raw !== 'string') throw new TaskInvalidError(`${where}.protocol must be a string`);
  const names = [...new Set((raw ?? '').split(',').map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))];
  for (const name of names) {
    if (!PROTOCOLS.has(name)) {
      throw new TaskInvalidError(`${where}.protocol ${JSON.stringify(raw)} names unknown protocol "${name}" (expected tcp, udp or sctp)`);
    }
  }
  return names.length === 0 ? ['tcp'] : names;
}

export function portsForTask(task: TaskInfo): PortPlan {
  const plan: PortPlan = { exposedPorts: {}, portBindings: {}, portEnv: [] };
  const mappings: unknown = task.container?.docker?.port_mappings;
  if (mappings === undefined) return plan;
  if (!Array.isArray(mappings)) throw new TaskInvalidError('container.docker.port_mappings must be a list');
  (mappings as unknown[]).forEach((item, index) => {
    const where = `container.docker.port_mappings[${index}]`;
    if (typeof item !== 'object' || item === null) throw new TaskInvalidError(`${where} is not a port mapping object`);
    const mapping = item as PortMapping;
    const containerPort = portNumber(mapping, 'container_port', where);
    const hostPort = portNumber(mapping, 'host_port', where);
    const protos = protocols(mapping, where);
    if (containerPort === undefined) {
      if (hostPort !== undefined) throw new TaskInvalidError(`${where} binds host_port ${hostPort} but has no container_port`);
      return;
    }
    for (const proto of protos) {
      const key = `${containerPort}/${proto}`;
      plan.exposedPorts[key] = {};
      if (hostPort === undefined) continue;
      // Docker binds one container port to several host ports; the Go original kept only the
      // last mapping, silently dropping the others.
      const bindings = (plan.portBindings[key] ??= []);
      if (!bindings.some((b) => b.HostPort === String(hostPort))) bindings.push({ HostPort: String(hostPort) });
    }
    if (hostPort !== undefined) plan.portEnv.push(`MESOS_PORT_${containerPort}=${hostPort}`);
  });
  return plan;
}
