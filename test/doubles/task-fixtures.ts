// What a real Mesos agent hands a custom executor, as JSON (docs/status-updates.md,
// docs/containers.md). The agent encodes events with stout's jsonify(JSON::Protobuf), which writes
// every optional field that has a proto default even when nobody set it
// (3rdparty/stout/include/stout/protobuf.hpp, `json()`: "Field is set or has default"), but skips
// deprecated ones. So `shell: true`, `network: "HOST"`, `privileged: false`, `extract: true`,
// `type: "VALUE"` appear unasked, and a newer agent may add fields we have never heard of. These
// builders produce exactly that shape, so the executor is tested against what it will really read,
// not against the minimal JSON a hand-written test would send.
import type { AgentEvent, ExecutorInfo, FrameworkInfo, HealthCheck, KillPolicy, Resource, TaskInfo } from '../../src/mesos/types';

/** Ids shaped like real ones: framework `<master uuid>-<seq>`, agent `<master uuid>-S<n>`. */
export const FIXTURE_IDS = {
  frameworkId: '3c7f2a51-8e0d-4b9a-9d55-6f1c2b7e4a10-0001',
  agentId: '3c7f2a51-8e0d-4b9a-9d55-6f1c2b7e4a10-S3',
  executorId: 'sidecar-executor-web-1',
  containerId: '9b1e4c2d-5f6a-4e3b-8c7d-0a1b2c3d4e5f',
} as const;

/** DurationInfo is `required int64 nanoseconds`; the agent writes int64 as a JSON number. */
export function killPolicy(gracePeriodSec: number): KillPolicy {
  return { grace_period: { nanoseconds: Math.round(gracePeriodSec * 1e9) } };
}

/**
 * Unreserved resources as an agent reports them to executors: the pre-refinement `role: "*"`
 * plus `allocation_info` (MULTI_ROLE agents, Mesos >= 1.2; the agent logs them as
 * "cpus(allocated: *)").
 */
export function scalarResource(name: string, value: number): Resource {
  return { name, type: 'SCALAR', scalar: { value }, role: '*', allocation_info: { role: '*' } } as Resource;
}

export function portsResource(ports: number[]): Resource {
  const range = [...new Set(ports)].sort((a, b) => a - b).map((port) => ({ begin: port, end: port }));
  return { name: 'ports', type: 'RANGES', ranges: { range }, role: '*', allocation_info: { role: '*' } } as Resource;
}

function variables(env: Record<string, string>): { name: string; type: 'VALUE'; value: string }[] {
  // Environment.Variable.type has `[default = VALUE]`, so the agent always writes it.
  return Object.entries(env).map(([name, value]) => ({ name, type: 'VALUE', value }));
}

export interface ExecutorInfoOptions { executorId?: string; frameworkId?: string; env?: Record<string, string> }

/** The custom executor's own ExecutorInfo, as the agent repeats it in SUBSCRIBED and in TaskInfo. */
export function executorInfo(options: ExecutorInfoOptions = {}): ExecutorInfo {
  const info = {
    executor_id: { value: options.executorId ?? FIXTURE_IDS.executorId },
    framework_id: { value: options.frameworkId ?? FIXTURE_IDS.frameworkId },
    command: {
      // CommandInfo.shell is `[default = true]`; a URI's `extract` is `[default = true]`.
      shell: true,
      value: '/opt/mesos/sidecar-executor',
      uris: [{ value: 'file:///opt/mesos/executor-environment.sh', extract: true, executable: false }],
      environment: { variables: variables(options.env ?? {}) },
    },
    name: 'sidecar-executor',
    resources: [scalarResource('cpus', 0.1), scalarResource('mem', 32)],
  };
  return info as ExecutorInfo;
}

export interface FrameworkInfoOptions { frameworkId?: string; capabilities?: { type: string }[]; checkpoint?: boolean }

/** FrameworkInfo as SUBSCRIBED carries it ("The 'id' field in the 'framework_info' will be set"). */
export function frameworkInfo(options: FrameworkInfoOptions = {}): FrameworkInfo {
  const info: FrameworkInfo & Record<string, unknown> = {
    user: 'root',
    name: 'Singularity',
    id: { value: options.frameworkId ?? FIXTURE_IDS.frameworkId },
    failover_timeout: 604800, // Singularity asks for a week; the proto default would be 0.
    checkpoint: options.checkpoint ?? true,
    hostname: 'singularity-1.example.internal',
  };
  if (options.capabilities && options.capabilities.length > 0) info.capabilities = options.capabilities;
  return info;
}

export interface AgentInfoOptions { agentId?: string; hostname?: string }

/** AgentInfo: `port` has `[default = 5051]`, so it is always written. */
export function agentInfo(options: AgentInfoOptions = {}): { hostname: string; port: number; id: { value: string }; resources: Resource[] } {
  return {
    hostname: options.hostname ?? 'agent-3.example.internal',
    port: 5051,
    id: { value: options.agentId ?? FIXTURE_IDS.agentId },
    resources: [scalarResource('cpus', 8), scalarResource('mem', 15360), portsResource([31000, 32000])],
  };
}

export interface PortOption { containerPort: number; hostPort: number; protocol?: string }
export interface VolumeOption { containerPath: string; hostPath?: string; mode?: 'RW' | 'RO' }

