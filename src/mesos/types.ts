// The subset of apache/mesos include/mesos/v1/{mesos,executor/executor}.proto that we read or
// write, in the agent's JSON encoding (proto field names, enums as strings, bytes as base64).
// Everything the agent may leave out is optional here, and unknown fields are tolerated.

export interface Value { value: string }
export interface Label { key: string; value?: string }
export interface Labels { labels?: Label[] }
export interface Parameter { key: string; value: string }
/** int64 travels as a JSON number from the agent, but a string is valid proto3 JSON too. */
export interface DurationInfo { nanoseconds: number | string }
export interface KillPolicy { grace_period?: DurationInfo }

export interface EnvironmentVariable { name: string; type?: 'UNKNOWN' | 'VALUE' | 'SECRET'; value?: string; secret?: unknown }
export interface CommandInfo {
  value?: string;
  arguments?: string[];
  shell?: boolean;
  environment?: { variables?: EnvironmentVariable[] };
  uris?: unknown[];
  user?: string;
}

export interface PortMapping { host_port?: number; container_port?: number; protocol?: string }
export interface DockerInfo {
  image?: string;
  network?: 'HOST' | 'BRIDGE' | 'NONE' | 'USER' | string;
  port_mappings?: PortMapping[];
  privileged?: boolean;
  parameters?: Parameter[];
  force_pull_image?: boolean;
  volume_driver?: string;
}
export interface Volume { mode?: 'RW' | 'RO' | string; container_path?: string; host_path?: string; image?: unknown; source?: unknown }
export interface IpAddress { protocol?: 'IPv4' | 'IPv6'; ip_address?: string }
export interface NetworkInfo { name?: string; ip_addresses?: IpAddress[]; groups?: string[]; labels?: Labels; port_mappings?: PortMapping[] }
/** TaskStatus.container_status: what the executor knows of the task's container. */
export interface ContainerStatus { network_infos?: NetworkInfo[] }

/** HealthCheck: run by the executor (apache/mesos docs/health-checks.md); times in seconds, doubles. */
export interface HealthCheck {
  type?: 'UNKNOWN' | 'COMMAND' | 'HTTP' | 'TCP' | string;
  delay_seconds?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
  consecutive_failures?: number;
  grace_period_seconds?: number;
  command?: CommandInfo;
  http?: { protocol?: 'IPv4' | 'IPv6' | string; scheme?: string; port?: number; path?: string; statuses?: number[] };
  tcp?: { protocol?: 'IPv4' | 'IPv6' | string; port?: number };
}
export interface ContainerInfo {
  type?: 'DOCKER' | 'MESOS' | string;
  volumes?: Volume[];
  hostname?: string;
  docker?: DockerInfo;
  network_infos?: NetworkInfo[];
}

export interface Resource { name: string; type?: string; scalar?: { value: number }; ranges?: { range?: { begin: number; end: number }[] }; role?: string }

export interface TaskInfo {
  name?: string;
  task_id: Value;
  agent_id?: Value;
  resources?: Resource[];
  executor?: unknown;
  command?: CommandInfo;
  container?: ContainerInfo;
  kill_policy?: KillPolicy;
  labels?: Labels;
  data?: string;
  health_check?: HealthCheck;
  /** The task is failed when it runs longer than this from its launch. */
  max_completion_time?: DurationInfo;
  [unknown: string]: unknown;
}

export interface FrameworkInfo { id?: Value; name?: string; user?: string; capabilities?: { type?: string }[]; checkpoint?: boolean }
export interface ExecutorInfo { executor_id?: Value; framework_id?: Value; command?: CommandInfo; name?: string }

export type TaskState =
  | 'TASK_STARTING' | 'TASK_RUNNING' | 'TASK_KILLING' | 'TASK_FINISHED' | 'TASK_FAILED'
  | 'TASK_KILLED' | 'TASK_ERROR' | 'TASK_LOST' | 'TASK_DROPPED' | 'TASK_GONE';

export type TaskReason =
  | 'REASON_CONTAINER_LAUNCH_FAILED' | 'REASON_TASK_INVALID' | 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED'
  | 'REASON_EXECUTOR_TERMINATED' | 'REASON_TASK_UNKNOWN' | 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT'
  | 'REASON_CONTAINER_LIMITATION_MEMORY' | 'REASON_TASK_KILLED_DURING_LAUNCH' | 'REASON_MAX_COMPLETION_TIME_REACHED';

export interface TaskStatus {
  task_id: Value;
  state: TaskState;
  message?: string;
  source: 'SOURCE_EXECUTOR';
  reason?: TaskReason;
  agent_id?: Value;
  executor_id?: Value;
  timestamp: number;
  /** base64 of 16 random bytes (RFC 4122 version 4). */
  uuid: string;
  healthy?: boolean;
  container_status?: ContainerStatus;
}

export interface Update { status: TaskStatus }

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE',
]);

export type AgentEvent =
  | { type: 'SUBSCRIBED'; subscribed: { executor_info?: ExecutorInfo; framework_info?: FrameworkInfo; agent_info?: { hostname?: string; id?: Value }; container_id?: unknown } }
  | { type: 'LAUNCH'; launch: { task: TaskInfo } }
  | { type: 'LAUNCH_GROUP'; launch_group?: unknown }
  | { type: 'KILL'; kill: { task_id: Value; kill_policy?: KillPolicy } }
  | { type: 'ACKNOWLEDGED'; acknowledged: { task_id: Value; uuid: string } }
  | { type: 'MESSAGE'; message: { data: string } }
  | { type: 'SHUTDOWN' }
  | { type: 'ERROR'; error: { message: string } }
  | { type: 'HEARTBEAT' };

export interface Call {
  type: 'SUBSCRIBE' | 'UPDATE' | 'MESSAGE';
  executor_id: Value;
  framework_id: Value;
  subscribe?: { unacknowledged_tasks: TaskInfo[]; unacknowledged_updates: Update[] };
  update?: Update;
  message?: { data: string };
}