export interface DockerTaskOptions {
  image: string;
  taskId: string;
  name?: string;
  /** Becomes the docker parameter `label` `executor.ShellCommand=<cmd>` (docs/containers.md). */
  cmd?: string;
  /** Docker parameters `env` `NAME=value`. */
  env?: Record<string, string>;
  /** Docker parameters `label` `key=value` (ServiceName, EnvironmentName, SidecarDiscover ...). */
  labels?: Record<string, string>;
  /** TaskInfo.labels, which Mesos itself never interprets. */
  taskLabels?: Record<string, string>;
  /** DockerInfo.PortMapping has both ports `required`, so a real agent always sends both. */
  ports?: PortOption[];
  volumes?: VolumeOption[];
  network?: 'HOST' | 'BRIDGE' | 'NONE' | 'USER';
  /** The `network_infos` name for `USER` networks. */
  networkName?: string;
  killPolicyGraceSec?: number;
  forcePullImage?: boolean;
  cpus?: number;
  memMb?: number;
  /** Extra docker parameters, e.g. `{ key: 'cap-add', value: 'NET_ADMIN' }`. */
  parameters?: { key: string; value: string }[];
  /** The executor's command environment (the first env entries the container gets). */
  executorEnv?: Record<string, string>;
  /** TaskInfo.health_check, completed with the proto's defaults as the agent writes them. */
  healthCheck?: HealthCheck;
  /** TaskInfo.max_completion_time, in seconds. */
  maxCompletionSec?: number;
  executorId?: string;
  frameworkId?: string;
  agentId?: string;
}

/**
 * A TaskInfo for a Docker task run by our custom executor. The master requires "at least one (but
 * not both) of CommandInfo or ExecutorInfo" (src/master/validation.cpp, task validation), so a
 * task for a custom executor carries `executor` (whose `command.shell` is the defaulted `true`)
 * and no task-level `command`.
 */
export function dockerTaskInfo(options: DockerTaskOptions): TaskInfo {
  const parameters: { key: string; value: string }[] = [];
  for (const [key, value] of Object.entries(options.labels ?? {})) parameters.push({ key: 'label', value: `${key}=${value}` });
  if (options.cmd !== undefined) parameters.push({ key: 'label', value: `executor.ShellCommand=${options.cmd}` });
  for (const [key, value] of Object.entries(options.env ?? {})) parameters.push({ key: 'env', value: `${key}=${value}` });
  parameters.push(...(options.parameters ?? []));

  const network = options.network ?? 'HOST';
  const docker: Record<string, unknown> = {
    image: options.image,
    network, // DockerInfo.network has `[default = HOST]`: written even when the scheduler left it out.
    privileged: false, // `[default = false]`
    force_pull_image: options.forcePullImage ?? false,
    parameters,
  };
  const ports = options.ports ?? [];
  if (ports.length > 0) {
    docker.port_mappings = ports.map((p) => {
      const mapping: Record<string, unknown> = { host_port: p.hostPort, container_port: p.containerPort };
      if (p.protocol !== undefined) mapping.protocol = p.protocol;
      return mapping;
    });
  }
  const container: Record<string, unknown> = { type: 'DOCKER', docker };
  if (options.volumes && options.volumes.length > 0) {
    container.volumes = options.volumes.map((v) => {
      // Volume.mode and container_path are `required`; host_path is optional.
      const volume: Record<string, unknown> = { mode: v.mode ?? 'RW', container_path: v.containerPath };
      if (v.hostPath !== undefined) volume.host_path = v.hostPath;
      return volume;
    });
  }
  if (network === 'USER') container.network_infos = [{ name: options.networkName ?? 'user-net', ip_addresses: [{ protocol: 'IPv4' }] }];

  const resources = [scalarResource('cpus', options.cpus ?? 0.5), scalarResource('mem', options.memMb ?? 256)];
  const hostPorts = ports.map((p) => p.hostPort).filter((p) => p > 0);
  if (hostPorts.length > 0) resources.push(portsResource(hostPorts));

  const task: TaskInfo = {
    name: options.name ?? options.taskId,
    task_id: { value: options.taskId },
    agent_id: { value: options.agentId ?? FIXTURE_IDS.agentId },
    resources,
    executor: executorInfo({ executorId: options.executorId, frameworkId: options.frameworkId, env: options.executorEnv }),
    container: container as TaskInfo['container'],
    // Not in our mesos.proto: stands for whatever a newer agent adds. The agent's parser ignores
    // unknown fields, and so must the executor.
    x_field_from_a_newer_mesos: { added_in: '9.9', values: [1, 2, 3] },
  };
  if (options.killPolicyGraceSec !== undefined) task.kill_policy = killPolicy(options.killPolicyGraceSec);
  if (options.healthCheck !== undefined) task.health_check = healthCheckAsSent(options.healthCheck);
  if (options.maxCompletionSec !== undefined) task.max_completion_time = { nanoseconds: Math.round(options.maxCompletionSec * 1e9) };
  if (options.taskLabels) task.labels = { labels: Object.entries(options.taskLabels).map(([key, value]) => ({ key, value })) };
  return task;
}

/**
 * A HealthCheck as the agent writes it: every field with a `[default = ...]` is present (delay 15,
 * interval 10, timeout 20, 3 consecutive failures, grace 10, `protocol: "IPv4"`, `shell: true`).
 */
export function healthCheckAsSent(check: HealthCheck): HealthCheck {
  const sent: HealthCheck = {
    delay_seconds: 15, interval_seconds: 10, timeout_seconds: 20, consecutive_failures: 3, grace_period_seconds: 10, ...check,
  };
  if (check.http) sent.http = { protocol: 'IPv4', ...check.http };
  if (check.tcp) sent.tcp = { protocol: 'IPv4', ...check.tcp };
  if (check.command) sent.command = { shell: true, ...check.command };
  return sent;
}

/** The LAUNCH event around a TaskInfo. */
export function launchEvent(task: TaskInfo): AgentEvent {
  return { type: 'LAUNCH', launch: { task } };
}
